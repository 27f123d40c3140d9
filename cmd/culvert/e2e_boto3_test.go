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

// TestBoto3 runs testdata/boto3_e2e.py against a fresh server: botocore's
// own serializers, error parsing (client.exceptions.*) and paginators,
// which Python task runners and tools use.
func TestBoto3(t *testing.T) {
	t.Parallel()
	runBoto3Script(t, "boto3_e2e.py")
}

// TestBoto3TaskRunner runs testdata/boto3_runner.py against a fresh server:
// a task runner of about 30 lines of boto3 (poll_for_task,
// report_task_progress, set_task_status) drives a two-interval backfill of
// a three-activity dependsOn chain to FINISHED, and the script checks the
// order the tasks came in, every instance's status and the pipeline's.
func TestBoto3TaskRunner(t *testing.T) {
	t.Parallel()
	runBoto3Script(t, "boto3_runner.py")
}

// runBoto3Script runs a Python script from testdata with the server's URL
// as its argument, failing the test if it fails. Without boto3 the test
// skips, unless CULVERT_TEST_REQUIRE_PYTHON=1 makes that a failure.
func runBoto3Script(t *testing.T, script string) {
	t.Helper()
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
	cmd := exec.CommandContext(ctx, python, filepath.Join("testdata", script), s.URL)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}
