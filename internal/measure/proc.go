// Package measure holds what culvert's benchmarks share, the Go
// benchmarks and the programs under bench/ alike: /proc readers for the
// CPU and memory of a process and the machine, the live heap, nearest-rank
// percentiles, error tallies, and a Data Pipeline client for load that
// never retries and can replay its requests. It is imported by benchmarks
// and tests only, never by culvert itself.
package measure

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// ProcessCPU returns the user+system CPU time of process pid so far.
func ProcessCPU(pid int) (time.Duration, error) {
	self, _, err := ProcessCPUs(pid)
	return self, err
}

// ProcessCPUs returns the user+system CPU time of process pid so far, and
// that of its children it has waited for (a task runner's commands).
func ProcessCPUs(pid int) (self, children time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name, field 2, is parenthesised and may hold spaces;
	// the fields after it start with field 3, the state.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	// utime, stime, cutime, cstime: fields 14 to 17.
	var ticks [4]int64
	for k, s := range f[11:15] {
		if ticks[k], err = strconv.ParseInt(s, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }
	return tick(ticks[0] + ticks[1]), tick(ticks[2] + ticks[3]), nil
}

// ProcessMemory returns the resident set size and its peak of process pid,
// in KiB.
func ProcessMemory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &rss
		case "VmHWM":
			dst = &hwm
		default:
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, key, err)
		}
		*dst = n
	}
	return rss, hwm, sc.Err()
}

// SystemBusy returns the CPU time the whole machine has spent busy (not
// idle or waiting for I/O) since boot, summed over all cores.
func SystemBusy() (time.Duration, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, fmt.Errorf("/proc/stat: empty")
	}
	// cpu user nice system idle iowait irq softirq steal guest guest_nice
	fields := strings.Fields(sc.Text())
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", sc.Text())
	}
	var ticks int64
	for i, s := range fields[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// SelfCPU returns the user+system CPU time of this process so far.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Percentile returns the nearest-rank q-th percentile of sorted.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// HeapAlloc returns the live heap after a full collection.
func HeapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// PeakRSS returns this process's peak resident set size in bytes, 0 where
// /proc cannot tell.
func PeakRSS() int64 {
	_, hwm, err := ProcessMemory(os.Getpid())
	if err != nil {
		return 0
	}
	return hwm << 10
}

// ClientGC sets this load client's GOGC to percent unless the GOGC
// environment variable is set, which wins, and returns the GOGC in force:
// a client sharing the CPU with the server it measures should collect
// less often than the default.
func ClientGC(percent int) int {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
		return percent
	}
	current := debug.SetGCPercent(100)
	debug.SetGCPercent(current)
	return current
}
