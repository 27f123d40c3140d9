package awsjson

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestServe pins what a handler served beside the API gets from Serve:
// a request id, Verify first, the principal, and errors in the API's
// envelope until it has written.
func TestServe(t *testing.T) {
	t.Parallel()
	allow := func(*http.Request, []byte) (Principal, error) { return Principal{"AKIDEXAMPLE", "123456789012"}, nil }
	deny := func(*http.Request, []byte) (Principal, error) {
		return Principal{}, &testAPIError{"MissingAuthenticationTokenException", "Missing Authentication Token", 403}
	}
	tests := []struct {
		name       string
		verify     func(*http.Request, []byte) (Principal, error)
		fn         func(w http.ResponseWriter, r *http.Request) error
		wantStatus int
		wantType   string // Content-Type
		wantBody   string
		wantRan    bool
		wantLog    string // a log message, if one is wanted
	}{{
		name:   "principal and request id reach the handler",
		verify: allow,
		fn: func(w http.ResponseWriter, r *http.Request) error {
			p, _ := PrincipalFrom(r.Context())
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprintf(w, "%s/%s %s", p.AccessKeyID, p.AccountID, RequestIDFrom(r.Context()))
			return nil
		},
		wantStatus: 200, wantType: "text/plain", wantBody: "AKIDEXAMPLE/123456789012 ID", wantRan: true,
	}, {
		name:       "unverified requests never reach it",
		verify:     deny,
		wantStatus: 403, wantType: contentType,
		wantBody: `{"__type":"MissingAuthenticationTokenException","message":"Missing Authentication Token"}`,
	}, {
		name:   "an API error before writing is the envelope",
		verify: allow,
		fn: func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/plain") // overridden: nothing was written
			return fmt.Errorf("logs: %w", &testAPIError{"ResourceNotFoundException", "Attempt @A has no logs yet.", 404})
		},
		wantStatus: 404, wantType: contentType,
		wantBody: `{"__type":"ResourceNotFoundException","message":"Attempt @A has no logs yet."}`, wantRan: true,
	}, {
		name:   "another error before writing is a generic 500",
		verify: allow,
		fn: func(http.ResponseWriter, *http.Request) error {
			return errors.New("open /var/secret/path: input/output error")
		},
		wantStatus: 500, wantType: contentType,
		wantBody: `{"__type":"InternalServiceError","message":"An internal service error occurred."}`, wantRan: true,
		wantLog: "awsjson: internal error",
	}, {
		name:   "a panic is a generic 500",
		verify: allow,
		fn: func(http.ResponseWriter, *http.Request) error {
			panic("handler bug")
		},
		wantStatus: 500, wantType: contentType,
		wantBody: `{"__type":"InternalServiceError","message":"An internal service error occurred."}`, wantRan: true,
		wantLog: "awsjson: internal error",
	}, {
		name:   "an error after writing is only logged",
		verify: allow,
		fn: func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "first half")
			return errors.New("read: connection reset")
		},
		wantStatus: 200, wantType: "text/plain", wantBody: "first half", wantRan: true,
		wantLog: "awsjson: response cut short",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, b := setup(t)
			h.Verify = tc.verify
			ran := false
			handler := h.Serve(func(w http.ResponseWriter, r *http.Request) error {
				ran = true
				return tc.fn(w, r)
			})
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/logs/df-1/@A_Attempt=1/stdout", nil))
			res := w.Result()
			body, _ := io.ReadAll(res.Body)
			id := res.Header.Get("X-Amzn-RequestId")
			if !requestIDPattern.MatchString(id) {
				t.Errorf("x-amzn-RequestId = %q, want a UUID", id)
			}
			got := strings.Replace(string(body), id, "ID", 1)
			if res.StatusCode != tc.wantStatus || res.Header.Get("Content-Type") != tc.wantType || got != tc.wantBody {
				t.Errorf("response = %d %q %s, want %d %q %s", res.StatusCode, res.Header.Get("Content-Type"), got,
					tc.wantStatus, tc.wantType, tc.wantBody)
			}
			if ran != tc.wantRan {
				t.Errorf("handler ran = %v, want %v", ran, tc.wantRan)
			}
			if tc.wantLog != "" {
				var msgs []string
				for _, r := range b.logs.all() {
					msgs = append(msgs, r.msg)
					if r.msg == tc.wantLog && r.attrs["requestId"] != id {
						t.Errorf("log %q has requestId %q, want %q", r.msg, r.attrs["requestId"], id)
					}
				}
				if diff := cmp.Diff([]string{tc.wantLog}, msgs); diff != "" {
					t.Errorf("logs mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}
