// Package deptest lets a package's tests enforce what it may import, in
// the manner of Tailscale's deptest: the pure core of culvert (pipeline,
// expr, sigv4, awsjson) promises to need only the standard library, and a
// test is what keeps that promise. It is imported only by tests.
package deptest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// CorePackages are culvert's own packages that are themselves standard
// library only, and so may be imported by other core packages: the
// pipeline model evaluates expressions, for one.
var CorePackages = []string{
	"github.com/culvert/culvert/internal/expr",
}

// StdlibOnly fails t if the package in the current directory depends, other
// than through its tests, on a package outside the standard library and
// CorePackages, or on one of banned. It skips when the go command is not
// installed.
func StdlibOnly(t *testing.T, banned ...string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found:", err)
	}
	self, err := exec.Command(goTool, "list", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// -deps without -test sees only what the package itself imports.
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(pkg, "/")
		switch {
		case pkg == strings.TrimSpace(string(self)):
		case slices.Contains(CorePackages, pkg):
		case strings.Contains(first, "."):
			t.Errorf("depends on %s, which is not in the standard library", pkg)
		case slices.Contains(banned, pkg):
			t.Errorf("depends on %s, which this package must not use", pkg)
		}
	}
}
