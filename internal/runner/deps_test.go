package runner

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the runner a client: it reaches culvert only through the
// public API, as AWS's Task Runner does, so it must not import the
// server's packages.
func TestDeps(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found:", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages; the check would prove nothing", len(deps))
	}
	const internal = "github.com/culvert/culvert/internal/"
	for _, pkg := range deps {
		for _, banned := range []string{"store", "queue", "scheduler", "datapipeline"} {
			if pkg == internal+banned || strings.HasPrefix(pkg, internal+banned+"/") {
				t.Errorf("the runner depends on %s; it must reach the service only through the public API", pkg)
			}
		}
	}
}
