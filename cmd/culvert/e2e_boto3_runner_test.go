package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestBoto3TaskRunner runs testdata/boto3_runner.py against a fresh server:
// a task runner of about 30 lines of boto3 (poll_for_task,
// report_task_progress, set_task_status) drives a two-interval backfill of
// a three-activity dependsOn chain to FINISHED, and the script checks the
// order the tasks came in, every instance's status and the pipeline's.
func TestBoto3TaskRunner(t *testing.T) {
	t.Parallel()
	const requireVar = "CULVERT_TEST_REQUIRE_PYTHON"
	python := requireTool(t, "python3", requireVar)
	env := awsEnv(t)
	probe := exec.Command(python, "-c", "import boto3, botocore; print(boto3.__version__, botocore.__version__)")
	probe.Env = env
	version, err := probe.CombinedOutput()
	if err != nil {
		if os.Getenv(requireVar) == "1" {
			t.Fatalf("python3 cannot import boto3 and %s=1: %v\n%s", requireVar, err, version)
		}
		t.Skipf("SKIP: python3 cannot import boto3 (%v); this end-to-end test did not run. Set %s=1 to make this a failure.\n%s", err, requireVar, version)
	}
	t.Logf("boto3, botocore: %s", bytes.TrimSpace(version))

	s := mustRunServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join("testdata", "boto3_runner.py"), s.URL)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3_runner.py: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}
