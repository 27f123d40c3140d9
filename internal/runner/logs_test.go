package runner

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/objstore"
	"github.com/culvert/culvert/internal/objstore/s3test"
)

// runOne runs one task through r from acknowledgement to report, as a
// slot does, and returns when it is reported.
func runOne(r *Runner, to *types.TaskObject) {
	ctx := context.Background()
	r.runTask(&session{poll: ctx, kill: ctx, report: ctx}, &datapipeline.PollForTaskOutput{TaskObject: to})
}

// TestLogLocation checks that the acknowledgement says where the
// attempt's logs are (@logLocation): under pipelineLogUri when the
// pipeline has one, where the logs (stdout, stderr and the runner's event
// log) are then copied (§9.4); else the local log directory. Later
// progress reports carry no fields.
func TestLogLocation(t *testing.T) {
	t.Parallel()
	const attemptPath = "df-TEST/Work/@Work_2026-03-01T10:00:00/@Work_2026-03-01T10:00:00_Attempt=1/"
	srv := s3test.New(t)
	srv.CreateBucket(t, "logs")
	files, err := objstore.New(srv.Config(), objstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		logURI   string // pipelineLogUri; "" for none
		wantBase string // "{logdir}" is the runner's log directory
	}{
		{name: "pipelineLogUri on S3", logURI: "s3://logs/base", wantBase: "s3://logs/base/"},
		{name: "no pipelineLogUri", wantBase: "file://{logdir}/"},
		{name: "pipelineLogUri the service refuses", logURI: "logs/relative", wantBase: "file://{logdir}/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI()
			r := testRunner(t, api, &Shell{}, func(c *Config) { c.Files = files })
			kv := []string{"command", "echo to-out; echo to-err >&2"}
			if tc.logURI != "" {
				kv = append(kv, "pipelineLogUri", tc.logURI)
			}
			api.mu.Lock()
			api.byTask["task-Work"] = a("Work")
			api.mu.Unlock()
			runOne(r, taskObject("Work", "ShellCommandActivity", kv...))

			want := strings.ReplaceAll(tc.wantBase, "{logdir}", r.cfg.LogDir) + attemptPath
			api.mu.Lock()
			reports := api.fields[a("Work")]
			api.mu.Unlock()
			if len(reports) == 0 {
				t.Fatal("no progress report")
			}
			wantAck := []types.Field{{Key: aws.String("@logLocation"), StringValue: aws.String(want)}}
			if diff := cmp.Diff(wantAck, reports[0], cmp.AllowUnexported(types.Field{})); diff != "" {
				t.Errorf("acknowledgement fields mismatch (-want +got):\n%s", diff)
			}
			for i, f := range reports[1:] {
				if len(f) != 0 {
					t.Errorf("progress report %d has fields %v, want none", i+2, f)
				}
			}
			local := filepath.Join(r.cfg.LogDir, filepath.FromSlash(attemptPath))
			if got := readFile(t, filepath.Join(local, StdoutLog)); got != "to-out\n" {
				t.Errorf("local stdout.log = %q", got)
			}
			if got := readFile(t, filepath.Join(local, EventLog)); !strings.Contains(got, `msg="runner: task finished"`) {
				t.Errorf("runner.log does not say the task finished:\n%s", got)
			}
			if !strings.HasPrefix(tc.logURI, "s3://") {
				return
			}
			key := strings.TrimPrefix(want, "s3://logs/")
			for name, wantBody := range map[string]string{StdoutLog: "to-out\n", StderrLog: "to-err\n"} {
				if got := srv.GetObject(t, "logs", key+name); got != wantBody {
					t.Errorf("%s at pipelineLogUri = %q, want %q", name, got, wantBody)
				}
			}
			if got := srv.GetObject(t, "logs", key+EventLog); !strings.Contains(got, "runner: starting command") {
				t.Errorf("runner.log at pipelineLogUri:\n%s", got)
			}
		})
	}
}

// TestLogLocationRefused acknowledges a task at a service that refuses
// its @logLocation: the runner acknowledges again without it, and the
// task runs.
func TestLogLocationRefused(t *testing.T) {
	t.Parallel()
	api := newFakeAPI()
	api.progress = func(_ string, n int) (bool, error) {
		if n == 1 {
			return false, &types.InvalidRequestException{Message: aws.String("@logLocation: no")}
		}
		return false, nil
	}
	api.mu.Lock()
	api.byTask["task-Work"] = a("Work")
	api.mu.Unlock()
	r := testRunner(t, api, &Shell{}, nil)
	runOne(r, taskObject("Work", "ShellCommandActivity", "command", "true"))
	api.mu.Lock()
	reports := api.fields[a("Work")]
	api.mu.Unlock()
	if len(reports) < 2 || len(reports[0]) != 1 || len(reports[1]) != 0 {
		t.Errorf("progress reports' fields = %v; want the location refused, then an acknowledgement without it", reports)
	}
	got := api.log("status")
	if len(got) != 1 || got[0].status != "FINISHED" {
		t.Errorf("status reports %+v, want FINISHED", got)
	}
}

func TestValidLogLocation(t *testing.T) {
	t.Parallel()
	for loc, want := range map[string]bool{
		"s3://logs/p/df-1/C/@C_1/@C_1_Attempt=1/": true,
		"file:///var/logs/df-1/":                  true,
		"file://localhost/var/logs/":              true,
		"/var/logs/df-1/":                         true,
		"s3:///no-bucket/":                        false,
		"logs/relative/":                          false,
		"file://host/x/":                          false,
		"s3://b/a/../b/":                          false,
		"s3://b/" + strings.Repeat("x", 2048):     false,
		"hdfs://nn/logs/":                         false,
	} {
		if got := validLogLocation(loc); got != want {
			t.Errorf("validLogLocation(%q) = %v, want %v", loc, got, want)
		}
	}
}

// TestSecretsRedacted fails a task whose command shows a secret field's
// value on stderr and in its own text: neither the reported errorMessage,
// the event log nor the runner's own log holds it.
func TestSecretsRedacted(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-very-secret"
	api := newFakeAPI()
	var mu sync.Mutex
	var reported *datapipeline.SetTaskStatusInput
	api.setStatus = func(in *datapipeline.SetTaskStatusInput, _ int) error {
		mu.Lock()
		defer mu.Unlock()
		reported = in
		return nil
	}
	var runnerLog lockedBuffer
	r := testRunner(t, api, &Shell{}, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&runnerLog, nil)) })
	to := taskObject("Work", "ShellCommandActivity", "command", "echo connecting with "+secret+" >&2; exit 3", "*password", secret)
	runOne(r, to)
	mu.Lock()
	defer mu.Unlock()
	if reported == nil {
		t.Fatal("no SetTaskStatus")
	}
	msg := aws.ToString(reported.ErrorMessage) + aws.ToString(reported.ErrorStackTrace)
	if strings.Contains(msg, secret) || !strings.Contains(msg, "connecting with ****") {
		t.Errorf("reported errorMessage and stack trace = %q; want the secret replaced by ****", msg)
	}
	events := readFile(t, filepath.Join(r.cfg.LogDir, "df-TEST", "Work", "@Work_2026-03-01T10:00:00", a("Work"), EventLog))
	if strings.Contains(events, secret) || !strings.Contains(events, "****") {
		t.Errorf("runner.log shows the secret, or nothing in its place:\n%s", events)
	}
	if got := runnerLog.String(); strings.Contains(got, secret) || !strings.Contains(got, "****") {
		t.Errorf("the runner's log shows the secret, or nothing in its place:\n%s", got)
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
