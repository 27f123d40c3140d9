package runner

import (
	"testing"

	"github.com/culvert/culvert/internal/pgtest"
)

// TestMain stops the PostgreSQL that tests of CopyActivity and Exists
// start on first use (internal/pgtest).
func TestMain(m *testing.M) { pgtest.Main(m) }
