package awsjson

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps enforces the package's promise to import only the standard
// library (ARCHITECTURE.md §2), in the manner of Tailscale's deptest.
func TestDeps(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found:", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := map[string]bool{"database/sql": true, "os/exec": true}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "github.com/culvert/culvert/internal/awsjson" {
			continue
		}
		first, _, _ := strings.Cut(pkg, "/")
		if strings.Contains(first, ".") {
			t.Errorf("imports non-standard-library package %s", pkg)
		}
		if forbidden[pkg] {
			t.Errorf("imports %s", pkg)
		}
	}
}
