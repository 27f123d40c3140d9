// Package sdkhttp is the HTTP client culvert's aws-sdk-go-v2 clients use:
// the task runner's and the CLI's.
//
// aws-sdk-go-v2 closes a request's body stream as soon as the response
// arrives. On loopback the response can arrive while net/http's writeLoop
// is still reading that stream to its end; the read then fails and the
// transport closes the connection under the response being read ("use of
// closed network connection", aws/aws-sdk-go-v2#2737). [Transport] reads
// the body into memory first, so the stream it sends is its own and
// nothing closes it early. A buffered body also gets GetBody, which lets
// net/http send the request again on a fresh connection when the pooled
// one it picked turns out closed before anything was written, instead of
// failing the call.
//
// The package imports only the standard library.
package sdkhttp

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultMaxBufferBytes is how large a request body [Transport] buffers by
// default. Data Pipeline requests are JSON documents; culvert's server
// refuses bodies over 24 MiB, so 32 MiB covers every request it would
// accept.
const DefaultMaxBufferBytes = 32 << 20

// Transport is an [http.RoundTripper] that buffers request bodies up to a
// limit and makes them replayable. A body larger than the limit is sent as
// a stream, as it came.
type Transport struct {
	// Base sends the requests; nil means [http.DefaultTransport].
	Base http.RoundTripper
	// MaxBufferBytes is the largest body buffered; zero or less means
	// [DefaultMaxBufferBytes].
	MaxBufferBytes int64
}

// RoundTrip implements [http.RoundTripper]. It closes the request's body,
// as the interface requires, and returns an error without sending anything
// if reading the body fails.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		// Nothing to buffer, or replayable already.
		return base.RoundTrip(req)
	}
	limit := t.MaxBufferBytes
	if limit <= 0 {
		limit = DefaultMaxBufferBytes
	}
	if req.ContentLength > limit {
		return base.RoundTrip(req)
	}
	// Read one byte past the limit to learn whether a body of unknown
	// length fits.
	b, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		req.Body.Close()
		return nil, fmt.Errorf("sdkhttp: buffer request body: %w", err)
	}
	out := req.Clone(req.Context())
	if int64(len(b)) > limit {
		// Too large after all: send what was read and the rest as one
		// stream, not replayable.
		out.Body = &joinedBody{Reader: io.MultiReader(bytes.NewReader(b), req.Body), c: req.Body}
		return base.RoundTrip(out)
	}
	req.Body.Close()
	out.ContentLength = int64(len(b))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	out.Body, _ = out.GetBody()
	if len(b) == 0 {
		out.Body, out.GetBody = http.NoBody, nil
	}
	return base.RoundTrip(out)
}

// joinedBody reads from Reader and closes c.
type joinedBody struct {
	io.Reader
	c io.Closer
}

func (b *joinedBody) Close() error { return b.c.Close() }

// NewClient returns an *http.Client for SDK clients: a [Transport] over a
// clone of [http.DefaultTransport] (so HTTPS_PROXY and friends apply) that
// keeps up to idle idle connections per host, and no overall timeout,
// because a PollForTask is held open for up to 90 seconds and callers bound
// each call with its context instead. idle below 2 means 2.
func NewClient(idle int) *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = max(idle, 2)
	base.MaxIdleConns = 2 * max(idle, 2)
	base.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: &Transport{Base: base}}
}
