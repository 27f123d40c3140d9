package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/pgtest"
)

// resourcePipeline is a definition whose one activity runs on an
// Ec2Resource: no worker group names a runner, so only culvert serve's
// embedded runner can run it.
func resourcePipeline(start time.Time, command string) *datapipeline.PutPipelineDefinitionInput {
	return &datapipeline.PutPipelineDefinitionInput{PipelineObjects: []types.PipelineObject{
		object("Default", "Default", str("scheduleType", "cron"), ref("schedule", "Once"),
			str("role", "DataPipelineDefaultRole"), str("resourceRole", "DataPipelineDefaultResourceRole")),
		object("Once", "Once", str("type", "Schedule"), str("period", "1 day"),
			str("startDateTime", start.Format("2006-01-02T15:04:05")), str("occurrences", "1")),
		object("Box", "Box", str("type", "Ec2Resource"), str("terminateAfter", "1 hour")),
		object("Say", "Say", str("type", "ShellCommandActivity"), ref("runsOn", "Box"), str("command", command)),
	}}
}

// TestEmbeddedRunnerRunsResourceWork runs a pipeline whose activity runs
// on an Ec2Resource with nothing but culvert serve: the embedded runner
// serves the resource's worker group, the activity's command really runs
// and its output is in the attempt's log directory, and the resource goes
// CREATING → RUNNING → FINISHED. On PostgreSQL the node must first win the
// leader lease, since only the leader runs resources.
func TestEmbeddedRunnerRunsResourceWork(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testEmbeddedRunnerRunsResourceWork(t, mustRunServer(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testEmbeddedRunnerRunsResourceWork(t, mustRunServer(t, "--database-url", pgtest.NewDatabase(t).URL()))
	})
}

func testEmbeddedRunnerRunsResourceWork(t *testing.T, s *testServer) {
	c := s.devClient()
	ctx := context.Background()
	id := mustCreate(t, c, "embedded", "embedded")
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	mustPut(t, c, id, resourcePipeline(start, "echo hello from #{@scheduledStartTime}"))
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	stamp := start.Format("2006-01-02T15:04:05")
	box, say := "@Box_"+stamp, "@Say_"+stamp
	waitStatuses(t, c, id, map[string]string{say: "FINISHED", box: "FINISHED"})

	attempt := say + "_Attempt=1"
	logDir := filepath.Join(s.Data, "logs", id, "Say", say, attempt)
	out, err := os.ReadFile(filepath.Join(logDir, "stdout.log"))
	if err != nil {
		t.Fatalf("the attempt's stdout: %v", err)
	}
	if got, want := strings.TrimSpace(string(out)), "hello from "+stamp; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	fields := objectFields(t, c, id, attempt)[attempt]
	if h := field(t, fields, "hostname"); h == "" {
		t.Errorf("the attempt has no hostname: no runner claimed it")
	}
}

// TestEmbeddedRunnerOff checks that --embedded-runner=false leaves the
// resource's tasks to runners elsewhere: the activity waits for a runner.
func TestEmbeddedRunnerOff(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t, "--embedded-runner=false")
	c := s.devClient()
	ctx := context.Background()
	id := mustCreate(t, c, "no-embedded", "no-embedded")
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	mustPut(t, c, id, resourcePipeline(start, "true"))
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	stamp := start.Format("2006-01-02T15:04:05")
	box, say := "@Box_"+stamp, "@Say_"+stamp
	waitStatuses(t, c, id, map[string]string{say: "WAITING_FOR_RUNNER", box: "CREATING"})
	// A runner of the resource's worker group, elsewhere, takes it.
	r := &sdkRunner{t: t, c: c, workerGroup: "culvert:" + id + ":Box"}
	task := r.next(ctx)
	r.finish(ctx, task, types.TaskStatusFinished, "")
	waitStatuses(t, c, id, map[string]string{say: "FINISHED", box: "FINISHED"})
}

// TestEmbeddedRunnerTerminateAfter runs a command that would sleep for
// five minutes on a resource whose terminateAfter is one minute: the
// resource and the activity end TIMEDOUT, and the embedded runner, no
// longer needed, kills the command and its process group.
func TestEmbeddedRunnerTerminateAfter(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for a one-minute terminateAfter")
	}
	s := mustRunServer(t, "--shutdown-wait", "1s")
	c := s.devClient()
	ctx := context.Background()
	dir := t.TempDir()
	id := mustCreate(t, c, "embedded-terminate", "embedded-terminate")
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	def := resourcePipeline(start, `echo $$ > "$1/tmp" && mv "$1/tmp" "$1/pid"; exec sleep 300`)
	def.PipelineObjects[2] = object("Box", "Box", str("type", "Ec2Resource"), str("terminateAfter", "1 minute"))
	def.PipelineObjects[3].Fields = append(def.PipelineObjects[3].Fields, str("scriptArgument", dir))
	mustPut(t, c, id, def)
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	pids := waitPids(t, filepath.Join(dir, "pid"), 20*time.Second)
	killGroupAtCleanup(t, pids[0])
	stamp := start.Format("2006-01-02T15:04:05")
	box, say := "@Box_"+stamp, "@Say_"+stamp
	waitField(t, c, id, box, "@status", "TIMEDOUT", 2*time.Minute)
	waitField(t, c, id, say, "@status", "TIMEDOUT", 10*time.Second)
	if err := processGone(pids[0], 15*time.Second); err != nil {
		t.Errorf("the command on the timed-out resource: %v", err)
	}
}

// TestEmbeddedRunnerTasksFlag checks that serve refuses --runner-tasks
// below 1 at start, rather than logging a runner that never starts.
func TestEmbeddedRunnerTasksFlag(t *testing.T) {
	t.Parallel()
	_, err := startServer(t, noEnv, "--runner-tasks", "0")
	if err == nil || !strings.Contains(err.Error(), "--runner-tasks") {
		t.Fatalf("serve --runner-tasks 0: err = %v, want one naming --runner-tasks", err)
	}
	if _, err := startServer(t, noEnv, "--runner-tasks", "0", "--embedded-runner=false"); err != nil {
		t.Errorf("serve --runner-tasks 0 --embedded-runner=false: %v; the flag means nothing without the embedded runner", err)
	}
}
