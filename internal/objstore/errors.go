package objstore

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
)

// S3Error is an error answer from S3 (or an S3-compatible server). Its
// message names the operation and URI, then reads as AWS Data Pipeline's
// task runner reports S3 failures (spec §9.4), so that what a user
// searches for finds the same answers:
//
//	GetObject s3://bucket/key: Status Code: 403, AWS Service: Amazon S3, AWS Request ID: 4442587FB7D0A2F9, AWS Error Code: AccessDenied, AWS Error Message: Access Denied
//
// Operations are named as the S3 API names them (GetObject, HeadObject,
// ListObjectsV2, PutObject even when the upload went in parts), which is
// also how CloudTrail and IAM policies name them.
//
// It satisfies errors.Is(err, fs.ErrNotExist) when the object or its
// bucket does not exist, and errors.Is(err, fs.ErrPermission) for a 403.
// Unwrap gives the SDK's error, for errors.As with smithy.APIError.
type S3Error struct {
	Op         string // S3 operation, such as "GetObject"
	URI        string // s3://bucket/key
	StatusCode int    // HTTP status
	RequestID  string // x-amz-request-id; empty if the answer had none
	HostID     string // x-amz-id-2 (S3 Extended Request ID); empty if none
	Code       string // AWS error code, such as "NoSuchKey"; empty if none
	Message    string // AWS error message; empty if none
	Err        error  // the SDK's error
}

func (e *S3Error) Error() string {
	// AWS's Java SDK writes "null" for what an answer lacked (spec §9.4:
	// "AWS Error Code: null, AWS Error Message: Forbidden", the answer to
	// a HEAD, which has no body), and the status text for a missing
	// message.
	code, msg, id := e.Code, e.Message, e.RequestID
	if code == "" {
		code = "null"
	}
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	if id == "" {
		id = "null"
	}
	s := fmt.Sprintf("%s %s: Status Code: %d, AWS Service: Amazon S3, AWS Request ID: %s, AWS Error Code: %s, AWS Error Message: %s",
		e.Op, e.URI, e.StatusCode, id, code, msg)
	if e.HostID != "" {
		s += ", S3 Extended Request ID: " + e.HostID
	}
	return s
}

func (e *S3Error) Unwrap() error { return e.Err }

// notFoundCodes are the codes S3 answers a missing object with: GetObject
// says NoSuchKey, HeadObject (no body) NotFound, and either says
// NoSuchBucket when the bucket is missing too, in which case the object
// is just as missing.
var notFoundCodes = map[string]bool{"": true, "NoSuchKey": true, "NotFound": true, "NoSuchBucket": true}

// Is reports fs.ErrNotExist for a missing object or bucket and
// fs.ErrPermission for a 403, so that callers test one way for S3 and
// local files.
func (e *S3Error) Is(target error) bool {
	switch target {
	case fs.ErrNotExist:
		return e.StatusCode == http.StatusNotFound && notFoundCodes[e.Code]
	case fs.ErrPermission:
		return e.StatusCode == http.StatusForbidden
	}
	return false
}

// s3Error wraps an error from the SDK: an [*S3Error] when S3 answered,
// otherwise (a network failure, a cancelled context, a failed read of the
// body being uploaded) the error with the operation and URI in front.
func s3Error(op string, l location, err error) error {
	var resp interface {
		HTTPStatusCode() int
		ServiceRequestID() string
	}
	if !errors.As(err, &resp) {
		return fmt.Errorf("%s %s: %w", op, l, err)
	}
	e := &S3Error{Op: op, URI: l.String(), StatusCode: resp.HTTPStatusCode(), RequestID: resp.ServiceRequestID(), Err: err}
	var host interface{ ServiceHostID() string }
	if errors.As(err, &host) {
		e.HostID = host.ServiceHostID()
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		e.Code, e.Message = api.ErrorCode(), api.ErrorMessage()
	}
	switch {
	case op == "HeadObject":
		// S3 answers HEAD without a body; the SDK makes a code and
		// message up from the status ("NotFound", "Forbidden"), which
		// S3 never sent. AWS's own runner says null (spec §9.4).
		e.Code, e.Message = "", ""
	case e.Code == "UnknownError":
		// The SDK's word for a body it could not read.
		e.Code = ""
		if e.Message == "UnknownError" {
			e.Message = ""
		}
	}
	e.Message = strings.TrimSpace(e.Message)
	return e
}
