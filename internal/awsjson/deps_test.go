package awsjson

import (
	"testing"

	"github.com/culvert/culvert/internal/deptest"
)

// TestDeps keeps the protocol layer on the standard library (docs/architecture.md), with no storage or process execution.
func TestDeps(t *testing.T) {
	t.Parallel()
	deptest.StdlibOnly(t, "database/sql", "os/exec")
}
