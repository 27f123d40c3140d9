package awsjson

import (
	"context"
	"crypto/rand"
)

// Principal is the authenticated caller of a request, as established by
// [Handler.Verify].
type Principal struct {
	AccessKeyID string
	AccountID   string
}

type principalKey struct{}

type requestIDKey struct{}

// WithPrincipal returns a copy of ctx carrying p. The handler does this
// itself; callers outside HTTP (the console, tests) use it to call
// operations as a given account.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal carried by ctx. It reports false if
// there is none, which for a request served by a [Handler] means Verify is
// nil (authentication is off).
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// RequestIDFrom returns the id of the request being served, the value of
// its x-amzn-RequestId response header, or "" outside a request. Ops use
// it to correlate their own log lines with the handler's.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// reqCtx is the context an Op receives. It answers both keys itself so a
// request costs one allocation for its context, request id header and
// response header values together, instead of two context.WithValue
// layers plus header slices. It embeds the parent without overriding
// Done, so the context package still recognises the parent's cancellation
// and derived contexts need no extra goroutine.
type reqCtx struct {
	context.Context
	principal    Principal
	hasPrincipal bool
	// hdr backs the response header values this package sets: the
	// request id, the content type, the error type and the length.
	hdr [4]string
	// status is the response status once written, for Handler.Observe.
	status int
}

func (c *reqCtx) Value(key any) any {
	switch key.(type) {
	case requestIDKey:
		return c.hdr[0]
	case principalKey:
		if c.hasPrincipal {
			return c.principal
		}
	}
	return c.Context.Value(key)
}

// newRequestID returns a random UUID version 4 string. crypto/rand.Read is
// cheap enough to call per request (getrandom(2), through the vDSO on
// recent Linux: about 50ns for 16 bytes on the reference machine, no
// allocation), never blocks once the kernel pool is seeded, and never
// fails, so there is no batching or fallback here.
func newRequestID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	const hex = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hex[c>>4], hex[c&0x0f]
		j += 2
	}
	return string(b[:])
}
