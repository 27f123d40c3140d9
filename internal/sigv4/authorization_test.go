package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const validSig = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	valid := authorization{
		accessKeyID:   "AKIDEXAMPLE",
		scope:         "20260101/us-east-1/datapipeline/aws4_request",
		date:          "20260101",
		region:        "us-east-1",
		service:       "datapipeline",
		signedHeaders: "content-type;host;x-amz-date",
	}
	copy(valid.signature[:], []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef})
	cred := "Credential=AKIDEXAMPLE/20260101/us-east-1/datapipeline/aws4_request"
	sh := "SignedHeaders=content-type;host;x-amz-date"
	sig := "Signature=" + validSig

	tests := []struct {
		name    string
		in      string
		want    authorization
		wantErr string // IncompleteSignatureException message
	}{
		{name: "sdk layout", in: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig, want: valid},
		{name: "no spaces", in: "AWS4-HMAC-SHA256 " + cred + "," + sh + "," + sig, want: valid},
		{name: "other order", in: "AWS4-HMAC-SHA256 " + sig + ",  " + cred + " , " + sh, want: valid},
		{name: "trailing space", in: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + " ", want: valid},

		{name: "empty", in: "", wantErr: "Authorization header must use the AWS4-HMAC-SHA256 algorithm, got ''."},
		{name: "basic auth", in: "Basic dXNlcjpwYXNz", wantErr: "Authorization header must use the AWS4-HMAC-SHA256 algorithm, got 'Basic'."},
		{name: "sigv2", in: "AWS AKIDEXAMPLE:c2lnbmF0dXJl", wantErr: "Authorization header must use the AWS4-HMAC-SHA256 algorithm, got 'AWS'."},
		{name: "algorithm only", in: "AWS4-HMAC-SHA256",
			wantErr: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{name: "missing signature", in: "AWS4-HMAC-SHA256 " + cred + ", " + sh,
			wantErr: "Authorization header requires 'Signature' parameter."},
		{name: "not key=value", in: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", oops",
			wantErr: "Authorization header parameter 'oops' is not of the form key=value."},
		{name: "trailing comma", in: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ",",
			wantErr: "Authorization header parameter '' is not of the form key=value."},
		{name: "unknown parameter", in: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ", Extra=1",
			wantErr: "Authorization header contains unknown parameter 'Extra'."},
		{name: "repeated parameter", in: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ", " + sig,
			wantErr: "Authorization header repeats the 'Signature' parameter."},
		{name: "short credential", in: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1, " + sh + ", " + sig,
			wantErr: "Credential should be scoped to a valid service, not ''."},
		{name: "no key", in: "AWS4-HMAC-SHA256 Credential=/20260101/us-east-1/datapipeline/aws4_request, " + sh + ", " + sig,
			wantErr: "Credential must have the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request, got '/20260101/us-east-1/datapipeline/aws4_request'."},
		{name: "bad date", in: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-01-01/us-east-1/datapipeline/aws4_request, " + sh + ", " + sig,
			wantErr: "Credential scope date must be YYYYMMDD, got '2026-01-01'."},
		{name: "empty region", in: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101//datapipeline/aws4_request, " + sh + ", " + sig,
			wantErr: "Credential should be scoped to a valid region, not ''."},
		{name: "bad terminator", in: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/datapipeline/aws4_requests, " + sh + ", " + sig,
			wantErr: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_requests'."},
		{name: "extra scope part", in: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/datapipeline/aws4_request/x, " + sh + ", " + sig,
			wantErr: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_request/x'."},
		{name: "no host", in: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=content-type;x-amz-date, " + sig,
			wantErr: "SignedHeaders must include 'host'."},
		{name: "empty signed headers", in: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, " + sig,
			wantErr: "SignedHeaders must not be empty."},
		{name: "unsorted", in: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;host, " + sig,
			wantErr: "SignedHeaders must be sorted and without repeats, got 'x-amz-date;host'."},
		{name: "repeated header", in: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;host, " + sig,
			wantErr: "SignedHeaders must be sorted and without repeats, got 'host;host'."},
		{name: "uppercase header", in: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date, " + sig,
			wantErr: "SignedHeaders must be lowercase header names separated by ';', got 'Host;x-amz-date'."},
		{name: "empty header name", in: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, " + sig,
			wantErr: "SignedHeaders must be lowercase header names separated by ';', got 'host;;x-amz-date'."},
		{name: "trailing semicolon", in: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date;, " + sig,
			wantErr: "SignedHeaders must be lowercase header names separated by ';', got 'host;x-amz-date;'."},
		{name: "uppercase signature", in: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + strings.ToUpper(validSig),
			wantErr: "Signature must be 64 lowercase hexadecimal digits, got '" + strings.ToUpper(validSig) + "'."},
		{name: "short signature", in: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=abc",
			wantErr: "Signature must be 64 lowercase hexadecimal digits, got 'abc'."},
		{name: "long value is cut", in: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + strings.Repeat("z", 100),
			wantErr: "Signature must be 64 lowercase hexadecimal digits, got '" + strings.Repeat("z", 64) + "...'."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseAuthorization(tc.in)
			if tc.wantErr != "" {
				want := incomplete(tc.wantErr)
				if diff := cmp.Diff(error(want), err, cmp.Comparer(func(a, b *Error) bool { return *a == *b })); diff != "" {
					t.Errorf("parseAuthorization() error mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseAuthorization() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(authorization{})); diff != "" {
				t.Errorf("parseAuthorization() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVerifyDateHeader covers clients that date requests with Date instead
// of X-Amz-Date. No SDK does, so the request is signed here by following
// the specification's worked steps rather than by the SDK.
func TestVerifyDateHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		date     string
		wantCode string
	}{
		{name: "rfc1123", date: now.Format(http.TimeFormat)},
		{name: "stale", date: now.Add(-20 * time.Minute).Format(http.TimeFormat), wantCode: codeInvalidSignature},
		{name: "malformed", date: "yesterday", wantCode: codeIncomplete},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(listPipelines)
			r := httptest.NewRequest(http.MethodPost, "http://localhost:8080/", strings.NewReader(string(body)))
			r.Header.Set("Date", tc.date)
			r.Header.Set("X-Amz-Target", "DataPipeline.ListPipelines")
			canonical := strings.Join([]string{
				"POST", "/", "",
				"date:" + tc.date, "host:localhost:8080", "x-amz-target:DataPipeline.ListPipelines", "",
				"date;host;x-amz-target",
				hexSHA256(body),
			}, "\n")
			scope := now.Format("20060102") + "/local/datapipeline/aws4_request"
			sts := "AWS4-HMAC-SHA256\n" + now.Format(isoBasic) + "\n" + scope + "\n" + hexSHA256([]byte(canonical))
			key := mac([]byte("AWS4"+DevCredential.SecretAccessKey), now.Format("20060102"))
			for _, s := range []string{"local", "datapipeline", "aws4_request"} {
				key = mac(key, s)
			}
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"+scope+
				", SignedHeaders=date;host;x-amz-target, Signature="+hex.EncodeToString(mac(key, sts)))

			_, err := testVerifier().Verify(r, body)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("Verify() error = %v", err)
				}
				return
			}
			checkError(t, err, tc.wantCode, "")
		})
	}
}

func mac(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// TestVerifyConfig covers the Verifier's own settings.
func TestVerifyConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		v        *Verifier
		signTime time.Time
		service  string
		noStore  bool
		wantCode string
	}{
		{name: "any service", v: &Verifier{Service: ""}, service: "execute-api"},
		{name: "wider skew", v: &Verifier{MaxSkew: time.Hour}, signTime: now.Add(-50 * time.Minute)},
		{name: "narrower skew", v: &Verifier{MaxSkew: time.Minute}, signTime: now.Add(-2 * time.Minute), wantCode: codeInvalidSignature},
		{name: "nil store", v: &Verifier{}, noStore: true, wantCode: codeUnrecognized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := tc.v
			if !tc.noStore {
				v.Credentials = Static{DevCredential.AccessKeyID: DevCredential}
			}
			v.Now = func() time.Time { return now }
			r, body := sdkSigned(t, signSpec{body: listPipelines, service: tc.service, signTime: tc.signTime})
			_, err := v.Verify(r, body)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("Verify() error = %v", err)
				}
				return
			}
			checkError(t, err, tc.wantCode, "")
		})
	}
}

func TestHMACSHA256(t *testing.T) {
	t.Parallel()
	for _, keyLen := range []int{0, 1, 32, 63, 64, 65, 200} {
		for _, dataLen := range []int{0, 8, 191, 192, 193, 1000} {
			key := []byte(strings.Repeat("k", keyLen))
			data := []byte(strings.Repeat("d", dataLen))
			got := hmacSHA256(key, data)
			if want := mac(key, string(data)); !hmac.Equal(got[:], want) {
				t.Errorf("hmacSHA256(%d-byte key, %d-byte data) = %x, want %x", keyLen, dataLen, got, want)
			}
		}
	}
}
