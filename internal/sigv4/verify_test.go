package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"
)

// now is the server clock in every test.
var now = time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)

var otherCredential = Credential{AccessKeyID: "AKIAOTHERKEY0000", SecretAccessKey: "c2VjcmV0LW9mLWFub3RoZXItYWNjb3VudA", AccountID: "210987654321"}

func testVerifier() *Verifier {
	return &Verifier{
		Credentials: Static{DevCredential.AccessKeyID: DevCredential, otherCredential.AccessKeyID: otherCredential},
		Service:     "datapipeline",
		Now:         func() time.Time { return now },
	}
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// signSpec describes a request to sign with the SDK signer. Zero fields take
// the values a Data Pipeline client would use.
type signSpec struct {
	target       string // URL; default https://datapipeline.us-east-1.amazonaws.com/
	body         string
	headers      [][2]string // added in order, so a name may repeat
	cred         aws.Credentials
	service      string
	region       string
	signTime     time.Time
	payloadHash  string // default: hex sha256 of body
	disableEsc   bool
	noLength     bool                  // sign and send without a Content-Length
	afterSigning func(r *http.Request) // tampering
	sentBody     *string               // body the server reads, if not body
}

func sdkSigned(t testing.TB, s signSpec) (*http.Request, []byte) {
	t.Helper()
	if s.target == "" {
		s.target = "https://datapipeline.us-east-1.amazonaws.com/"
	}
	if s.cred.AccessKeyID == "" {
		s.cred = aws.Credentials{AccessKeyID: DevCredential.AccessKeyID, SecretAccessKey: DevCredential.SecretAccessKey}
	}
	if s.service == "" {
		s.service = "datapipeline"
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.signTime.IsZero() {
		s.signTime = now
	}
	body := []byte(s.body)
	if s.payloadHash == "" {
		s.payloadHash = hexSHA256(body)
	}
	r := httptest.NewRequest(http.MethodPost, s.target, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if s.noLength {
		r.ContentLength = -1
	}
	for _, h := range s.headers {
		r.Header.Add(h[0], h[1])
	}
	err := v4.NewSigner().SignHTTP(context.Background(), s.cred, r, s.payloadHash, s.service, s.region, s.signTime,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = s.disableEsc })
	if err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
	if s.afterSigning != nil {
		s.afterSigning(r)
	}
	if s.sentBody != nil {
		body = []byte(*s.sentBody)
	}
	return r, body
}

const listPipelines = `{"marker":"abc"}`

func TestVerifyAgainstSDKSigner(t *testing.T) {
	t.Parallel()
	target := [][2]string{{"X-Amz-Target", "DataPipeline.ListPipelines"}}
	mismatch := signatureMismatch().Message
	tests := []struct {
		name     string
		spec     signSpec
		wantCode string // "" means the request verifies
		wantMsg  string // checked when not empty
		wantKey  string // access key of the returned credential on success
	}{
		{name: "list pipelines", spec: signSpec{body: listPipelines, headers: target}},
		{name: "empty body", spec: signSpec{headers: target}},
		{name: "large body", spec: signSpec{body: `{"x":"` + strings.Repeat("y", 100_000) + `"}`, headers: target}},
		{name: "other region", spec: signSpec{body: listPipelines, headers: target, region: "eu-west-1"}},
		{name: "invented region", spec: signSpec{body: listPipelines, headers: target, region: "local"}},
		{name: "other key", spec: signSpec{body: listPipelines, headers: target,
			cred: aws.Credentials{AccessKeyID: otherCredential.AccessKeyID, SecretAccessKey: otherCredential.SecretAccessKey}},
			wantKey: otherCredential.AccessKeyID},
		{name: "session token", spec: signSpec{body: listPipelines, headers: target,
			cred: aws.Credentials{AccessKeyID: DevCredential.AccessKeyID, SecretAccessKey: DevCredential.SecretAccessKey, SessionToken: "FwoGZXIvYXdzEXAMPLE//token+with/slashes=="}}},
		{name: "sdk headers", spec: signSpec{body: listPipelines, headers: [][2]string{
			{"X-Amz-Target", "DataPipeline.ListPipelines"},
			{"Amz-Sdk-Invocation-Id", "6a3e5f0e-7d5e-4c65-8f3b-5a0e8b0f4c21"},
			{"Amz-Sdk-Request", "attempt=1; max=3"},
			{"User-Agent", "aws-sdk-go-v2/1.48.0 os/linux lang/go#1.26 md/GOOS#linux api/datapipeline#1.31.0"},
		}}},
		{name: "header whitespace", spec: signSpec{body: listPipelines, headers: [][2]string{
			{"X-Amz-Target", "  DataPipeline.ListPipelines  "},
			{"X-Amz-Meta-Spaces", "a   b \t c    d"},
			{"X-Custom", "  leading and trailing   "},
		}}},
		{name: "repeated header", spec: signSpec{body: listPipelines, headers: [][2]string{
			{"X-Amz-Target", "DataPipeline.ListPipelines"},
			{"X-Multi", "one"},
			{"X-Multi", " two  too "},
		}}},
		{name: "long header name", spec: signSpec{body: listPipelines, headers: [][2]string{
			{"X-Amz-Target", "DataPipeline.ListPipelines"},
			{"X-Custom-" + strings.Repeat("Long-", 20) + "Name", "v"},
		}}},
		{name: "query string", spec: signSpec{body: listPipelines, headers: target,
			target: "https://datapipeline.us-east-1.amazonaws.com/?b=2&a=1&a=0&sp=a%20b&sl=a/b&dash=a-b&tilde=~x&empty&u=%C3%A9"}},
		{name: "escaped path", spec: signSpec{body: listPipelines, headers: target,
			target: "https://datapipeline.us-east-1.amazonaws.com/a%20b/c%2Fd/e$f/~g"}},
		{name: "empty path", spec: signSpec{body: listPipelines, headers: target, target: "https://datapipeline.us-east-1.amazonaws.com"}},
		{name: "port in host", spec: signSpec{body: listPipelines, headers: target, target: "http://127.0.0.1:8080/"}},
		{name: "content sha256 header", spec: signSpec{body: listPipelines, headers: [][2]string{
			{"X-Amz-Target", "DataPipeline.ListPipelines"},
			{"X-Amz-Content-Sha256", hexSHA256([]byte(listPipelines))},
		}}},
		{name: "unsigned header added later", spec: signSpec{body: listPipelines, headers: target,
			afterSigning: func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.0.0.1") }}},
		{name: "14 min past", spec: signSpec{body: listPipelines, headers: target, signTime: now.Add(-14 * time.Minute)}},
		{name: "14 min future", spec: signSpec{body: listPipelines, headers: target, signTime: now.Add(14 * time.Minute)}},
		{name: "exactly 15 min past", spec: signSpec{body: listPipelines, headers: target, signTime: now.Add(-15 * time.Minute)}},

		{name: "wrong secret", spec: signSpec{body: listPipelines, headers: target,
			cred: aws.Credentials{AccessKeyID: DevCredential.AccessKeyID, SecretAccessKey: "not-the-secret"}},
			wantCode: "InvalidSignatureException", wantMsg: mismatch},
		{name: "other key's secret", spec: signSpec{body: listPipelines, headers: target,
			cred: aws.Credentials{AccessKeyID: DevCredential.AccessKeyID, SecretAccessKey: otherCredential.SecretAccessKey}},
			wantCode: "InvalidSignatureException", wantMsg: mismatch},
		{name: "tampered body", spec: signSpec{body: listPipelines, headers: target, sentBody: ptr(`{"marker":"abd"}`)},
			wantCode: "InvalidSignatureException", wantMsg: mismatch},
		{name: "tampered signed header", spec: signSpec{body: listPipelines, headers: target,
			afterSigning: func(r *http.Request) { r.Header.Set("X-Amz-Target", "DataPipeline.DeletePipeline") }},
			wantCode: "InvalidSignatureException", wantMsg: mismatch},
		{name: "extra value for signed header", spec: signSpec{body: listPipelines, headers: target,
			afterSigning: func(r *http.Request) { r.Header.Add("X-Amz-Target", "DataPipeline.DeletePipeline") }},
			wantCode: "InvalidSignatureException", wantMsg: mismatch},
		{name: "tampered host", spec: signSpec{body: listPipelines, headers: target,
			afterSigning: func(r *http.Request) { r.Host = "evil.example.com" }},
			wantCode: "InvalidSignatureException", wantMsg: mismatch},
		{name: "tampered query", spec: signSpec{body: listPipelines, headers: target, target: "https://h/?a=1",
			afterSigning: func(r *http.Request) { r.URL.RawQuery = "a=2" }},
			wantCode: "InvalidSignatureException", wantMsg: mismatch},
		{name: "tampered method", spec: signSpec{body: listPipelines, headers: target,
			afterSigning: func(r *http.Request) { r.Method = http.MethodPut }},
			wantCode: "InvalidSignatureException", wantMsg: mismatch},
		{name: "path signed without double encoding", spec: signSpec{body: listPipelines, headers: target,
			target: "https://h/a%20b", disableEsc: true},
			wantCode: "InvalidSignatureException", wantMsg: mismatch},
		{name: "unsigned payload", spec: signSpec{body: listPipelines, payloadHash: "UNSIGNED-PAYLOAD", headers: [][2]string{
			{"X-Amz-Target", "DataPipeline.ListPipelines"},
			{"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"},
		}}, wantCode: "InvalidSignatureException", wantMsg: "The provided 'x-amz-content-sha256' header does not match what was computed."},
		{name: "unknown key", spec: signSpec{body: listPipelines, headers: target,
			cred: aws.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: DevCredential.SecretAccessKey}},
			wantCode: "UnrecognizedClientException", wantMsg: "The security token included in the request is invalid."},
		{name: "wrong service", spec: signSpec{body: listPipelines, headers: target, service: "s3"},
			wantCode: "InvalidSignatureException", wantMsg: "Credential should be scoped to correct service: 'datapipeline'."},
		{name: "16 min past", spec: signSpec{body: listPipelines, headers: target, signTime: now.Add(-16 * time.Minute)},
			wantCode: "InvalidSignatureException",
			wantMsg:  "Signature expired: 20260101T001400Z is now earlier than 20260101T001500Z (20260101T003000Z - 15 min.)"},
		{name: "16 min future", spec: signSpec{body: listPipelines, headers: target, signTime: now.Add(16 * time.Minute)},
			wantCode: "InvalidSignatureException",
			wantMsg:  "Signature not yet current: 20260101T004600Z is still later than 20260101T004500Z (20260101T003000Z + 15 min.)"},
		{name: "missing date", spec: signSpec{body: listPipelines, headers: target,
			afterSigning: func(r *http.Request) { r.Header.Del("X-Amz-Date") }},
			wantCode: "IncompleteSignatureException",
			wantMsg:  "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{name: "malformed date", spec: signSpec{body: listPipelines, headers: target,
			afterSigning: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-01-01T00:30:00Z") }},
			wantCode: "IncompleteSignatureException"},
		{name: "date of another day than scope", spec: signSpec{body: listPipelines, headers: target,
			afterSigning: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20251231T235959Z") }},
			wantCode: "InvalidSignatureException",
			wantMsg:  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260101' != '20251231', from '20251231T235959Z'."},
		{name: "missing authorization", spec: signSpec{body: listPipelines, headers: target,
			afterSigning: func(r *http.Request) { r.Header.Del("Authorization") }},
			wantCode: "MissingAuthenticationTokenException", wantMsg: "Missing Authentication Token"},
		{name: "two authorization headers", spec: signSpec{body: listPipelines, headers: target,
			afterSigning: func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }},
			wantCode: "IncompleteSignatureException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, body := sdkSigned(t, tc.spec)
			cred, err := testVerifier().Verify(r, body)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("Verify() error = %v, want success\nAuthorization: %s", err, r.Header.Get("Authorization"))
				}
				wantKey := tc.wantKey
				if wantKey == "" {
					wantKey = DevCredential.AccessKeyID
				}
				if cred.AccessKeyID != wantKey {
					t.Errorf("Verify() credential = %q, want %q", cred.AccessKeyID, wantKey)
				}
				return
			}
			checkError(t, err, tc.wantCode, tc.wantMsg)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func checkError(t *testing.T, err error, wantCode, wantMsg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Verify() error = %v, want *Error with code %s", err, wantCode)
	}
	if e.Code != wantCode {
		t.Errorf("Verify() error code = %s (%s), want %s", e.Code, e.Message, wantCode)
	}
	if wantMsg != "" && e.Message != wantMsg {
		t.Errorf("Verify() error message mismatch (-want +got):\n%s", cmp.Diff(wantMsg, e.Message))
	}
	wantStatus := http.StatusForbidden
	if wantCode == codeIncomplete {
		wantStatus = http.StatusBadRequest
	}
	if e.HTTPStatus() != wantStatus {
		t.Errorf("Verify() status = %d, want %d", e.HTTPStatus(), wantStatus)
	}
}

// TestVerifyOverHTTP checks the requests as a server receives them, where
// net/http has moved Host and parsed Content-Length, rather than as the
// signer left them.
func TestVerifyOverHTTP(t *testing.T) {
	t.Parallel()
	type result struct {
		key string
		err error
	}
	got := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := new(bytes.Buffer)
		_, _ = body.ReadFrom(r.Body)
		c, err := testVerifier().Verify(r, body.Bytes())
		got <- result{c.AccessKeyID, err}
	}))
	defer srv.Close()

	tests := []struct {
		name string
		spec signSpec
	}{
		{name: "plain", spec: signSpec{body: listPipelines}},
		{name: "whitespace and query", spec: signSpec{body: listPipelines, target: "/p%20q/?z=1&a=b%2Fc",
			headers: [][2]string{{"X-Custom", "  a   b  "}, {"X-Multi", "1"}, {"X-Multi", "2"}}}},
		{name: "chunked body", spec: signSpec{body: listPipelines, noLength: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the subtests share the server's result channel.
			spec := tc.spec
			spec.target = srv.URL + spec.target
			r, body := sdkSigned(t, spec)
			out, err := http.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			out.Header = r.Header.Clone()
			if spec.noLength {
				// Hide the reader's length so the client streams the body.
				out.ContentLength = -1
				out.Body = io.NopCloser(struct{ io.Reader }{bytes.NewReader(body)})
			}
			resp, err := srv.Client().Do(out)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			res := <-got
			if res.err != nil {
				t.Fatalf("Verify() error = %v", res.err)
			}
			if res.key != DevCredential.AccessKeyID {
				t.Errorf("Verify() credential = %q, want %q", res.key, DevCredential.AccessKeyID)
			}
		})
	}
}

// TestSigningKeyCache checks that a cached signing key is used only for the
// scope and secret it was derived for.
func TestSigningKeyCache(t *testing.T) {
	t.Parallel()
	creds := Static{DevCredential.AccessKeyID: DevCredential}
	v := &Verifier{Credentials: creds, Service: "datapipeline", Now: func() time.Time { return now }}
	verify := func(region string, signTime time.Time) error {
		r, body := sdkSigned(t, signSpec{body: listPipelines, region: region, signTime: signTime})
		_, err := v.Verify(r, body)
		return err
	}
	// Alternate regions and days so every request misses or replaces the entry.
	for _, tc := range []struct {
		region string
		at     time.Time
	}{{"us-east-1", now}, {"eu-west-1", now}, {"us-east-1", now}, {"us-east-1", now.Add(-10 * time.Minute)}} {
		if err := verify(tc.region, tc.at); err != nil {
			t.Fatalf("Verify(%s, %v) error = %v", tc.region, tc.at, err)
		}
	}
	// A rotated secret must not be answered from the key derived from the old one.
	creds[DevCredential.AccessKeyID] = Credential{AccessKeyID: DevCredential.AccessKeyID, SecretAccessKey: "rotated", AccountID: DevCredential.AccountID}
	err := verify("us-east-1", now)
	checkError(t, err, codeInvalidSignature, "")
}
