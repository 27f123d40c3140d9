//go:build unix

package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// crashEnv names the database the helper process writes to.
const crashEnv = "CULVERT_SQLITE_CRASH_DB"

const crashAccount = "123456789012"

// TestHelperProcess is not a test: TestCrashLosesNothingAcknowledged runs
// the test binary again with crashEnv set, and this is the child's body. It
// writes until it is killed, printing each write to stdout the moment the
// store acknowledges it:
//
//	c ID       PipelineCreate of ID returned
//	u ID V     PipelineUpdate stored version V of ID's definition
//	r ID N     RunApply stored instances 0..N-1 of ID and a task for the last
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process for TestCrashLosesNothingAcknowledged")
	}
	db, err := Open(context.Background(), Config{Path: path, Logger: discard})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	var outMu sync.Mutex
	report := func(format string, args ...any) {
		line := fmt.Sprintf(format+"\n", args...)
		outMu.Lock()
		os.Stdout.WriteString(line) // one write(2) per line: a kill never splits one
		outMu.Unlock()
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("df-W%dN%06d", w, i)
				if _, _, err := db.PipelineCreate(ctx, &store.PipelineCreateParams{
					Account: crashAccount, ID: id, Name: id, UniqueID: id, Now: time.Now(),
				}); err != nil {
					fmt.Fprintln(os.Stderr, "create:", err)
					os.Exit(2)
				}
				report("c %s", id)
				p, err := db.PipelineUpdate(ctx, crashAccount, id, func(p *store.Pipeline) error {
					p.Latest = &store.Definition{Doc: fmt.Appendf(nil, `{"objects":[{"id":%q}]}`, id), PutAt: time.Now()}
					return nil
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, "update:", err)
					os.Exit(2)
				}
				report("u %s %d", id, p.Latest.Version)
				// Two steps of a run: a batch of instances, then one more
				// with its task, so that a step acknowledged is whole. The
				// first is unsynced (store.Unsynced), as the scheduler's
				// are, and not reported: the second, acknowledged, vouches
				// for it.
				for step, n := range []int{50, 51} {
					ins := make([]*pipeline.Instance, 0, n)
					for k := range n {
						start := time.Unix(int64(k)*900, 0).UTC()
						ins = append(ins, &pipeline.Instance{ID: fmt.Sprintf("@A_%d", k), ComponentID: "A", ScheduledStart: start,
							Status: pipeline.StatusWaitingOnDependencies})
					}
					c := &store.RunChanges{Account: crashAccount, PipelineID: id, Instances: ins, Now: time.Now()}
					if step == 1 {
						c.Tasks = []*store.Task{{ID: id + "-task", AttemptID: "@A_50_Attempt=1", WorkerGroup: "wg", CreatedAt: time.Now()}}
					}
					if step == 0 {
						if err := db.RunApply(store.Unsynced(ctx), c); err != nil {
							fmt.Fprintln(os.Stderr, "run:", err)
							os.Exit(2)
						}
						continue
					}
					if err := db.RunApply(ctx, c); err != nil {
						fmt.Fprintln(os.Stderr, "run:", err)
						os.Exit(2)
					}
					report("r %s %d", id, n)
				}
			}
		})
	}
	wg.Wait()
}

func TestCrashLosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs a child process")
	}
	path := filepath.Join(t.TempDir(), "culvert.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	const killAfter = 2000 // acknowledged writes before the kill
	created := map[string]bool{}
	versions := map[string]int64{}
	runs := map[string]int{} // instances acknowledged per pipeline
	lines := 0
	killed := false
	// Only a guard against a hung child: on a loaded 2-core machine with
	// the race detector, 2,000 writes have taken more than 20 s.
	deadline := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "c":
			created[f[1]] = true
		case len(f) == 3 && f[0] == "r":
			n, err := strconv.Atoi(f[2])
			if err != nil {
				t.Fatalf("child printed %q", sc.Text())
			}
			runs[f[1]] = n
		case len(f) == 3 && f[0] == "u":
			v, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				t.Fatalf("child printed %q", sc.Text())
			}
			versions[f[1]] = v
		default:
			t.Fatalf("child printed %q", sc.Text())
		}
		lines++
		if lines == killAfter && !killed {
			// SIGKILL: no deferred function, no Close, no flush runs.
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	// Lines written before the kill are still read: they were acknowledged.
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited after %d lines, before the kill: %v\n%s", lines, err, stderr.String())
	}
	if ws, ok := err.(*exec.ExitError); !ok || ws.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v\n%s", err, stderr.String())
	}
	t.Logf("child acknowledged %d writes (%d pipelines, %d runs) before it died", lines, len(created), len(runs))

	d := openPath(t, path)
	ctx := t.Context()
	for id := range created {
		p, err := d.PipelineGet(ctx, crashAccount, id)
		if err != nil {
			t.Errorf("acknowledged pipeline %s after crash: %v", id, err)
			continue
		}
		if v, ok := versions[id]; ok && (p.Latest == nil || p.Latest.Version < v) {
			t.Errorf("pipeline %s after crash: Latest = %v, want version >= %d", id, p.Latest, v)
		}
	}
	for id, n := range runs {
		st, err := d.RunLoad(ctx, crashAccount, id)
		if err != nil {
			t.Errorf("run of %s after crash: %v", id, err)
			continue
		}
		// A step is atomic: its instances and its task are all there or not.
		got := len(st.Instances)
		if got < n || got != 50 && got != 51 || (got == 51) != (len(st.Tasks) == 1) {
			t.Errorf("run of %s after crash: %d instances, %d tasks; acknowledged %d instances", id, got, len(st.Tasks), n)
		}
	}
	for id := range versions {
		if !created[id] {
			t.Errorf("child printed an update of %s before its create", id)
		}
	}
	// The reopened store takes writes.
	if _, _, err := d.PipelineCreate(ctx, &store.PipelineCreateParams{
		Account: crashAccount, ID: "df-after-crash", Name: "after", UniqueID: "after", Now: time.Now(),
	}); err != nil {
		t.Errorf("PipelineCreate() after crash error: %v", err)
	}
}
