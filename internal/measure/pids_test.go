package measure

import (
	"os"
	"os/exec"
	"testing"
)

func TestTreeCPU(t *testing.T) {
	// Burn a little CPU in a child, which this process then waits for.
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	self, children, err := ProcessCPUs(os.Getpid())
	if err != nil {
		t.Skip(err)
	}
	tree, err := TreeCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if tree < self+children {
		t.Errorf("TreeCPU = %v, less than self %v + children %v", tree, self, children)
	}
	if ppid := parentPID(os.Getpid()); ppid != os.Getppid() {
		t.Errorf("parentPID = %d, want %d", ppid, os.Getppid())
	}
}
