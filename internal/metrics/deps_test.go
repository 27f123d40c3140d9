package metrics

import (
	"testing"

	"github.com/culvert/culvert/internal/deptest"
)

// TestDeps keeps metrics on the standard library, so serving them never
// pulls a client library into the server.
func TestDeps(t *testing.T) {
	t.Parallel()
	deptest.StdlibOnly(t)
}
