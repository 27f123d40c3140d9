package pipeline

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the domain core pure: only the standard library.
func TestDeps(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(pkg, "/")
		if strings.Contains(first, ".") && pkg != "github.com/culvert/culvert/internal/pipeline" {
			t.Errorf("pipeline depends on non-standard package %s", pkg)
		}
	}
	for _, banned := range []string{"database/sql", "net/http", "os/exec"} {
		if strings.Contains("\n"+string(out), "\n"+banned+"\n") {
			t.Errorf("pipeline depends on %s; the core must stay free of I/O adapters", banned)
		}
	}
}
