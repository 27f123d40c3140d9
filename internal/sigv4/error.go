package sigv4

import "net/http"

// Error is a signature verification failure in AWS terms. Code is the wire
// __type AWS uses for the failure and Message is modelled on AWS's own text,
// so SDK callers see the same errors they would see from AWS.
type Error struct {
	Code    string
	Message string
	Status  int
}

// Error returns the code and message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns the wire __type, such as "InvalidSignatureException".
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns the message sent to the client.
func (e *Error) ErrorMessage() string { return e.Message }

// HTTPStatus returns the HTTP status code of the response.
func (e *Error) HTTPStatus() int { return e.Status }

// The wire codes, as AWS JSON services return them.
const (
	codeMissingToken     = "MissingAuthenticationTokenException"
	codeIncomplete       = "IncompleteSignatureException"
	codeUnrecognized     = "UnrecognizedClientException"
	codeInvalidSignature = "InvalidSignatureException"
)

func missingToken() *Error {
	return &Error{Code: codeMissingToken, Message: "Missing Authentication Token", Status: http.StatusForbidden}
}

// incomplete reports an Authorization header or date that cannot be
// interpreted. AWS answers those with 400, not 403: the request is malformed
// rather than unauthorised.
func incomplete(msg string) *Error {
	return &Error{Code: codeIncomplete, Message: msg, Status: http.StatusBadRequest}
}

func unrecognizedClient() *Error {
	return &Error{Code: codeUnrecognized, Message: "The security token included in the request is invalid.", Status: http.StatusForbidden}
}

func invalidSignature(msg string) *Error {
	return &Error{Code: codeInvalidSignature, Message: msg, Status: http.StatusForbidden}
}

func signatureMismatch() *Error {
	return invalidSignature("The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
}

// quote renders client input for an error message. It is cut short because
// the message is echoed to whoever sent the request, and a multi-kilobyte
// header has no business being reflected back.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return "'" + s + "'"
}
