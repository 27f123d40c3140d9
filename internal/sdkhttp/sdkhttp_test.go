package sdkhttp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// breakableConn fails every write once broken, without writing a byte:
// what a pooled connection whose peer has gone does to the next request.
type breakableConn struct {
	net.Conn
	broken *atomic.Bool
}

func (c *breakableConn) Write(p []byte) (int, error) {
	if c.broken.Load() {
		return 0, errors.New("write: broken pipe (test)")
	}
	return c.Conn.Write(p)
}

// replayRig is a server that records the bodies it receives and a base
// transport whose connections a test can break.
type replayRig struct {
	srv    *httptest.Server
	base   *http.Transport
	dials  atomic.Int32
	mu     sync.Mutex
	bodies []string
	conns  []*atomic.Bool
}

func newReplayRig(t *testing.T) *replayRig {
	t.Helper()
	r := &replayRig{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(r.srv.Close)
	var d net.Dialer
	r.base = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		r.dials.Add(1)
		b := new(atomic.Bool)
		r.mu.Lock()
		r.conns = append(r.conns, b)
		r.mu.Unlock()
		return &breakableConn{Conn: c, broken: b}, nil
	}}
	t.Cleanup(r.base.CloseIdleConnections)
	return r
}

// breakAll breaks every connection dialed so far.
func (r *replayRig) breakAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.conns {
		b.Store(true)
	}
}

// post sends body as a stream without GetBody, as the SDK does.
func (r *replayRig) post(rt http.RoundTripper, body string) error {
	req, err := http.NewRequest("POST", r.srv.URL, io.NopCloser(strings.NewReader(body)))
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(body))
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// TestTransportReplaysOnClosedPooledConnection sends a request over a
// pooled connection that fails before anything is written. With Transport
// net/http sends it again on a new connection and the server gets the
// whole body; with the SDK's unbuffered stream alone the call fails. Both
// halves run, so the test shows the replay is Transport's doing.
func TestTransportReplaysOnClosedPooledConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		buffered bool
		wantErr  bool
	}{
		{name: "buffered", buffered: true},
		{name: "stream only", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newReplayRig(t)
			var rt http.RoundTripper = r.base
			if tc.buffered {
				rt = &Transport{Base: r.base}
			}
			if err := r.post(rt, "first"); err != nil {
				t.Fatalf("first request: %v", err)
			}
			r.breakAll()
			err := r.post(rt, `{"taskId":"t-1","taskStatus":"FINISHED"}`)
			if (err != nil) != tc.wantErr {
				t.Fatalf("request on a broken pooled connection: err = %v, want error: %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if got := r.dials.Load(); got != 2 {
				t.Errorf("dials = %d, want 2 (the pooled connection, then a fresh one for the replay)", got)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if want := []string{"first", `{"taskId":"t-1","taskStatus":"FINISHED"}`}; strings.Join(r.bodies, "|") != strings.Join(want, "|") {
				t.Errorf("server received %q, want %q", r.bodies, want)
			}
		})
	}
}

// closeTracker records whether it was closed and fails reads afterwards,
// as the SDK's body stream does once it has been closed.
type closeTracker struct {
	r      io.Reader
	closed atomic.Bool
}

func (c *closeTracker) Read(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, errors.New("read on closed body")
	}
	return c.r.Read(p)
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTransportBuffers checks what the base transport is given: a body of
// its own (readable after the caller's stream is closed, replayable) up to
// the limit, and the caller's stream beyond it.
func TestTransportBuffers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		body          string
		contentLength int64 // -1: unknown
		limit         int64
		wantReplay    bool
		wantLength    int64
	}{
		{name: "small", body: "payload", contentLength: 7, limit: 16, wantReplay: true, wantLength: 7},
		{name: "unknown length fits", body: "payload", contentLength: -1, limit: 16, wantReplay: true, wantLength: 7},
		{name: "exactly the limit", body: "0123456789abcdef", contentLength: 16, limit: 16, wantReplay: true, wantLength: 16},
		{name: "declared too large", body: strings.Repeat("x", 17), contentLength: 17, limit: 16, wantLength: 17},
		{name: "unknown length too large", body: strings.Repeat("x", 40), contentLength: -1, limit: 16, wantLength: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			orig := &closeTracker{r: strings.NewReader(tc.body)}
			var got []string
			var gotLen int64
			var replayable bool
			rt := &Transport{MaxBufferBytes: tc.limit, Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				gotLen, replayable = r.ContentLength, r.GetBody != nil
				if replayable {
					// The SDK closes its stream when the response
					// arrives; a buffered body does not care.
					orig.Close()
					again, err := r.GetBody()
					if err != nil {
						return nil, err
					}
					b, _ := io.ReadAll(again)
					got = append(got, string(b))
				}
				b, err := io.ReadAll(r.Body)
				if err != nil {
					return nil, err
				}
				got = append(got, string(b))
				return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
			})}
			req, _ := http.NewRequest("POST", "http://127.0.0.1/", orig)
			req.ContentLength = tc.contentLength
			if _, err := rt.RoundTrip(req); err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if replayable != tc.wantReplay || gotLen != tc.wantLength {
				t.Errorf("base got GetBody %v, ContentLength %d; want %v, %d", replayable, gotLen, tc.wantReplay, tc.wantLength)
			}
			for _, b := range got {
				if b != tc.body {
					t.Errorf("base read %q, want %q", b, tc.body)
				}
			}
		})
	}
}

// TestTransportBodyReadError fails the call without sending it when the
// body cannot be read, and still closes the body.
func TestTransportBodyReadError(t *testing.T) {
	t.Parallel()
	sent := false
	rt := &Transport{Base: roundTripFunc(func(*http.Request) (*http.Response, error) {
		sent = true
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})}
	body := &closeTracker{r: io.MultiReader(strings.NewReader("part"), errReader{})}
	req, _ := http.NewRequest("POST", "http://127.0.0.1/", body)
	if _, err := rt.RoundTrip(req); err == nil || sent {
		t.Errorf("RoundTrip with a failing body: err %v, sent %v; want an error and nothing sent", err, sent)
	}
	if !body.closed.Load() {
		t.Error("the failing body was not closed")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestNewClient sends a request through the client NewClient returns.
func TestNewClient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	}))
	defer srv.Close()
	c := NewClient(4)
	defer c.CloseIdleConnections()
	if _, ok := c.Transport.(*Transport); !ok || c.Timeout != 0 {
		t.Errorf("NewClient: transport %T, timeout %v; want *Transport and none", c.Transport, c.Timeout)
	}
	resp, err := c.Post(srv.URL, "application/json", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "{}" {
		t.Errorf("echo = %q", b)
	}
}
