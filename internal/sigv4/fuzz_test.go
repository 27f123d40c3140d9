package sigv4

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
)

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/datapipeline/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + validSig,
		"AWS4-HMAC-SHA256 Signature=" + validSig + ",Credential=A/20260101/r/s/aws4_request,SignedHeaders=host",
		"AWS4-HMAC-SHA256 Credential= AK ID/20260101/us east/svc/aws4_request, SignedHeaders=host, Signature=" + validSig,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/datapipeline/aws4_request, SignedHeaders=host;x-amz-date",
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/datapipeline/aws4_request/, SignedHeaders=host;;a, Signature=xyz",
		"AWS4-HMAC-SHA256 ,,, = , Credential==/=/=/=/=",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 ",
		"Basic Zm9vOmJhcg==",
		"",
		"\x00\xff AWS4-HMAC-SHA256",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAuthorization(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != codeIncomplete || e.Status != http.StatusBadRequest {
				t.Fatalf("parseAuthorization(%q) error = %#v, want an IncompleteSignatureException", s, err)
			}
			return
		}
		if want := a.date + "/" + a.region + "/" + a.service + "/" + terminator; a.scope != want {
			t.Fatalf("parseAuthorization(%q) scope = %q, want %q", s, a.scope, want)
		}
		b, err := parseAuthorization(a.String())
		if err != nil {
			t.Fatalf("parseAuthorization(%q) accepted, but its rendering %q fails: %v", s, a.String(), err)
		}
		if a != b {
			t.Fatalf("parseAuthorization(%q) = %+v, but its rendering %q parses as %+v", s, a, a.String(), b)
		}
	})
}

func FuzzVerify(f *testing.F) {
	// Seed with a request that verifies, so mutations start from a path
	// through every step rather than the first rejection.
	r, body := sdkSigned(f, signSpec{body: listPipelines, headers: [][2]string{{"X-Amz-Target", "DataPipeline.ListPipelines"}}})
	f.Add(r.Method, r.Host, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"), "", "DataPipeline.ListPipelines", int64(len(body)), body)
	f.Add("GET", "h", "/a b/%zz", "a=%zz;b", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/r/datapipeline/aws4_request, SignedHeaders=content-length;date;host;x-amz-target;"+
		"x-very-long-header-name-that-exceeds-the-stack-buffer-used-for-canonical-keys, Signature="+validSig,
		"", "Thu, 01 Jan 2026 00:30:00 GMT", "  a   b  ", int64(-1), []byte("x"))
	f.Add("", "", "", "", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/r/datapipeline/aws4_request, SignedHeaders=host, Signature="+validSig,
		"20260101T003000Z", "", "", int64(0), []byte(nil))
	f.Add("POST", "h", "/", "", "", "", "", "", int64(0), []byte(nil))
	f.Add("POST", "h", "/", "", "garbage", "99999999T999999Z", "not a date", "\x00", int64(5), []byte("hello"))

	v := testVerifier()
	f.Fuzz(func(t *testing.T, method, host, path, query, auth, amzDate, date, target string, contentLength int64, body []byte) {
		h := http.Header{}
		set := func(k, v string) {
			if v != "" {
				h[k] = []string{v}
			}
		}
		set("Authorization", auth)
		set("X-Amz-Date", amzDate)
		set("Date", date)
		set("X-Amz-Target", target)
		req := &http.Request{Method: method, Host: host, URL: &url.URL{Path: path, RawQuery: query}, Header: h, ContentLength: contentLength}
		cred, err := v.Verify(req, body)
		if err == nil {
			if cred != DevCredential && cred != otherCredential {
				t.Fatalf("Verify() = %+v, nil; want a known credential", cred)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Code == "" || e.Message == "" || (e.Status != http.StatusBadRequest && e.Status != http.StatusForbidden) {
			t.Fatalf("Verify() error = %#v, want a complete *Error", err)
		}
	})
}
