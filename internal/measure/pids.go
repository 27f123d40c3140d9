package measure

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// What a benchmark of several server processes reads: their pids, and
// the CPU of a database server and its backends.

// PIDList is a flag of one or more pids, comma-separated: the processes
// of every server node under test, whose CPU and memory are summed.
type PIDList []int

func (p *PIDList) String() string {
	s := make([]string, len(*p))
	for i, pid := range *p {
		s[i] = strconv.Itoa(pid)
	}
	return strings.Join(s, ",")
}

func (p *PIDList) Set(v string) error {
	var pids []int
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a pid", f)
		}
		pids = append(pids, n)
	}
	if len(pids) == 0 {
		return errors.New("no pid given")
	}
	*p = pids
	return nil
}

// SplitList returns the non-empty, trimmed elements of a comma-separated
// list.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// PIDsCPU returns the summed user+system CPU time of pids so far; the
// first error is returned along with the sum of the others.
func PIDsCPU(pids []int) (time.Duration, error) {
	var sum time.Duration
	var first error
	for _, pid := range pids {
		d, err := ProcessCPU(pid)
		if err != nil && first == nil {
			first = err
		}
		sum += d
	}
	return sum, first
}

// PIDsMemory returns the summed resident set size and peak of pids, in
// KiB.
func PIDsMemory(pids []int) (rss, hwm int64) {
	for _, pid := range pids {
		r, h, _ := ProcessMemory(pid)
		rss += r
		hwm += h
	}
	return rss, hwm
}

// TreeCPU returns the CPU time so far of process pid, of its children it
// has waited for, and of its live children: for PostgreSQL's postmaster,
// the whole server, since every backend is its child and the CPU of a
// backend that exits moves to the postmaster's waited-for children. The
// difference of two readings is what the server used in between.
func TreeCPU(pid int) (time.Duration, error) {
	self, children, err := ProcessCPUs(pid)
	if err != nil {
		return 0, err
	}
	total := self + children
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return total, err
	}
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid || parentPID(child) != pid {
			continue
		}
		// A child that exits between the two reads is counted by the
		// parent's waited-for children at the next reading.
		if s, c, err := ProcessCPUs(child); err == nil {
			total += s + c
		}
	}
	return total, nil
}

// parentPID returns the parent of process pid, 0 if it cannot be read.
func parentPID(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
