package awsjson

import (
	"context"
	"testing"
)

func TestWithPrincipal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, ok := PrincipalFrom(ctx); ok {
		t.Error("PrincipalFrom(Background) reported a principal")
	}
	if id := RequestIDFrom(ctx); id != "" {
		t.Errorf("RequestIDFrom(Background) = %q", id)
	}
	want := Principal{AccessKeyID: "AKID", AccountID: "123456789012"}
	got, ok := PrincipalFrom(WithPrincipal(ctx, want))
	if !ok || got != want {
		t.Errorf("PrincipalFrom(WithPrincipal(p)) = %v, %v; want %v, true", got, ok, want)
	}
	// WithPrincipal overrides the handler's principal for nested calls.
	rc := &reqCtx{Context: ctx, principal: Principal{AccessKeyID: "outer"}, hasPrincipal: true}
	rc.hdr[0] = "id"
	inner := WithPrincipal(rc, want)
	if got, _ := PrincipalFrom(inner); got != want {
		t.Errorf("inner principal = %v, want %v", got, want)
	}
	if id := RequestIDFrom(inner); id != "id" {
		t.Errorf("RequestIDFrom(derived) = %q, want id", id)
	}
}
