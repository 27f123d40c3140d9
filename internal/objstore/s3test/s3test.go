// Package s3test runs an in-process S3 for tests: gofakes3 with its
// in-memory backend behind an httptest server, reached by the real
// aws-sdk-go-v2 S3 client over HTTP, in this process or (through
// [Server.Env]) in a child process such as a runner started by an
// end-to-end test. It records the requests it answers, so that tests can
// see how a client addressed it, and can refuse a bucket with 403 as a
// bucket policy would.
//
// gofakes3 does not check signatures: any credentials reach it, and tests
// that care which were used read them from [Request.Header].
package s3test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// The values a client of the server is configured with. The keys are
// made up; gofakes3 accepts any.
const (
	Region          = "us-east-1"
	AccessKeyID     = "AKIAS3TESTEXAMPLE"
	SecretAccessKey = "s3test/secret/EXAMPLEKEY"
)

// Request is one request the server received, before it answered.
type Request struct {
	Method string
	Host   string     // the Host header: the server's address for path-style requests
	Path   string     // decoded: /bucket/key for path-style requests
	Query  url.Values // uploads, partNumber, list-type, …
	Header http.Header
}

// Server is an in-process S3. It is safe for concurrent use.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:port, with no trailing slash.
	URL string
	// Client is an S3 client for it, path-style, with static credentials.
	Client *s3.Client

	backend *s3mem.Backend

	mu       sync.Mutex
	requests []Request
	denied   map[string]bool
	denials  int
}

// New starts a server that stops when t's test ends.
func New(t testing.TB) *Server {
	t.Helper()
	backend := s3mem.New()
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	s := &Server{backend: backend, denied: map[string]bool{}}
	ts := httptest.NewServer(s.handler(faker.Server()))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	s.Client = s3.NewFromConfig(s.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	return s
}

// Config is an SDK configuration for the server: its region, static
// credentials and BaseEndpoint. The server knows buckets only by path;
// the SDK addresses an IP-address endpoint such as URL that way by
// itself, and objstore does whenever an endpoint is configured.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(s.URL),
	}
}

// Env is the environment that points the SDK's default configuration at
// the server, as KEY=value lines to append to an exec.Cmd's Env: the S3
// endpoint (AWS_ENDPOINT_URL_S3, which leaves other services' endpoints
// alone), the credentials, the region, and no EC2 instance metadata
// lookups.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_S3=" + s.URL,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Setenv sets [Server.Env] in this process for the rest of t's test,
// with t.Setenv, which a parallel test may not call.
func (s *Server) Setenv(t testing.TB) {
	t.Helper()
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// CreateBucket creates a bucket, failing t if it cannot. Names are 3 to
// 63 characters, as S3 requires.
func (s *Server) CreateBucket(t testing.TB, bucket string) {
	t.Helper()
	if _, err := s.Client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("s3test: create bucket %s: %v", bucket, err)
	}
}

// PutObject stores body as bucket/key, failing t if it cannot.
func (s *Server) PutObject(t testing.TB, bucket, key, body string) {
	t.Helper()
	_, err := s.Client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		t.Fatalf("s3test: put s3://%s/%s: %v", bucket, key, err)
	}
}

// PutObjects stores many objects at once, key → body, straight into the
// server's memory rather than over HTTP: for setting up thousands of keys
// quickly. It fails t if one cannot be stored.
func (s *Server) PutObjects(t testing.TB, bucket string, objects map[string]string) {
	t.Helper()
	for key, body := range objects {
		if _, err := s.backend.PutObject(bucket, key, map[string]string{}, strings.NewReader(body), int64(len(body)), nil); err != nil {
			t.Fatalf("s3test: put s3://%s/%s: %v", bucket, key, err)
		}
	}
}

// GetObject returns the body of bucket/key, failing t if it cannot
// (a missing object among the reasons).
func (s *Server) GetObject(t testing.TB, bucket, key string) string {
	t.Helper()
	out, err := s.Client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("s3test: get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("s3test: read s3://%s/%s: %v", bucket, key, err)
	}
	return string(b)
}

// Keys returns the keys in bucket that begin with prefix, in S3's order,
// failing t if it cannot list them.
func (s *Server) Keys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(t.Context())
		if err != nil {
			t.Fatalf("s3test: list s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// Deny makes the server answer every later request for bucket with 403
// AccessDenied, as S3 does when a policy denies the caller: an XML error
// body (none for HEAD) and a request id.
func (s *Server) Deny(bucket string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[bucket] = true
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// handler records each request and answers it, refusing denied buckets.
func (s *Server) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()})
		deny := bucket != "" && s.denied[bucket]
		if deny {
			s.denials++
		}
		n := s.denials
		s.mu.Unlock()
		if deny {
			writeDenied(w, r, n)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeDenied answers as S3 does when access is denied. The request ids
// count up from "DENIED0000000001", so tests can tell these answers apart
// from gofakes3's.
func writeDenied(w http.ResponseWriter, r *http.Request, n int) {
	id := fmt.Sprintf("DENIED%010d", n)
	// Drain the body so that the client, which may still be sending it,
	// sees the answer rather than a reset connection.
	io.Copy(io.Discard, r.Body)
	w.Header().Set("x-amz-request-id", id)
	w.Header().Set("x-amz-id-2", base64.StdEncoding.EncodeToString([]byte(id+id)))
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusForbidden)
	if r.Method == http.MethodHead {
		return
	}
	var body bytes.Buffer
	body.WriteString(xml.Header)
	xml.NewEncoder(&body).Encode(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
		HostID    string `xml:"HostId"`
	}{Code: "AccessDenied", Message: "Access Denied", RequestID: id, HostID: w.Header().Get("x-amz-id-2")})
	w.Write(body.Bytes())
}
