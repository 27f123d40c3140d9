package expr

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the expression language pure: only the standard library,
// and no I/O adapters.
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
		if strings.Contains(first, ".") && pkg != "github.com/culvert/culvert/internal/expr" {
			t.Errorf("expr depends on non-standard package %s", pkg)
		}
	}
	for _, banned := range []string{"database/sql", "net/http", "os/exec"} {
		if strings.Contains("\n"+string(out), "\n"+banned+"\n") {
			t.Errorf("expr depends on %s; the core must stay free of I/O adapters", banned)
		}
	}
}
