package sigv4

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the package on the standard library, so the pure core of
// request verification never drags a dependency into culvert's edge. Tests
// may import anything; `go list -deps` without -test sees only the package.
func TestDeps(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	banned := map[string]bool{"database/sql": true, "os/exec": true}
	for _, pkg := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(pkg, "/")
		switch {
		case pkg == "github.com/culvert/culvert/internal/sigv4":
		case strings.Contains(first, "."):
			t.Errorf("sigv4 depends on non-standard package %s", pkg)
		case banned[pkg]:
			t.Errorf("sigv4 depends on %s", pkg)
		}
	}
}
