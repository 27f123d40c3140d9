package awsjson

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestServeHTTPTooLargeClosesConnection pins that a 413 tells the server
// to drop the connection rather than read the rest of a huge body.
func TestServeHTTPTooLargeClosesConnection(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	for _, chunked := range []bool{false, true} {
		_, hdr := do(t, h, request{target: "DataPipeline.Echo", body: strings.Repeat(" ", 2000), chunked: chunked})
		if got := hdr.Get("Connection"); got != "close" {
			t.Errorf("chunked=%v: Connection = %q, want close", chunked, got)
		}
	}
}

// TestServeHTTPTooLargeUnread pins that a known oversized Content-Length
// is rejected without reading the body.
func TestServeHTTPTooLargeUnread(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	r := httptest.NewRequest("POST", "/", iotest.ErrReader(errors.New("body must not be read")))
	r.ContentLength = 1 << 30
	r.Header.Set("X-Amz-Target", "DataPipeline.Echo")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 413 {
		t.Errorf("status = %d, want 413", w.Code)
	}
}

// TestServeHTTPBodyReadError pins that a broken body (client gone, bad
// chunking) is a 400, not a 500.
func TestServeHTTPBodyReadError(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	r := httptest.NewRequest("POST", "/", iotest.ErrReader(io.ErrUnexpectedEOF))
	r.ContentLength = -1
	r.Header.Set("X-Amz-Target", "DataPipeline.Echo")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	want := errResponse(400, "SerializationException", "Unable to read request body")
	got := response{Status: w.Code, ContentType: w.Header().Get("Content-Type"), Body: w.Body.String(), ErrorType: w.Header().Get("X-Amzn-ErrorType")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response mismatch (-want +got):\n%s", diff)
	}
}

// TestServeHTTPRequestIDs pins that every response, whatever its outcome,
// carries a distinct request id, and that ops see the same id.
func TestServeHTTPRequestIDs(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	h.Verify = func(r *http.Request, body []byte) (Principal, error) {
		if r.Header.Get("X-Deny") != "" {
			return Principal{}, &testAPIError{"InvalidSignatureException", "no", 403}
		}
		return Principal{}, nil
	}
	reqs := []request{
		{target: "DataPipeline.Echo", body: `{}`},
		{target: "DataPipeline.Delete", body: `{}`},
		{target: "DataPipeline.Foo", body: `{}`},
		{target: "-", body: `{}`},
		{method: "GET"},
		{target: "DataPipeline.Echo", body: strings.Repeat(" ", 2000)},
		{target: "DataPipeline.Echo", body: `[`},
		{target: "DataPipeline.Fail", body: `{"kind":"internal"}`},
		{target: "DataPipeline.Fail", body: `{"kind":"api"}`},
	}
	seen := map[string]bool{}
	for round := 0; round < 20; round++ {
		for _, req := range reqs {
			got, hdr := do(t, h, req)
			id := hdr.Get("X-Amzn-RequestId")
			if !requestIDPattern.MatchString(id) {
				t.Fatalf("%+v: x-amzn-RequestId = %q, want a UUID v4", req, id)
			}
			if seen[id] {
				t.Fatalf("%+v: request id %s repeated", req, id)
			}
			seen[id] = true
			if req.target == "DataPipeline.Echo" && got.Status == 200 && !strings.Contains(got.Body, `"requestId":"`+id+`"`) {
				t.Errorf("op saw a different request id than the header %s: %s", id, got.Body)
			}
		}
	}
	// Denied by Verify: still has an id.
	r := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
	r.Header.Set("X-Deny", "1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if id := w.Header().Get("X-Amzn-RequestId"); !requestIDPattern.MatchString(id) || seen[id] {
		t.Errorf("denied request: x-amzn-RequestId = %q", id)
	}
}

// TestServeHTTPVerify pins that Verify runs first, that its errors reach
// the wire with their own code, and that ops see its principal.
func TestServeHTTPVerify(t *testing.T) {
	t.Parallel()
	deny := func(err error) func(*http.Request, []byte) (Principal, error) {
		return func(*http.Request, []byte) (Principal, error) { return Principal{}, err }
	}
	tests := []struct {
		name   string
		verify func(*http.Request, []byte) (Principal, error)
		req    request
		want   response
		ranOps []string
	}{
		{
			name:   "principal reaches the op",
			verify: func(*http.Request, []byte) (Principal, error) { return Principal{"AKIDEXAMPLE", "123456789012"}, nil },
			req:    request{target: "DataPipeline.Echo", body: `{}`},
			want:   okResponse(`{"input":{"pipelineIds":null,"name":"","limit":0,"nested":null,"startTimestamp":null},"principal":"AKIDEXAMPLE/123456789012","requestId":"ID"}`),
			ranOps: []string{"Echo"},
		},
		{
			name:   "verify error passes through",
			verify: deny(fmt.Errorf("sigv4: %w", &testAPIError{"InvalidSignatureException", "Signature expired", 403})),
			req:    request{target: "DataPipeline.Echo", body: `{}`},
			want:   errResponse(403, "InvalidSignatureException", "Signature expired"),
		},
		{
			// The body is not JSON and the target does not exist: a 403
			// rather than a 400 shows Verify ran before either was looked
			// at, and no op ran.
			name:   "verify runs before dispatch and decoding",
			verify: deny(&testAPIError{"MissingAuthenticationTokenException", "Missing Authentication Token", 403}),
			req:    request{target: "DataPipeline.Nope", body: `{"name":`},
			want:   errResponse(403, "MissingAuthenticationTokenException", "Missing Authentication Token"),
		},
		{
			name:   "verify non-API error is a generic 500",
			verify: deny(errors.New("credentials file unreadable")),
			req:    request{target: "DataPipeline.Echo", body: `{}`},
			want:   errResponse(500, "InternalServiceError", "An internal service error occurred."),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, b := setup(t)
			var gotBody []byte
			h.Verify = func(r *http.Request, body []byte) (Principal, error) {
				gotBody = bytes.Clone(body)
				return tc.verify(r, body)
			}
			got, hdr := do(t, h, tc.req)
			got.Body = strings.Replace(got.Body, hdr.Get("X-Amzn-RequestId"), "ID", 1)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("response mismatch (-want +got):\n%s", diff)
			}
			if string(gotBody) != tc.req.body {
				t.Errorf("Verify got body %q, want %q", gotBody, tc.req.body)
			}
			for name := range h.Ops {
				want := 0
				for _, ran := range tc.ranOps {
					if ran == name {
						want = 1
					}
				}
				if n := b.called(name); n != want {
					t.Errorf("op %s ran %d times, want %d", name, n, want)
				}
			}
		})
	}
}

// TestServeHTTPNoPrincipalWithoutVerify pins that ops can tell that
// authentication is off.
func TestServeHTTPNoPrincipalWithoutVerify(t *testing.T) {
	t.Parallel()
	var ok bool
	h := &Handler{Target: "S", Ops: map[string]Op{"Op": func(ctx context.Context, _ []byte) (any, error) {
		_, ok = PrincipalFrom(ctx)
		return nil, nil
	}}}
	if got, _ := do(t, h, request{target: "S.Op"}); got.Status != 200 || ok {
		t.Errorf("status %d, principal present %v; want 200 and no principal", got.Status, ok)
	}
}

// TestServeHTTPLenientContentType pins that the request Content-Type does
// not matter.
func TestServeHTTPLenientContentType(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"", "application/x-amz-json-1.0", "application/json", "text/plain", "application/x-www-form-urlencoded"} {
		h, _ := setup(t)
		r := httptest.NewRequest("POST", "/", strings.NewReader(`{}`))
		r.Header.Set("X-Amz-Target", "DataPipeline.Delete")
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || w.Header().Get("Content-Type") != contentType {
			t.Errorf("Content-Type %q: status %d, response type %q", ct, w.Code, w.Header().Get("Content-Type"))
		}
	}
}

// TestServeHTTPContext pins that ops get a context derived from the
// request's.
func TestServeHTTPContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	var got any
	var canceled bool
	h := &Handler{Target: "S", Ops: map[string]Op{"Op": func(ctx context.Context, _ []byte) (any, error) {
		got = ctx.Value(key{})
		sub, cancel := context.WithTimeout(ctx, time.Hour)
		defer cancel()
		<-sub.Done()
		canceled = errors.Is(sub.Err(), context.Canceled)
		return nil, nil
	}}}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	cancel()
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{}`)).WithContext(ctx)
	r.Header.Set("X-Amz-Target", "S.Op")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != "v" || !canceled {
		t.Errorf("op saw value %v, canceled %v; want v, true", got, canceled)
	}
}

// TestServeHTTPLogging pins the log policy: client errors at Debug,
// internal errors at Error with the full chain and the request id, and a
// client that went away is not an error.
func TestServeHTTPLogging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		req       request
		cancel    bool
		wantLevel slog.Level
		wantErr   string // substring of the logged err attribute
	}{
		{name: "unknown op", req: request{target: "DataPipeline.Foo"}, wantLevel: slog.LevelDebug, wantErr: "Unrecognized operation"},
		{name: "bad JSON", req: request{target: "DataPipeline.Echo", body: "{"}, wantLevel: slog.LevelDebug, wantErr: "unexpected end"},
		{name: "API error", req: request{target: "DataPipeline.Fail", body: `{"kind":"api"}`}, wantLevel: slog.LevelDebug, wantErr: "op context: PipelineNotFoundException"},
		{name: "API 5xx", req: request{target: "DataPipeline.Fail", body: `{"kind":"api5xx"}`}, wantLevel: slog.LevelError, wantErr: "try again"},
		{name: "internal", req: request{target: "DataPipeline.Fail", body: `{"kind":"internal"}`}, wantLevel: slog.LevelError, wantErr: "connection refused to 10.0.0.7:5432"},
		{name: "panic", req: request{target: "DataPipeline.Fail", body: `{"kind":"panic"}`}, wantLevel: slog.LevelError, wantErr: "op bug"},
		{name: "client gone", req: request{target: "DataPipeline.Fail", body: `{"kind":"canceled"}`}, cancel: true, wantLevel: slog.LevelDebug, wantErr: "context canceled"},
		{name: "canceled but client still there", req: request{target: "DataPipeline.Fail", body: `{"kind":"canceled"}`}, wantLevel: slog.LevelError, wantErr: "context canceled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, b := setup(t)
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.req.body))
			r.Header.Set("X-Amz-Target", tc.req.target)
			if tc.cancel {
				ctx, cancel := context.WithCancel(r.Context())
				cancel()
				r = r.WithContext(ctx)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			recs := b.logs.all()
			if len(recs) != 1 {
				t.Fatalf("got %d log records, want 1: %+v", len(recs), recs)
			}
			rec := recs[0]
			if rec.level != tc.wantLevel {
				t.Errorf("level = %v, want %v", rec.level, tc.wantLevel)
			}
			if !strings.Contains(rec.attrs["err"], tc.wantErr) {
				t.Errorf("err attr = %q, want it to contain %q", rec.attrs["err"], tc.wantErr)
			}
			if id := w.Header().Get("X-Amzn-RequestId"); rec.attrs["requestId"] != id {
				t.Errorf("requestId attr = %q, want %q", rec.attrs["requestId"], id)
			}
			if strings.Contains(w.Body.String(), "10.0.0.7") || strings.Contains(w.Body.String(), "op bug") {
				t.Errorf("internal detail leaked to client: %s", w.Body)
			}
		})
	}
}

// TestServeHTTPNoLogOnSuccess pins that successes are left to access-log
// middleware.
func TestServeHTTPNoLogOnSuccess(t *testing.T) {
	t.Parallel()
	h, b := setup(t)
	do(t, h, request{target: "DataPipeline.Echo", body: `{}`})
	if recs := b.logs.all(); len(recs) != 0 {
		t.Errorf("got log records on success: %+v", recs)
	}
}

// TestServeHTTPTooLargeRealServer pins that a client streaming a huge
// body through a real server gets the 413 rather than a reset
// connection, with and without a declared length.
func TestServeHTTPTooLargeRealServer(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(bytes.Repeat([]byte(" "), 8<<20))
		if chunked {
			body = io.MultiReader(body) // hides the length
		}
		req, err := http.NewRequest("POST", srv.URL, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "DataPipeline.Echo")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("chunked=%v: %v", chunked, err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		want := `{"__type":"RequestEntityTooLargeException","message":"Request body exceeds 1024 bytes"}`
		if res.StatusCode != 413 || string(got) != want {
			t.Errorf("chunked=%v: got %d %s, want 413 %s", chunked, res.StatusCode, got, want)
		}
	}
}
