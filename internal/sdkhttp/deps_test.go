package sdkhttp

import (
	"testing"

	"github.com/culvert/culvert/internal/deptest"
)

// TestDeps keeps the package to the standard library, so that any SDK
// client can use it without pulling in more.
func TestDeps(t *testing.T) {
	t.Parallel()
	deptest.StdlibOnly(t)
}
