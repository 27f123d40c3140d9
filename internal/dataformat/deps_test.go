package dataformat

import (
	"testing"

	"github.com/culvert/culvert/internal/deptest"
)

// TestDeps keeps the data formats pure: the standard library only, and no
// I/O adapters; the runner brings S3 and SQL.
func TestDeps(t *testing.T) {
	t.Parallel()
	deptest.StdlibOnly(t, "database/sql", "net/http", "os/exec")
}
