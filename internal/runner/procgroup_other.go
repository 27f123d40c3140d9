//go:build !unix

package runner

import (
	"os"
	"os/exec"
	"syscall"
)

// newProcessGroup does nothing where there are no process groups.
func newProcessGroup(*exec.Cmd) {}

// signalGroup kills p alone where there are no process groups; AWS's Task
// Runner does not run there either (spec §9.1).
func signalGroup(p *os.Process, _ syscall.Signal) error { return p.Kill() }
