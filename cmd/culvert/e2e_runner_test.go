package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// lineLog collects a process's log lines and lets a test wait for one,
// woken by each new line rather than by polling.
type lineLog struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

func (l *lineLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// waitFor waits up to d for a line containing substr and returns it.
func (l *lineLog) waitFor(t *testing.T, substr string, d time.Duration) string {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for seen := 0; ; {
		l.mu.Lock()
		for ; seen < len(l.lines); seen++ {
			if strings.Contains(l.lines[seen], substr) {
				line := l.lines[seen]
				l.mu.Unlock()
				return line
			}
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("no log line containing %q within %v", substr, d)
			return ""
		}
	}
}

// runnerProc is `culvert runner` running as a child process.
type runnerProc struct {
	Log    *lineLog
	LogDir string
	cmd    *exec.Cmd
	done   chan struct{} // closed once the process has exited and been reaped
	waitEr error         // cmd.Wait's result, valid after done
}

// startRunnerProc starts `culvert runner` against endpoint for
// workerGroup, signing with the development key from the environment as
// any AWS SDK program would, with its intervals shortened for tests:
// progress every 200ms, a grace period of 3s. args are appended, so a
// later flag overrides a default. At cleanup a runner still running is
// killed.
func startRunnerProc(t *testing.T, bin, endpoint, workerGroup string, args ...string) *runnerProc {
	t.Helper()
	logDir := filepath.Join(t.TempDir(), "logs")
	p := launchRunner(t, bin, runnerEnv(t, devSecret), append([]string{
		"--endpoint", endpoint, "--worker-group", workerGroup,
		"--log-dir", logDir, "--work-dir", t.TempDir(),
		"--progress-interval", "200ms", "--grace", "3s", "--log-level", "debug",
	}, args...)...)
	p.LogDir = logDir
	p.Log.waitFor(t, "runner: polling", startTimeout)
	return p
}

// runnerEnv is a hermetic environment whose AWS credentials are the
// development key with the given secret, and extra.
func runnerEnv(t *testing.T, secret string, extra ...string) []string {
	noFile := filepath.Join(t.TempDir(), "none")
	return hermeticEnv(append([]string{
		"AWS_ACCESS_KEY_ID=" + devAccessKeyID, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + noFile, "AWS_SHARED_CREDENTIALS_FILE=" + noFile, "AWS_EC2_METADATA_DISABLED=true",
	}, extra...)...)
}

// launchRunner starts `culvert runner args…` with env, and kills it at
// cleanup if it still runs.
func launchRunner(t *testing.T, bin string, env []string, args ...string) *runnerProc {
	t.Helper()
	p := &runnerProc{Log: newLineLog(), done: make(chan struct{})}
	full := append([]string{"runner"}, args...)
	p.cmd = exec.Command(bin, full...)
	p.cmd.Env = env
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.Log.add(sc.Text())
		}
		io.Copy(io.Discard, stderr)
		p.waitEr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("culvert %s log:\n%s", strings.Join(full, " "), p.Log)
		}
	})
	return p
}

// wait waits up to d for the runner to exit and returns its exit error.
func (p *runnerProc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.waitEr
	case <-time.After(d):
		t.Fatalf("culvert runner still running %v later", d)
		return nil
	}
}

// attemptLog returns the contents of a log file of an attempt under the
// runner's log directory, laid out as spec §9.4 describes.
func attemptLog(t *testing.T, logDir, pipelineID, component, instance, attempt, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(logDir, pipelineID, component, instance, attempt, name))
	if err != nil {
		t.Fatalf("attempt log: %v", err)
	}
	return string(b)
}

// waitFileFields waits up to d for the file at path to exist and returns
// its whitespace-separated fields as integers: pids a command wrote, with
// a rename so that the file appears whole.
func waitPids(t *testing.T, path string, d time.Duration) []int {
	t.Helper()
	for deadline := time.Now().Add(d); ; {
		b, err := os.ReadFile(path)
		if err == nil {
			var pids []int
			for _, f := range strings.Fields(string(b)) {
				n, err := strconv.Atoi(f)
				if err != nil {
					t.Fatalf("%s holds %q: %v", path, b, err)
				}
				pids = append(pids, n)
			}
			return pids
		}
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not written within %v", path, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processGone waits up to d for process pid to exit (a zombie runs no
// more, so it counts) and returns an error if it has not.
func processGone(pid int, d time.Duration) error {
	for deadline := time.Now().Add(d); ; {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X') {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d still runs %v later: %s", pid, d, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killGroupAtCleanup kills the process group of pid when the test ends, in
// case a command the test started outlived it.
func killGroupAtCleanup(t *testing.T, pid int) {
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })
}

// instanceOf returns the one instance id of pipeline id whose component is
// component, waiting for the scheduler to create it after activation
// (awaitInstance), and failing unless there is exactly one.
func instanceOf(t *testing.T, c *datapipeline.Client, id, component string) string {
	t.Helper()
	return awaitInstance(t, c, id, component)
}

// activate activates pipeline id.
func activate(t *testing.T, c *datapipeline.Client, id string) {
	t.Helper()
	if _, err := c.ActivatePipeline(context.Background(), &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}
}

// TestE2ERunnerRunsPipeline runs a pipeline with the real `culvert runner`
// process against a real server: a ShellCommandPrecondition gates a
// ShellCommandActivity with arguments and a stdout path, a scriptUri
// activity follows it, and an EmrActivity fails as unsupported. The
// attempts' stdout lands in the log directory as spec §9.4 lays it out,
// at the stdout path, and at pipelineLogUri.
func TestE2ERunnerRunsPipeline(t *testing.T) {
	t.Parallel()
	bin := mustBuildBinary(t)
	s := mustRunServer(t)
	c := s.devClient()
	dir := t.TempDir()
	marker := filepath.Join(dir, "marker")
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"script ran in $(basename \"$PWD\")\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sayOut := filepath.Join(dir, "out", "say.txt")
	logURI := filepath.Join(dir, "pipeline-logs")
	const wg = "wg-e2e-runs"
	id := mustCreate(t, c, "runner-runs", "runner-runs")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{PipelineObjects: []types.PipelineObject{
		object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "none"),
			str("maximumRetries", "0"), str("pipelineLogUri", "file://"+logURI+"/"), str("workerGroup", wg)),
		object("MarkerThere", "MarkerThere", str("type", "ShellCommandPrecondition"), str("command", `test -f "$1"`),
			str("scriptArgument", marker)),
		object("Say", "Say", str("type", "ShellCommandActivity"), str("command", `echo "$1, $2"; echo to-stderr >&2`),
			str("scriptArgument", "hello"), str("scriptArgument", "world"), str("stdout", sayOut), ref("precondition", "MarkerThere")),
		object("Script", "Script", str("type", "ShellCommandActivity"), str("scriptUri", script), ref("dependsOn", "Say")),
		object("Emr", "Emr", str("type", "EmrActivity"), str("step", "s3://bucket/job.jar,arg")),
	}})
	r := startRunnerProc(t, bin, s.URL, wg, "--hostname", "runner-e2e.test")
	activate(t, c, id)

	say, scr, emr := instanceOf(t, c, id, "Say"), instanceOf(t, c, id, "Script"), instanceOf(t, c, id, "Emr")
	waitStatuses(t, c, id, map[string]string{say: "FINISHED", scr: "FINISHED", emr: "FAILED"})

	if got := attemptLog(t, r.LogDir, id, "Say", say, say+"_Attempt=1", "stdout.log"); got != "hello, world\n" {
		t.Errorf("Say's stdout.log = %q, want %q", got, "hello, world\n")
	}
	if got := attemptLog(t, r.LogDir, id, "Say", say, say+"_Attempt=1", "stderr.log"); got != "to-stderr\n" {
		t.Errorf("Say's stderr.log = %q", got)
	}
	if b, err := os.ReadFile(sayOut); err != nil || string(b) != "hello, world\n" {
		t.Errorf("Say's stdout path holds %q, %v", b, err)
	}
	if got := attemptLog(t, logURI, id, "Say", say, say+"_Attempt=1", "stdout.log"); got != "hello, world\n" {
		t.Errorf("pipelineLogUri's copy of Say's stdout.log = %q", got)
	}
	if got := attemptLog(t, r.LogDir, id, "Script", scr, scr+"_Attempt=1", "stdout.log"); got != "script ran in work\n" {
		t.Errorf("Script's stdout.log = %q", got)
	}
	objs := objectFields(t, c, id, say+"_Attempt=1", emr)
	wantFields(t, "Say's attempt", objs[say+"_Attempt=1"], map[string]string{"@status": "FINISHED", "hostname": "runner-e2e.test", "errorId": ""})
	wantFields(t, "Emr's instance", objs[emr], map[string]string{"errorId": "UnsupportedActivity"})
	if msg := field(t, objs[emr], "errorMessage"); !strings.Contains(msg, "EmrActivity") || !strings.Contains(msg, "EMR cluster") {
		t.Errorf("Emr's errorMessage = %q, want it to say an EMR cluster is needed", msg)
	}
	precondition := instanceOf(t, c, id, "MarkerThere")
	if got := instanceStatuses(t, c, id)[precondition]; got != "FINISHED" {
		t.Errorf("precondition %s is %s, want FINISHED", precondition, got)
	}
}

// TestE2ERunnerFailureRetried runs a command that fails, writing more than
// a KiB to stderr: it is retried after retryDelay (a minute, the finest a
// definition can state), fails again, and the instance is FAILED with
// errorId ShellCommandFailed and the end of stderr in errorMessage.
func TestE2ERunnerFailureRetried(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip(skipRetry)
	}
	bin := mustBuildBinary(t)
	s := mustRunServer(t, "--limit", "minRetryDelay=1m")
	c := s.devClient()
	const wg = "wg-e2e-fails"
	id := mustCreate(t, c, "runner-fails", "runner-fails")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{PipelineObjects: []types.PipelineObject{
		object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "none"),
			str("pipelineLogUri", "s3://logs/"), str("workerGroup", wg)),
		object("Fail", "Fail", str("type", "ShellCommandActivity"), str("maximumRetries", "1"), str("retryDelay", retryDelay),
			str("command", `i=0; while [ $i -lt 200 ]; do echo "noise line $i" >&2; i=$((i+1)); done; echo LAST-WORDS >&2; exit 3`)),
	}})
	r := startRunnerProc(t, bin, s.URL, wg)
	activate(t, c, id)
	in := instanceOf(t, c, id, "Fail")
	waitField(t, c, id, in, "@status", "FAILED", retryTimeout)

	objs := objectFields(t, c, id, in, in+"_Attempt=1", in+"_Attempt=2")
	for _, oid := range []string{in, in + "_Attempt=1", in + "_Attempt=2"} {
		msg := field(t, objs[oid], "errorMessage")
		tail, ok := strings.CutPrefix(msg, "command exit status 3; stderr ends:\n")
		if field(t, objs[oid], "errorId") != "ShellCommandFailed" || !ok || !strings.HasSuffix(tail, "LAST-WORDS") ||
			len(tail) > 1024 || strings.Contains(tail, "noise line 0\n") {
			t.Errorf("%s: errorId %s, errorMessage %q…; want ShellCommandFailed and the last KiB of stderr", oid,
				field(t, objs[oid], "errorId"), msg[:min(len(msg), 80)])
		}
	}
	for _, attempt := range []string{in + "_Attempt=1", in + "_Attempt=2"} {
		if got := attemptLog(t, r.LogDir, id, "Fail", in, attempt, "stderr.log"); !strings.HasPrefix(got, "noise line 0\n") {
			t.Errorf("%s stderr.log starts %q, want all of stderr", attempt, got[:min(len(got), 20)])
		}
	}
}

// TestE2ERunnerStartup starts the runner process as a user of AWS's Task
// Runner might: with its option names and the endpoint from the
// environment, it polls; with credentials the service refuses, it exits
// at once with an error instead of retrying forever.
func TestE2ERunnerStartup(t *testing.T) {
	t.Parallel()
	bin := mustBuildBinary(t)
	s := mustRunServer(t)

	logDir := filepath.Join(t.TempDir(), "out")
	p := launchRunner(t, bin, runnerEnv(t, devSecret, "AWS_ENDPOINT_URL_DATA_PIPELINE="+s.URL),
		"--workerGroup=wg-aws-names", "--taskrunnerId", "tr-1", "--output", logDir)
	line := p.Log.waitFor(t, "runner: polling", startTimeout)
	for _, want := range []string{"worker_group=wg-aws-names", "runner_id=tr-1", "log_dir=" + logDir} {
		if !strings.Contains(line, want) {
			t.Errorf("start line %q lacks %q", line, want)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 20*time.Second); err != nil {
		t.Errorf("runner exit after SIGINT: %v, want 0", err)
	}

	bad := launchRunner(t, bin, runnerEnv(t, "not-the-secret"), "--endpoint", s.URL, "--worker-group", "wg-refused")
	var exitErr *exec.ExitError
	if err := bad.wait(t, 20*time.Second); !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 {
		t.Errorf("runner with a wrong secret exited %v, want exit status 2", err)
	}
	bad.Log.waitFor(t, "first heartbeat", time.Second)
}
