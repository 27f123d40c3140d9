package awsjson

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestServeHTTPObserve pins what Handler.Observe is told: once per
// request, after the response is written, whichever step answered it.
func TestServeHTTPObserve(t *testing.T) {
	t.Parallel()
	type observation struct {
		Op      string
		Status  int
		ErrCode string
	}
	tests := []struct {
		name string
		req  request
		deny bool // Verify rejects the request
		want observation
	}{
		{name: "success", req: request{target: "DataPipeline.Echo", body: `{}`}, want: observation{"Echo", 200, ""}},
		{name: "success via alternative prefix", req: request{target: "DataPipeline_20121129.Delete", body: `{}`}, want: observation{"Delete", 200, ""}},
		{name: "API error from op", req: request{target: "DataPipeline.Fail", body: `{"kind":"api"}`}, want: observation{"Fail", 400, "PipelineNotFoundException"}},
		{name: "internal error from op", req: request{target: "DataPipeline.Fail", body: `{"kind":"internal"}`}, want: observation{"Fail", 500, "InternalServiceError"}},
		{name: "panicking op", req: request{target: "DataPipeline.Fail", body: `{"kind":"panic"}`}, want: observation{"Fail", 500, "InternalServiceError"}},
		{name: "verify failure", req: request{target: "DataPipeline.Echo", body: `{}`}, deny: true, want: observation{"Echo", 403, "InvalidSignatureException"}},
		{name: "verify failure, unknown target", req: request{target: "DataPipeline.Nope", body: `{}`}, deny: true, want: observation{"", 403, "InvalidSignatureException"}},
		{name: "unknown target", req: request{target: "DataPipeline.Nope", body: `{}`}, want: observation{"", 400, "UnknownOperationException"}},
		{name: "unknown prefix", req: request{target: "Other.Echo", body: `{}`}, want: observation{"", 400, "UnknownOperationException"}},
		{name: "missing target", req: request{target: "-", body: `{}`}, want: observation{"", 400, "UnknownOperationException"}},
		{name: "malformed body", req: request{target: "DataPipeline.Echo", body: `{"name":`}, want: observation{"Echo", 400, "SerializationException"}},
		{name: "wrong member type", req: request{target: "DataPipeline.Echo", body: `{"limit":"x"}`}, want: observation{"Echo", 400, "SerializationException"}},
		{name: "body too large", req: request{target: "DataPipeline.Echo", body: strings.Repeat(" ", 2000)}, want: observation{"Echo", 413, "RequestEntityTooLargeException"}},
		{name: "wrong method", req: request{method: "GET", target: "DataPipeline.Echo"}, want: observation{"", 404, "UnknownOperationException"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, _ := setup(t)
			if tc.deny {
				h.Verify = func(*http.Request, []byte) (Principal, error) {
					return Principal{}, &testAPIError{"InvalidSignatureException", "bad signature", 403}
				}
			}
			w := httptest.NewRecorder()
			var got []observation
			var durations []time.Duration
			h.Observe = func(op string, status int, errCode string, d time.Duration) {
				if cl := w.Header().Get("Content-Length"); w.Code != status || cl != strconv.Itoa(w.Body.Len()) {
					t.Errorf("Observe called before the response was written: recorded %d with %d of %s body bytes", w.Code, w.Body.Len(), cl)
				}
				got = append(got, observation{op, status, errCode})
				durations = append(durations, d)
			}
			method := tc.req.method
			if method == "" {
				method = http.MethodPost
			}
			r := httptest.NewRequest(method, "/", strings.NewReader(tc.req.body))
			if tc.req.target != "-" {
				r.Header.Set("X-Amz-Target", tc.req.target)
			}
			begin := time.Now()
			h.ServeHTTP(w, r)
			elapsed := time.Since(begin)
			if diff := cmp.Diff([]observation{tc.want}, got); diff != "" {
				t.Errorf("observations mismatch (-want +got):\n%s", diff)
			}
			if w.Code != tc.want.Status {
				t.Errorf("response status %d, observed %d", w.Code, tc.want.Status)
			}
			for _, d := range durations {
				if d <= 0 || d > elapsed {
					t.Errorf("observed duration %v, want in (0, %v]", d, elapsed)
				}
			}
		})
	}
}

// TestServeHTTPObserveDuration pins that the duration covers the
// operation itself.
func TestServeHTTPObserveDuration(t *testing.T) {
	t.Parallel()
	const sleep = 20 * time.Millisecond
	var got time.Duration
	h := &Handler{
		Target: "S",
		Ops: map[string]Op{"Slow": func(context.Context, []byte) (any, error) {
			time.Sleep(sleep)
			return nil, nil
		}},
		Observe: func(_ string, _ int, _ string, d time.Duration) { got = d },
	}
	do(t, h, request{target: "S.Slow", body: `{}`})
	if got < sleep {
		t.Errorf("observed %v, want at least the op's %v", got, sleep)
	}
}

// BenchmarkServeHTTPObserve measures what an observer adds to a request:
// two clock reads, a second target lookup and the call.
func BenchmarkServeHTTPObserve(b *testing.B) {
	var n atomic.Int64
	observe := func(string, int, string, time.Duration) { n.Add(1) }
	for _, bc := range []struct {
		name    string
		observe func(string, int, string, time.Duration)
	}{{"nil", nil}, {"set", observe}} {
		b.Run(bc.name, func(b *testing.B) {
			h := &Handler{
				Target: "DataPipeline",
				Ops: map[string]Op{"DescribePipelines": Handle(func(_ context.Context, in *describeInput) (*describeOutput, error) {
					return &describeOutput{}, nil
				})},
				Logger:  slog.New(slog.DiscardHandler),
				Observe: bc.observe,
			}
			b.ReportAllocs()
			if w := serveEach(h, b.Loop); w.status != 200 {
				b.Fatalf("status %d", w.status)
			}
		})
	}
	if n.Load() == 0 {
		b.Fatal("observer never called")
	}
}
