package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// treeCommand starts a child that sleeps, then writes the shell's pid and
// the child's to the file $1 (whole, through a rename) and waits.
const treeCommand = `sleep 300 & echo $$ $! > "$1.tmp" && mv "$1.tmp" "$1"; wait`

// TestE2ERunnerCancelKillsProcessTree cancels a running task, through
// SetStatus TRY_CANCEL and through DeactivatePipeline with cancelActive:
// the runner learns it from its next progress report and kills the whole
// process tree of the command (the shell and the child it started), and
// reports nothing for the task.
func TestE2ERunnerCancelKillsProcessTree(t *testing.T) {
	t.Parallel()
	bin := mustBuildBinary(t)
	s := mustRunServer(t)
	tests := []struct {
		name   string
		cancel func(c *datapipeline.Client, id, instance string) error
	}{
		{name: "TRY_CANCEL", cancel: func(c *datapipeline.Client, id, instance string) error {
			_, err := c.SetStatus(context.Background(), &datapipeline.SetStatusInput{
				PipelineId: aws.String(id), ObjectIds: []string{instance}, Status: aws.String("TRY_CANCEL")})
			return err
		}},
		{name: "deactivate", cancel: func(c *datapipeline.Client, id, _ string) error {
			_, err := c.DeactivatePipeline(context.Background(), &datapipeline.DeactivatePipelineInput{
				PipelineId: aws.String(id), CancelActive: aws.Bool(true)})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := s.devClient()
			wg := "wg-e2e-cancel-" + strings.ToLower(strings.ReplaceAll(tc.name, "_", "-"))
			pidFile := filepath.Join(t.TempDir(), "pids")
			id := mustCreate(t, c, wg, wg)
			mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{PipelineObjects: []types.PipelineObject{
				object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "none"),
					str("pipelineLogUri", "s3://logs/"), str("workerGroup", wg)),
				object("Tree", "Tree", str("type", "ShellCommandActivity"), str("command", treeCommand), str("scriptArgument", pidFile)),
			}})
			r := startRunnerProc(t, bin, s.URL, wg)
			activate(t, c, id)
			pids := waitPids(t, pidFile, 20*time.Second)
			if len(pids) != 2 {
				t.Fatalf("pids %v, want the shell's and its child's", pids)
			}
			killGroupAtCleanup(t, pids[0])
			in := instanceOf(t, c, id, "Tree")

			if err := tc.cancel(c, id, in); err != nil {
				t.Fatalf("cancel: %v", err)
			}
			r.Log.waitFor(t, "task canceled by the service", 10*time.Second)
			for _, pid := range pids {
				if err := processGone(pid, 5*time.Second); err != nil {
					t.Error(err)
				}
			}
			waitField(t, c, id, in+"_Attempt=1", "@status", "CANCELED", 10*time.Second)
			objs := objectFields(t, c, id, in+"_Attempt=1")
			wantFields(t, "the canceled attempt", objs[in+"_Attempt=1"], map[string]string{"errorId": "", "errorMessage": ""})
			if strings.Contains(r.Log.String(), "runner: task reported") {
				t.Error("the runner reported a status for the canceled task")
			}
			select {
			case <-r.done:
				t.Errorf("the runner exited after the cancel: %v", r.waitEr)
			default:
			}
		})
	}
}

// TestE2ERunnerKill9 kills a runner with SIGKILL while its task runs. The
// task's lease (reportProgressTimeout, two seconds here) runs out, the
// attempt times out, and after retryDelay (a minute, the finest a
// definition can state) a second runner runs the retry: exactly one
// attempt FINISHED. The acknowledgement deadline is shortened too: the
// scheduler plans its next reap from the lease a claim starts with.
func TestE2ERunnerKill9(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip(skipRetry)
	}
	bin := mustBuildBinary(t)
	s := mustRunServer(t, "--limit", "ackTimeout=3s", "--limit", "reportProgressTimeout=2s", "--limit", "minRetryDelay=1m")
	c := s.devClient()
	const wg = "wg-e2e-kill9"
	dir := t.TempDir()
	id := mustCreate(t, c, "runner-kill9", "runner-kill9")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{PipelineObjects: []types.PipelineObject{
		object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "none"),
			str("pipelineLogUri", "s3://logs/"), str("workerGroup", wg)),
		// The first run records its pid and sleeps; the second finishes.
		object("Work", "Work", str("type", "ShellCommandActivity"), str("maximumRetries", "1"), str("retryDelay", retryDelay),
			str("command", `if [ -e "$1/first.pid" ]; then echo second run; else echo $$ > "$1/tmp" && mv "$1/tmp" "$1/first.pid"; exec sleep 300; fi`),
			str("scriptArgument", dir)),
	}})
	first := startRunnerProc(t, bin, s.URL, wg, "--hostname", "first.test")
	activate(t, c, id)
	pids := waitPids(t, filepath.Join(dir, "first.pid"), 20*time.Second)
	// A runner killed with SIGKILL cannot stop its commands, which run in
	// process groups of their own; the test does.
	killGroupAtCleanup(t, pids[0])
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var exitErr *exec.ExitError
	if err := first.wait(t, 10*time.Second); !errors.As(err, &exitErr) {
		t.Fatalf("first runner exit: %v, want killed", err)
	}
	in := instanceOf(t, c, id, "Work")
	second := startRunnerProc(t, bin, s.URL, wg, "--hostname", "second.test")
	waitField(t, c, id, in, "@status", "FINISHED", retryTimeout)

	objs := objectFields(t, c, id, in, in+"_Attempt=1", in+"_Attempt=2")
	wantFields(t, "Attempt=1", objs[in+"_Attempt=1"], map[string]string{"@status": "TIMEDOUT", "hostname": "first.test"})
	wantFields(t, "Attempt=2", objs[in+"_Attempt=2"], map[string]string{"@status": "FINISHED", "hostname": "second.test"})
	wantFields(t, "the instance", objs[in], map[string]string{"@attemptCount": "2"})
	finished := 0
	for _, a := range queryAll(t, c, id, "ATTEMPT") {
		if field(t, objectFields(t, c, id, a)[a], "@status") == "FINISHED" {
			finished++
		}
	}
	if finished != 1 {
		t.Errorf("%d attempts FINISHED, want exactly 1", finished)
	}
	if got := attemptLog(t, second.LogDir, id, "Work", in, in+"_Attempt=2", "stdout.log"); got != "second run\n" {
		t.Errorf("the second runner's stdout.log = %q", got)
	}
}

// TestE2ERunnerSIGTERM stops a runner running two tasks with SIGTERM. It
// polls no more at once: the task that becomes ready meanwhile is not
// taken. The task that ends within the grace period is reported FINISHED;
// the other is killed, process tree and all, when the grace period ends,
// and handed back (FAILED with errorId TaskRunnerShutdown, a new attempt
// queued); then the runner exits 0.
func TestE2ERunnerSIGTERM(t *testing.T) {
	t.Parallel()
	bin := mustBuildBinary(t)
	s := mustRunServer(t)
	c := s.devClient()
	const wg = "wg-e2e-sigterm"
	dir := t.TempDir()
	goFIFO := filepath.Join(dir, "go")
	if err := syscall.Mkfifo(goFIFO, 0o600); err != nil {
		t.Fatal(err)
	}
	id := mustCreate(t, c, "runner-sigterm", "runner-sigterm")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{PipelineObjects: []types.PipelineObject{
		object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "none"),
			str("pipelineLogUri", "s3://logs/"), str("workerGroup", wg), str("maximumRetries", "1")),
		// Quick ends when the test writes to the FIFO.
		object("Quick", "Quick", str("type", "ShellCommandActivity"), str("scriptArgument", dir),
			str("command", `echo $$ > "$1/q.tmp" && mv "$1/q.tmp" "$1/quick.pid"; read line < "$1/go"; echo quick done`)),
		object("Slow", "Slow", str("type", "ShellCommandActivity"), str("command", treeCommand),
			str("scriptArgument", filepath.Join(dir, "slow.pids"))),
		object("After", "After", str("type", "ShellCommandActivity"), str("command", "echo after"), ref("dependsOn", "Quick")),
	}})
	r := startRunnerProc(t, bin, s.URL, wg, "--tasks", "2", "--grace", "3s")
	activate(t, c, id)
	waitPids(t, filepath.Join(dir, "quick.pid"), 20*time.Second)
	slow := waitPids(t, filepath.Join(dir, "slow.pids"), 20*time.Second)
	killGroupAtCleanup(t, slow[0])

	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	r.Log.waitFor(t, "runner: stopping", 10*time.Second)
	// Now let Quick finish, within the grace period.
	f, err := os.OpenFile(goFIFO, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("go\n")
	f.Close()

	if err := r.wait(t, 20*time.Second); err != nil {
		t.Errorf("runner exit after SIGTERM: %v, want 0", err)
	}
	if took := time.Since(sent); took < 3*time.Second {
		t.Errorf("the runner exited %v after SIGTERM, before its 3s grace period was over", took)
	}
	r.Log.waitFor(t, "grace period over", time.Second)
	for _, pid := range slow {
		if err := processGone(pid, 5*time.Second); err != nil {
			t.Error(err)
		}
	}

	quick, slowIn, after := instanceOf(t, c, id, "Quick"), instanceOf(t, c, id, "Slow"), instanceOf(t, c, id, "After")
	waitStatuses(t, c, id, map[string]string{quick: "FINISHED", after: "WAITING_FOR_RUNNER"})
	waitField(t, c, id, slowIn+"_Attempt=1", "@status", "FAILED", 10*time.Second)
	objs := objectFields(t, c, id, slowIn, slowIn+"_Attempt=1", after+"_Attempt=1")
	wantFields(t, "Slow's first attempt", objs[slowIn+"_Attempt=1"], map[string]string{"errorId": "TaskRunnerShutdown"})
	wantFields(t, "Slow", objs[slowIn], map[string]string{"@attemptCount": "2", "@headAttempt": slowIn + "_Attempt=2"})
	// After became ready once Quick finished, during the grace period; no
	// runner took it.
	wantFields(t, "After's attempt", objs[after+"_Attempt=1"], map[string]string{"@status": "WAITING_FOR_RUNNER", "hostname": ""})
	if got := attemptLog(t, r.LogDir, id, "Quick", quick, quick+"_Attempt=1", "stdout.log"); got != "quick done\n" {
		t.Errorf("Quick's stdout.log = %q", got)
	}
}
