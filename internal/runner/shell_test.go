package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/objstore"
	"github.com/culvert/culvert/internal/objstore/s3test"
)

// shellTask is a task of the given type whose attempt has fields, plus
// other objects it may reference.
func shellTask(typ string, fields []Field, others ...*Object) *Task {
	attempt := "@Work_2026-03-01T10:00:00_Attempt=1"
	base := []Field{
		{Key: "@componentParent", Value: "Work", Ref: true},
		{Key: "@instanceParent", Value: "@Work_2026-03-01T10:00:00", Ref: true},
		{Key: "type", Value: typ},
	}
	t := &Task{ID: "task-1", PipelineID: "df-TEST", AttemptID: attempt, Objects: map[string]*Object{
		attempt: {ID: attempt, Fields: append(base, fields...)},
	}}
	for _, o := range others {
		t.Objects[o.ID] = o
	}
	return t
}

func str(key, value string) Field { return Field{Key: key, Value: value} }
func ref(key, id string) Field    { return Field{Key: key, Value: id, Ref: true} }

// newJob returns a job for task with fresh directories, whose Files reach
// local files and, through the real SDK, an in-process S3 of its own.
func newJob(t *testing.T, task *Task) *Job {
	t.Helper()
	job, _ := newS3Job(t, task)
	return job
}

// newS3Job is newJob that also returns the job's S3, with a bucket named
// "bucket".
func newS3Job(t *testing.T, task *Task) (*Job, *s3test.Server) {
	t.Helper()
	srv := s3test.New(t)
	srv.CreateBucket(t, "bucket")
	files, err := objstore.New(srv.Config(), objstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	job := &Job{Task: task, WorkDir: filepath.Join(root, "work"), ScratchDir: filepath.Join(root, "scratch"),
		LogDir: filepath.Join(root, "log"), Files: files, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	for _, d := range []string{job.WorkDir, job.ScratchDir, job.LogDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return job, srv
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantTaskError checks err against the status and errorId wanted; both
// empty means nil.
func wantTaskError(t *testing.T, err error, status Status, id string) *TaskError {
	t.Helper()
	if id == "" {
		if err != nil {
			t.Fatalf("Execute() = %v, want nil", err)
		}
		return nil
	}
	var te *TaskError
	if !errors.As(err, &te) {
		t.Fatalf("Execute() = %v, want a TaskError %s %s", err, status, id)
	}
	got := te.Status
	if got == "" {
		got = StatusFailed
	}
	if got != status || te.ID != id {
		t.Fatalf("Execute() = %v, want %s %s", te, status, id)
	}
	return te
}

// TestShell runs commands and checks each outcome and what the command
// wrote.
func TestShell(t *testing.T) {
	t.Parallel()
	s3In := &Object{ID: "@In_1", Fields: []Field{str("type", "S3DataNode"), str("directoryPath", "s3://bucket/in/")}}
	missingIn := &Object{ID: "@In_2", Fields: []Field{str("type", "S3DataNode"), str("directoryPath", "s3://no-such-bucket/in")}}
	sqlIn := &Object{ID: "@Sql_1", Fields: []Field{str("type", "SqlDataNode"), str("table", "t")}}
	dynamo := &Object{ID: "@Table_1", Fields: []Field{str("type", "DynamoDBDataNode"), str("tableName", "t")}}
	tests := []struct {
		name       string
		typ        string
		fields     []Field
		others     []*Object
		wantStatus Status
		wantID     string
		wantStdout string // "" = not checked; "{work}" is replaced by the working directory
		wantInMsg  string
	}{
		{name: "arguments and working directory", typ: "ShellCommandActivity",
			fields:     []Field{str("command", `echo "$1|$2|$#"; pwd`), str("scriptArgument", "a b"), str("scriptArgument", "c")},
			wantStdout: "a b|c|2\n{work}\n"},
		{name: "failure", typ: "ShellCommandActivity", fields: []Field{str("command", "echo disk full >&2; exit 3")},
			wantStatus: StatusFailed, wantID: "ShellCommandFailed", wantInMsg: "command exit status 3; stderr ends:\ndisk full"},
		{name: "failure without stderr", typ: "ShellCommandActivity", fields: []Field{str("command", "exit 4")},
			wantStatus: StatusFailed, wantID: "ShellCommandFailed", wantInMsg: "command exit status 4 with nothing on stderr"},
		{name: "precondition met", typ: "ShellCommandPrecondition", fields: []Field{str("command", "test -d .")}},
		{name: "precondition not met", typ: "ShellCommandPrecondition", fields: []Field{str("command", "test -e nothing-here")},
			wantStatus: StatusFalse, wantID: "PreconditionNotMet"},
		{name: "neither command nor script", typ: "ShellCommandActivity",
			wantStatus: StatusFailed, wantID: "InvalidTaskObject"},
		{name: "both command and script", typ: "ShellCommandActivity",
			fields:     []Field{str("command", "true"), str("scriptUri", "/bin/true")},
			wantStatus: StatusFailed, wantID: "InvalidTaskObject"},
		{name: "arguments with a script", typ: "ShellCommandActivity",
			fields:     []Field{str("scriptUri", "/bin/true"), str("scriptArgument", "x")},
			wantStatus: StatusFailed, wantID: "InvalidTaskObject"},
		{name: "bad stage", typ: "ShellCommandActivity", fields: []Field{str("command", "true"), str("stage", "yes")},
			wantStatus: StatusFailed, wantID: "InvalidTaskObject"},
		{name: "staged SQL input", typ: "ShellCommandActivity",
			fields: []Field{str("command", "touch ran"), str("stage", "TRUE"), ref("input", sqlIn.ID)}, others: []*Object{sqlIn},
			wantStatus: StatusFailed, wantID: "StagingUnsupported", wantInMsg: "input 1 is SqlDataNode @Sql_1"},
		{name: "staged input in a missing bucket", typ: "ShellCommandActivity",
			fields: []Field{str("command", "touch ran"), str("stage", "TRUE"), ref("input", missingIn.ID)}, others: []*Object{missingIn},
			wantStatus: StatusFailed, wantID: "StagingFailed", wantInMsg: "NoSuchBucket"},
		{name: "staged DynamoDB output", typ: "ShellCommandActivity",
			fields: []Field{str("command", "touch ran"), str("stage", "true"), ref("output", dynamo.ID)}, others: []*Object{dynamo},
			wantStatus: StatusFailed, wantID: "UnsupportedActivity", wantInMsg: "writes DynamoDBDataNode @Table_1"},
		{name: "unstaged S3 input", typ: "ShellCommandActivity",
			fields: []Field{str("command", "echo ran"), str("stage", "false"), ref("input", s3In.ID)}, others: []*Object{s3In},
			wantStdout: "ran\n"},
		{name: "staged without data nodes", typ: "ShellCommandActivity",
			fields: []Field{str("command", "echo ran"), str("stage", "true")}, wantStdout: "ran\n"},
		{name: "stdout to a missing bucket", typ: "ShellCommandActivity",
			fields:     []Field{str("command", "touch ran"), str("stdout", "s3://no-such-bucket/out.txt")},
			wantStatus: StatusFailed, wantID: "OutputUnavailable", wantInMsg: "s3://no-such-bucket/out.txt"},
		{name: "stdout to a relative path", typ: "ShellCommandActivity",
			fields:     []Field{str("command", "touch ran"), str("stdout", "out.txt")},
			wantStatus: StatusFailed, wantID: "OutputUnavailable", wantInMsg: "relative path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			job := newJob(t, shellTask(tc.typ, tc.fields, tc.others...))
			err := (&Shell{}).Execute(context.Background(), job)
			te := wantTaskError(t, err, tc.wantStatus, tc.wantID)
			if tc.wantInMsg != "" && (te == nil || !strings.Contains(te.Message, tc.wantInMsg)) {
				t.Errorf("errorMessage = %q, want it to contain %q", te.Message, tc.wantInMsg)
			}
			if tc.wantStdout != "" {
				want := strings.ReplaceAll(tc.wantStdout, "{work}", job.WorkDir)
				if got := readFile(t, filepath.Join(job.LogDir, StdoutLog)); got != want {
					t.Errorf("stdout = %q, want %q", got, want)
				}
			}
			if _, err := os.Stat(filepath.Join(job.WorkDir, "ran")); err == nil && tc.wantID != "" {
				t.Errorf("the command ran, though the task failed before it should have")
			}
		})
	}
}

// TestShellStderrTail fails a command that writes more than a KiB to
// stderr: errorMessage carries the last KiB, from a character boundary.
func TestShellStderrTail(t *testing.T) {
	t.Parallel()
	cmd := `i=0; while [ $i -lt 300 ]; do echo "ligne é $i" >&2; i=$((i+1)); done; echo LAST-WORDS >&2; exit 2`
	job := newJob(t, shellTask("ShellCommandActivity", []Field{str("command", cmd)}))
	te := wantTaskError(t, (&Shell{}).Execute(context.Background(), job), StatusFailed, "ShellCommandFailed")
	tail, ok := strings.CutPrefix(te.Message, "command exit status 2; stderr ends:\n")
	if !ok {
		t.Fatalf("errorMessage = %q", te.Message)
	}
	if len(tail) > stderrTail || len(tail) < stderrTail-8 || !strings.HasSuffix(tail, "LAST-WORDS") || strings.Contains(tail, "ligne é 0\n") {
		t.Errorf("stderr tail is %d bytes, %q…; want the last %d bytes ending in LAST-WORDS", len(tail), tail[:min(len(tail), 40)], stderrTail)
	}
	if !strings.Contains(te.StackTrace, filepath.Join(job.LogDir, StderrLog)) {
		t.Errorf("errorStackTrace = %q, want the stderr log's path", te.StackTrace)
	}
	if full := readFile(t, filepath.Join(job.LogDir, StderrLog)); !strings.HasPrefix(full, "ligne é 0\n") {
		t.Errorf("stderr log starts %q, want all of stderr", full[:20])
	}
}

// TestShellScriptURI runs scripts named by scriptUri.
func TestShellScriptURI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil { // not executable: the runner runs it anyway
			t.Fatal(err)
		}
		return p
	}
	plain := write("plain.sh", "echo plain $0 | sed 's|/.*/||'\n")
	shebang := write("shebang.sh", "#!/bin/sh -e\nfalse\necho not reached\n")
	tests := []struct {
		name       string
		uri        string
		wantID     string
		wantStdout string
	}{
		{name: "no #! line", uri: plain, wantStdout: "plain script\n"},
		{name: "file URL", uri: "file://" + plain, wantStdout: "plain script\n"},
		{name: "#! line with an argument", uri: shebang, wantID: "ShellCommandFailed", wantStdout: ""},
		{name: "missing", uri: filepath.Join(dir, "nope.sh"), wantID: "ScriptUnavailable"},
		{name: "missing on S3", uri: "s3://bucket/nope.sh", wantID: "ScriptUnavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			job := newJob(t, shellTask("ShellCommandActivity", []Field{str("scriptUri", tc.uri)}))
			err := (&Shell{}).Execute(context.Background(), job)
			status := StatusFailed
			if tc.wantID == "" {
				status = ""
			}
			wantTaskError(t, err, status, tc.wantID)
			if tc.wantID != "ScriptUnavailable" {
				if got := readFile(t, filepath.Join(job.LogDir, StdoutLog)); got != tc.wantStdout {
					t.Errorf("stdout = %q, want %q", got, tc.wantStdout)
				}
			}
		})
	}
}

// TestShellOutputPaths copies stdout and stderr to the paths the task
// names, creating their directories, when the command fails too.
func TestShellOutputPaths(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "a", "out.txt")
	errPath := filepath.Join(t.TempDir(), "b", "err.txt")
	job := newJob(t, shellTask("ShellCommandActivity", []Field{
		str("command", "echo to-out; echo to-err >&2; exit 1"), str("stdout", out), str("stderr", "file://"+errPath)}))
	wantTaskError(t, (&Shell{}).Execute(context.Background(), job), StatusFailed, "ShellCommandFailed")
	if got := readFile(t, out); got != "to-out\n" {
		t.Errorf("stdout path holds %q", got)
	}
	if got := readFile(t, errPath); got != "to-err\n" {
		t.Errorf("stderr path holds %q", got)
	}
}

// TestShellCancelKillsProcessGroup cancels a command that started a child
// (which, in one case, ignores SIGTERM): Execute returns promptly and no
// process of the command's group is left.
func TestShellCancelKillsProcessGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prefix string // run by the shell first
		child  string
	}{
		{name: "child obeys SIGTERM", child: "sleep 300"},
		{name: "child ignores SIGTERM", child: `sh -c 'trap "" TERM; sleep 300; :'`},
		// The shell outlives SIGTERM too, so only KillGrace's SIGKILL
		// ends it.
		{name: "everything ignores SIGTERM", prefix: `trap "" TERM; `, child: "sleep 300"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fifo := filepath.Join(t.TempDir(), "pids")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := tc.prefix + tc.child + ` & echo $$ $! > "$1"; wait`
			job := newJob(t, shellTask("ShellCommandActivity", []Field{str("command", cmd), str("scriptArgument", fifo)}))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- (&Shell{KillGrace: 200 * time.Millisecond}).Execute(ctx, job) }()

			// Reading the FIFO waits until the command has written
			// both pids.
			f, err := os.Open(fifo)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			var pids []int
			for _, s := range strings.Fields(string(b)) {
				n, err := strconv.Atoi(s)
				if err != nil {
					t.Fatalf("pids %q: %v", b, err)
				}
				pids = append(pids, n)
			}
			if len(pids) != 2 {
				t.Fatalf("pids %q, want the shell's and its child's", b)
			}
			t.Cleanup(func() { syscall.Kill(-pids[0], syscall.SIGKILL) })
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Execute() after cancel = %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Execute did not return within 10s of its context ending")
			}
			for _, pid := range pids {
				if err := waitGone(pid, 5*time.Second); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// waitGone waits until process pid has exited (a zombie counts: it runs
// no more), and returns an error if it has not within d.
func waitGone(pid int, d time.Duration) error {
	for deadline := time.Now().Add(d); ; {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		// The state follows the command name, which is in parentheses.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X') {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d still runs %v later: %s", pid, d, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
