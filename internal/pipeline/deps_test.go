package pipeline

import (
	"testing"

	"github.com/culvert/culvert/internal/deptest"
)

// TestDeps keeps the domain core pure: the standard library only, and no I/O adapters.
func TestDeps(t *testing.T) {
	t.Parallel()
	deptest.StdlibOnly(t, "database/sql", "net/http", "os/exec")
}
