package main

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/objstore/s3test"
)

// TestE2ERunnerS3KeyExists gates an activity on an S3KeyExists
// precondition, checked by the real runner process: while the key is
// missing the check is FALSE and the activity waits; once the key
// appears, the next check (retryDelay later: a minute, the finest a
// definition can state) is met and the activity runs.
func TestE2ERunnerS3KeyExists(t *testing.T) {
	t.Parallel()
	bin := mustBuildBinary(t)
	s := mustRunServer(t, "--limit", "minRetryDelay=1s")
	c := s.devClient()
	srv := s3test.New(t)
	srv.CreateBucket(t, "culvert-in")

	const wg = "wg-e2e-s3key"
	id := mustCreate(t, c, "s3-key-exists", "s3-key-exists")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{PipelineObjects: []types.PipelineObject{
		object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "none"),
			str("role", "DataPipelineDefaultRole"), str("maximumRetries", "0"), str("workerGroup", wg)),
		object("Ready", "Ready", str("type", "S3KeyExists"), str("s3Key", "s3://culvert-in/ready/_SUCCESS"), str("retryDelay", retryDelay)),
		object("Process", "Process", str("type", "ShellCommandActivity"), str("command", "echo processed"), ref("precondition", "Ready")),
	}})
	r := startWorkRunner(t, bin, s.URL, wg, srv)
	activate(t, c, id)
	ready, process := awaitInstance(t, c, id, "Ready"), awaitInstance(t, c, id, "Process")

	first := ready + "_Attempt=1"
	waitField(t, c, id, first, "errorId", "PreconditionNotMet", workTimeout)
	r.Log.waitFor(t, "status=FALSE", startTimeout)
	if got := instanceStatuses(t, c, id)[process]; got == "FINISHED" || got == "RUNNING" {
		t.Fatalf("Process is %s while its precondition is not met", got)
	}
	if strings.Contains(r.Log.String(), "starting command") {
		t.Fatal("the activity's command ran before its precondition was met")
	}

	srv.PutObject(t, "culvert-in", "ready/_SUCCESS", "")
	waitFinished(t, c, id, retryTimeout, ready, process)
	objs := objectFields(t, c, id, ready+"_Attempt=2")
	wantFields(t, "the second check", objs[ready+"_Attempt=2"], map[string]string{"@status": "FINISHED", "errorId": ""})
	if got := attemptLog(t, r.LogDir, id, "Process", process, process+"_Attempt=1", "stdout.log"); got != "processed\n" {
		t.Errorf("Process's stdout.log = %q", got)
	}
}

// TestE2ERunnerExists checks an Exists precondition on an S3DataNode
// through the real runner process: the task object carries the node
// whole, with its evaluated directoryPath, so the runner checks it without
// asking the service; the data is there, the check is met, and the
// activity reading the node runs.
func TestE2ERunnerExists(t *testing.T) {
	t.Parallel()
	bin := mustBuildBinary(t)
	s := mustRunServer(t)
	c := s.devClient()
	srv := s3test.New(t)
	srv.CreateBucket(t, "culvert-in")
	srv.PutObject(t, "culvert-in", "daily/2026/part-1.csv", "a,b\n")

	const wg = "wg-e2e-exists"
	id := mustCreate(t, c, "exists", "exists")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{PipelineObjects: []types.PipelineObject{
		object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "none"),
			str("maximumRetries", "0"), str("workerGroup", wg)),
		object("DataThere", "DataThere", str("type", "Exists")),
		object("Daily", "Daily", str("type", "S3DataNode"), str("directoryPath", "s3://culvert-in/daily/2026"), ref("precondition", "DataThere")),
		object("Count", "Count", str("type", "ShellCommandActivity"), str("stage", "true"), ref("input", "Daily"),
			str("command", `cat ${INPUT1_STAGING_DIR}/*`)),
	}})
	r := startWorkRunner(t, bin, s.URL, wg, srv)
	activate(t, c, id)
	check, count := awaitInstance(t, c, id, "DataThere"), awaitInstance(t, c, id, "Count")
	waitFinished(t, c, id, workTimeout, check, count)
	r.Log.waitFor(t, "directoryPath=s3://culvert-in/daily/2026/", time.Second)
	if strings.Contains(r.Log.String(), "through EvaluateExpression") {
		t.Errorf("the runner asked the service where the node is; the task object should say")
	}
	if got := attemptLog(t, r.LogDir, id, "Count", count, count+"_Attempt=1", "stdout.log"); got != "a,b\n" {
		t.Errorf("Count's stdout.log = %q", got)
	}
}
