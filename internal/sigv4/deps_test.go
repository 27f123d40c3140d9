package sigv4

import (
	"testing"

	"github.com/culvert/culvert/internal/deptest"
)

// TestDeps keeps request verification on the standard library, with no storage or process execution.
func TestDeps(t *testing.T) {
	t.Parallel()
	deptest.StdlibOnly(t, "database/sql", "os/exec")
}
