package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// The retryDelay of TestSDKRetries: the finest a definition can state
// (with --limit minRetryDelay=1m), and how long its retries are waited for.
const (
	retryDelay   = "1 minutes"
	retryWait    = time.Minute
	retryTimeout = retryWait + 30*time.Second
	skipRetry    = "-short: the retry is due retryDelay (1 minute, the finest a definition can state) after the failure"
)

// pollTask polls workerGroup once as host and returns the task handed
// out, or nil once the server's poll wait (1 s) passes without one. It
// does not acknowledge the task.
func pollTask(t *testing.T, c *datapipeline.Client, workerGroup, host string) *types.TaskObject {
	t.Helper()
	out, err := c.PollForTask(context.Background(), &datapipeline.PollForTaskInput{WorkerGroup: aws.String(workerGroup), Hostname: aws.String(host)})
	if err != nil {
		t.Fatalf("PollForTask(%s): %v", workerGroup, err)
	}
	return out.TaskObject
}

// awaitTask polls until a task arrives and fails after within. It does not
// acknowledge the task.
func awaitTask(t *testing.T, c *datapipeline.Client, workerGroup, host string, within time.Duration) *types.TaskObject {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); {
		if task := pollTask(t, c, workerGroup, host); task != nil {
			return task
		}
	}
	t.Fatalf("no task for worker group %s within %v", workerGroup, within)
	return nil
}

// ack acknowledges a task with ReportTaskProgress.
func ack(t *testing.T, c *datapipeline.Client, task *types.TaskObject) {
	t.Helper()
	out, err := c.ReportTaskProgress(context.Background(), &datapipeline.ReportTaskProgressInput{TaskId: task.TaskId})
	if err != nil {
		t.Fatalf("ReportTaskProgress(%s): %v", aws.ToString(task.AttemptId), err)
	}
	if out.Canceled {
		t.Fatalf("ReportTaskProgress(%s) says canceled", aws.ToString(task.AttemptId))
	}
}

// setTaskStatus reports a task's outcome; errorID, when set, comes with a
// message and a stack trace derived from it.
func setTaskStatus(c *datapipeline.Client, task *types.TaskObject, status types.TaskStatus, errorID string) error {
	in := &datapipeline.SetTaskStatusInput{TaskId: task.TaskId, TaskStatus: status}
	if errorID != "" {
		in.ErrorId, in.ErrorMessage, in.ErrorStackTrace = aws.String(errorID), aws.String(errorID+" message"), aws.String(errorID+" stack")
	}
	_, err := c.SetTaskStatus(context.Background(), in)
	return err
}

// objectFields describes the given objects of pipeline id and returns
// their fields by object id, failing unless every one exists.
func objectFields(t *testing.T, c *datapipeline.Client, id string, ids ...string) map[string][]types.Field {
	t.Helper()
	out, err := c.DescribeObjects(context.Background(), &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: ids})
	if err != nil {
		t.Fatalf("DescribeObjects(%v): %v", ids, err)
	}
	got := map[string][]types.Field{}
	for _, o := range out.PipelineObjects {
		got[aws.ToString(o.Id)] = o.Fields
	}
	for _, oid := range ids {
		if _, ok := got[oid]; !ok {
			t.Fatalf("DescribeObjects(%v) has no %s", ids, oid)
		}
	}
	return got
}

// waitField waits until object oid of pipeline id has key = want, which
// the scheduler reaches asynchronously, and fails after within.
func waitField(t *testing.T, c *datapipeline.Client, id, oid, key, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		out, err := c.DescribeObjects(context.Background(), &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: []string{oid}})
		if err != nil {
			t.Fatalf("DescribeObjects(%s): %v", oid, err)
		}
		var got []string
		if len(out.PipelineObjects) == 1 {
			got = fieldValues(out.PipelineObjects[0].Fields, key)
		}
		if slices.Equal(got, []string{want}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s = %q after %v, want %q; instances: %v", oid, key, got, within, want, instanceStatuses(t, c, id))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantFields checks fields against want (key → the one value wanted; ""
// means the key must be absent).
func wantFields(t *testing.T, what string, fields []types.Field, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got := fieldValues(fields, k)
		if v == "" && len(got) != 0 || v != "" && !slices.Equal(got, []string{v}) {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// retryScenario starts a pipeline and drives it up to a retry that is
// not due yet, checking what can be seen before it is, and returns the
// rest of the scenario, which begins by waiting for the retry.
type retryScenario func(t *testing.T, c *datapipeline.Client) (afterRetry func(t *testing.T))

// TestSDKRetries runs three scenarios whose second try is due retryDelay
// after the first ends (§5.3): failures retried then final, a lost lease
// reassigned, a precondition that is not met yet. A definition states
// retryDelay in whole minutes at the finest, so a retry is a minute away;
// every scenario first runs up to its retry, then all wait together, so
// the test takes about a minute, not one per scenario (and -short stops it
// before the wait). The server's ackTimeout is three seconds (long enough
// for a runner that acknowledges at once, under -race), so a lease a
// runner does not acknowledge is lost within ackTimeout plus the
// scheduler's five-second reap.
func TestSDKRetries(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t, "--limit", "ackTimeout=3s", "--limit", "minRetryDelay=1m")
	scenarios := []struct {
		name string
		run  retryScenario
	}{
		{"failed twice", retriesThenFailure},
		{"lost lease", lostLeaseReassigned},
		{"precondition not yet", preconditionNotYet},
	}
	rest := make([]func(*testing.T), len(scenarios))
	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { rest[i] = sc.run(t, s.devClient()) })
	}
	if testing.Short() {
		t.Skip(skipRetry)
	}
	for i, sc := range scenarios {
		if rest[i] != nil {
			t.Run(sc.name+" retried", rest[i])
		}
	}
}

// retriesThenFailure runs an activity with maximumRetries 1 whose runner
// fails it twice: the failure queues Attempt=2 at once, due retryDelay
// later and not handed out before; the second failure leaves the instance
// FAILED after exactly two attempts, each attempt keeping the errorId,
// errorMessage and errorStackTrace its runner reported and the instance
// the last. Two consumers dependsOn it: the one with failureAndRerunMode
// cascade is CASCADE_FAILED, the one with none keeps waiting on its
// dependency and is never handed to a runner (§5.4: the mode describes
// the consumer's behaviour when a dependency fails).
func retriesThenFailure(t *testing.T, c *datapipeline.Client) func(t *testing.T) {
	ctx := context.Background()
	const wg = "wg-retries"
	id := mustCreate(t, c, "retries", "retries")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "none"),
				str("pipelineLogUri", "s3://logs/"), str("workerGroup", wg)),
			object("Extract", "Extract", str("type", "ShellCommandActivity"), str("command", "extract"),
				str("maximumRetries", "1"), str("retryDelay", retryDelay)),
			object("LoadCascade", "LoadCascade", str("type", "ShellCommandActivity"), str("command", "load"),
				ref("dependsOn", "Extract"), str("failureAndRerunMode", "cascade")),
			object("LoadNone", "LoadNone", str("type", "ShellCommandActivity"), str("command", "load"),
				ref("dependsOn", "Extract"), str("failureAndRerunMode", "none")),
		},
	})
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}

	task := awaitTask(t, c, wg, "runner-1.test", 15*time.Second)
	extract, ok := strings.CutSuffix(aws.ToString(task.AttemptId), "_Attempt=1")
	if !ok || !strings.HasPrefix(extract, "@Extract_") {
		t.Fatalf("first task is %s, want Extract's first attempt", aws.ToString(task.AttemptId))
	}
	stamp := strings.TrimPrefix(extract, "@Extract_")
	loadCascade, loadNone := "@LoadCascade_"+stamp, "@LoadNone_"+stamp
	attempt1, attempt2 := extract+"_Attempt=1", extract+"_Attempt=2"
	ack(t, c, task)
	failedAt := time.Now()
	if err := setTaskStatus(c, task, types.TaskStatusFailed, "E1"); err != nil {
		t.Fatalf("SetTaskStatus FAILED: %v", err)
	}

	// The retry is queued at once but not due yet.
	waitField(t, c, id, extract, "@headAttempt", attempt2, 10*time.Second)
	objs := objectFields(t, c, id, extract, attempt1, attempt2, loadCascade, loadNone)
	wantFields(t, attempt1, objs[attempt1], map[string]string{"@status": "FAILED", "hostname": "runner-1.test",
		"errorId": "E1", "errorMessage": "E1 message", "errorStackTrace": "E1 stack"})
	wantFields(t, attempt2, objs[attempt2], map[string]string{"@status": "WAITING_FOR_RUNNER", "errorId": "", "hostname": ""})
	wantFields(t, extract, objs[extract], map[string]string{"@attemptCount": "2", "@triesLeft": "0"})
	wantFields(t, loadCascade, objs[loadCascade], map[string]string{"@status": "WAITING_ON_DEPENDENCIES"})
	wantFields(t, loadNone, objs[loadNone], map[string]string{"@status": "WAITING_ON_DEPENDENCIES"})
	if task := pollTask(t, c, wg, "runner-2.test"); task != nil {
		t.Fatalf("PollForTask right after the failure handed out %s, want nothing before retryDelay", aws.ToString(task.AttemptId))
	}

	return func(t *testing.T) {
		task := awaitTask(t, c, wg, "runner-2.test", retryTimeout)
		if elapsed := time.Since(failedAt); elapsed < retryWait {
			t.Errorf("the retry was handed out %v after the failure, want at least retryDelay (%v)", elapsed, retryWait)
		}
		if got := aws.ToString(task.AttemptId); got != attempt2 {
			t.Fatalf("the retry is %s, want %s", got, attempt2)
		}
		ack(t, c, task)
		if err := setTaskStatus(c, task, types.TaskStatusFailed, "E2"); err != nil {
			t.Fatalf("SetTaskStatus FAILED (second): %v", err)
		}
		waitStatuses(t, c, id, map[string]string{extract: "FAILED", loadCascade: "CASCADE_FAILED", loadNone: "WAITING_ON_DEPENDENCIES"})

		if got := queryAll(t, c, id, "ATTEMPT"); !slices.Equal(sorted(got), []string{attempt1, attempt2}) {
			t.Errorf("attempts = %v, want exactly %s and %s", got, attempt1, attempt2)
		}
		objs := objectFields(t, c, id, extract, attempt1, attempt2, loadCascade, loadNone)
		wantFields(t, attempt1, objs[attempt1], map[string]string{"@status": "FAILED",
			"errorId": "E1", "errorMessage": "E1 message", "errorStackTrace": "E1 stack"})
		wantFields(t, attempt2, objs[attempt2], map[string]string{"@status": "FAILED", "hostname": "runner-2.test",
			"errorId": "E2", "errorMessage": "E2 message", "errorStackTrace": "E2 stack"})
		wantFields(t, extract, objs[extract], map[string]string{"@status": "FAILED", "@attemptCount": "2", "@triesLeft": "0",
			"@headAttempt": attempt2, "errorId": "E2", "errorMessage": "E2 message", "errorStackTrace": "E2 stack"})
		wantFields(t, loadCascade, objs[loadCascade], map[string]string{"@cascadeFailedOn": extract})
		wantFields(t, loadNone, objs[loadNone], map[string]string{"@cascadeFailedOn": "", "@headAttempt": ""})
		if task := pollTask(t, c, wg, "runner-2.test"); task != nil {
			t.Errorf("PollForTask after Extract failed handed out %s, want nothing: LoadNone waits on a failed dependency", aws.ToString(task.AttemptId))
		}
		waitStatuses(t, c, id, map[string]string{loadNone: "WAITING_ON_DEPENDENCIES"})
		// A failed run is not over: it stays SCHEDULED to be rerun.
		if st := field(t, describe(t, c, id).Fields, "@pipelineState"); st != "SCHEDULED" {
			t.Errorf("@pipelineState = %s, want SCHEDULED", st)
		}
	}
}

// lostLeaseReassigned has a runner claim a task and go silent: the lease
// expires, the attempt ends TIMEDOUT, the runner's late SetTaskStatus and
// ReportTaskProgress get TaskNotFoundException, and the retry, due
// retryDelay later, goes to a second runner, whose FINISHED is the one
// that counts: exactly one attempt FINISHED, and the silent runner cannot
// change that afterwards.
func lostLeaseReassigned(t *testing.T, c *datapipeline.Client) func(t *testing.T) {
	ctx := context.Background()
	const wg = "wg-lease"
	id := mustCreate(t, c, "lease", "lease")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "cascade"),
				str("pipelineLogUri", "s3://logs/"), str("workerGroup", wg)),
			object("Work", "Work", str("type", "ShellCommandActivity"), str("command", "work"),
				str("maximumRetries", "1"), str("retryDelay", retryDelay)),
		},
	})
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}

	// Runner A claims the task and never acknowledges it.
	silent := awaitTask(t, c, wg, "runner-a.test", 15*time.Second)
	claimedAt := time.Now()
	instance, ok := strings.CutSuffix(aws.ToString(silent.AttemptId), "_Attempt=1")
	if !ok {
		t.Fatalf("first task is %s, want a first attempt", aws.ToString(silent.AttemptId))
	}
	attempt1, attempt2 := instance+"_Attempt=1", instance+"_Attempt=2"
	waitField(t, c, id, attempt1, "@status", "TIMEDOUT", 15*time.Second)
	objs := objectFields(t, c, id, instance, attempt1, attempt2)
	wantFields(t, attempt1, objs[attempt1], map[string]string{"hostname": "runner-a.test"})
	if len(fieldValues(objs[attempt1], "errorId")) != 1 {
		t.Errorf("%s: errorId = %q, want the reason it timed out", attempt1, fieldValues(objs[attempt1], "errorId"))
	}
	wantFields(t, attempt2, objs[attempt2], map[string]string{"@status": "WAITING_FOR_RUNNER"})
	wantFields(t, instance, objs[instance], map[string]string{"@headAttempt": attempt2, "@attemptCount": "2"})

	// The silent runner wakes up too late.
	var notFound *types.TaskNotFoundException
	if err := setTaskStatus(c, silent, types.TaskStatusFinished, ""); !errors.As(err, &notFound) {
		t.Errorf("late SetTaskStatus FINISHED = %v, want TaskNotFoundException", err)
	}
	if _, err := c.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: silent.TaskId}); !errors.As(err, &notFound) {
		t.Errorf("late ReportTaskProgress = %v, want TaskNotFoundException", err)
	}
	if task := pollTask(t, c, wg, "runner-b.test"); task != nil {
		t.Fatalf("PollForTask right after the lease expired handed out %s, want nothing before retryDelay", aws.ToString(task.AttemptId))
	}

	return func(t *testing.T) {
		task := awaitTask(t, c, wg, "runner-b.test", retryTimeout)
		if elapsed := time.Since(claimedAt); elapsed < retryWait {
			t.Errorf("the retry was handed out %v after the claim, want at least ackTimeout + retryDelay", elapsed)
		}
		if got := aws.ToString(task.AttemptId); got != attempt2 {
			t.Fatalf("the reassigned task is %s, want %s", got, attempt2)
		}
		ack(t, c, task)
		if err := setTaskStatus(c, task, types.TaskStatusFinished, ""); err != nil {
			t.Fatalf("SetTaskStatus FINISHED from runner B: %v", err)
		}
		waitState(t, c, id, "FINISHED")
		if err := setTaskStatus(c, silent, types.TaskStatusFailed, "Late"); !errors.As(err, &notFound) {
			t.Errorf("late SetTaskStatus FAILED after the retry finished = %v, want TaskNotFoundException", err)
		}

		if got := queryAll(t, c, id, "ATTEMPT"); !slices.Equal(sorted(got), []string{attempt1, attempt2}) {
			t.Errorf("attempts = %v, want exactly %s and %s", got, attempt1, attempt2)
		}
		objs := objectFields(t, c, id, instance, attempt1, attempt2)
		finished := 0
		for _, a := range []string{attempt1, attempt2} {
			if field(t, objs[a], "@status") == "FINISHED" {
				finished++
			}
		}
		if finished != 1 {
			t.Errorf("%d attempts FINISHED, want exactly 1", finished)
		}
		wantFields(t, attempt1, objs[attempt1], map[string]string{"@status": "TIMEDOUT", "hostname": "runner-a.test"})
		wantFields(t, attempt2, objs[attempt2], map[string]string{"@status": "FINISHED", "hostname": "runner-b.test"})
		wantFields(t, instance, objs[instance], map[string]string{"@status": "FINISHED", "@attemptCount": "2"})
	}
}

// preconditionNotYet puts a ShellCommandPrecondition on the input data
// node of an activity (§4.3, §5.3). The runner first answers the check
// with SetTaskStatus FALSE ("not yet"): the check is queued again, due the
// precondition's retryDelay later, without using up a try, and neither
// the data node nor the activity moves. The runner answers the second
// check FINISHED; only then is the activity handed out, and the run
// finishes.
func preconditionNotYet(t *testing.T, c *datapipeline.Client) func(t *testing.T) {
	ctx := context.Background()
	const wg = "wg-precondition"
	id := mustCreate(t, c, "precondition", "precondition")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "cascade"),
				str("pipelineLogUri", "s3://logs/"), str("workerGroup", wg)),
			object("In", "In", str("type", "S3DataNode"), str("directoryPath", "s3://bucket/in/"), ref("precondition", "Ready")),
			object("Ready", "Ready", str("type", "ShellCommandPrecondition"), str("command", "test -e /data/in/_SUCCESS"),
				str("retryDelay", retryDelay)),
			object("Use", "Use", str("type", "ShellCommandActivity"), str("command", "use"), ref("input", "In")),
		},
	})
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}

	task := awaitTask(t, c, wg, "runner.test", 15*time.Second)
	if got := attemptField(task, "@componentParent"); !slices.Equal(got, []string{"Ready"}) {
		t.Fatalf("first task %s is of %v, want the precondition's check: nothing else can run before it", aws.ToString(task.AttemptId), got)
	}
	ready, ok := strings.CutSuffix(aws.ToString(task.AttemptId), "_Attempt=1")
	if !ok {
		t.Fatalf("first check is %s, want a first attempt", aws.ToString(task.AttemptId))
	}
	stamp := strings.TrimPrefix(ready, "@Ready_")
	in, use := "@In_"+stamp, "@Use_"+stamp
	check1, check2 := ready+"_Attempt=1", ready+"_Attempt=2"
	ack(t, c, task)
	triesBefore := field(t, objectFields(t, c, id, ready)[ready], "@triesLeft")
	notMetAt := time.Now()
	if err := setTaskStatus(c, task, types.TaskStatusFalse, ""); err != nil {
		t.Fatalf("SetTaskStatus FALSE: %v", err)
	}

	// The check is queued again, due retryDelay later; nothing else moves.
	waitField(t, c, id, ready, "@headAttempt", check2, 10*time.Second)
	objs := objectFields(t, c, id, ready, check1, check2, in, use)
	if st := field(t, objs[check1], "@status"); st == "FINISHED" {
		t.Errorf("%s answered FALSE is %s", check1, st)
	}
	wantFields(t, check2, objs[check2], map[string]string{"@status": "WAITING_FOR_RUNNER"})
	wantFields(t, ready, objs[ready], map[string]string{"@triesLeft": triesBefore, "@attemptCount": "2", "node": in})
	wantFields(t, in, objs[in], map[string]string{"@status": "WAITING_ON_DEPENDENCIES"})
	wantFields(t, use, objs[use], map[string]string{"@status": "WAITING_ON_DEPENDENCIES"})
	if task := pollTask(t, c, wg, "runner.test"); task != nil {
		t.Fatalf("PollForTask right after FALSE handed out %s, want nothing before the precondition's retryDelay", aws.ToString(task.AttemptId))
	}

	return func(t *testing.T) {
		task := awaitTask(t, c, wg, "runner.test", retryTimeout)
		if elapsed := time.Since(notMetAt); elapsed < retryWait {
			t.Errorf("the second check was handed out %v after FALSE, want at least the precondition's retryDelay (%v)", elapsed, retryWait)
		}
		if got := aws.ToString(task.AttemptId); got != check2 {
			t.Fatalf("after FALSE the next task is %s, want the second check %s", got, check2)
		}
		ack(t, c, task)
		if err := setTaskStatus(c, task, types.TaskStatusFinished, ""); err != nil {
			t.Fatalf("SetTaskStatus FINISHED on the check: %v", err)
		}
		task = awaitTask(t, c, wg, "runner.test", 15*time.Second)
		if got := aws.ToString(task.AttemptId); got != use+"_Attempt=1" {
			t.Fatalf("after the precondition held the task is %s, want %s_Attempt=1", got, use)
		}
		if got := attemptField(task, "input"); !slices.Equal(got, []string{in}) {
			t.Errorf("the activity's input = %q, want %s", got, in)
		}
		ack(t, c, task)
		if err := setTaskStatus(c, task, types.TaskStatusFinished, ""); err != nil {
			t.Fatalf("SetTaskStatus FINISHED on the activity: %v", err)
		}
		waitState(t, c, id, "FINISHED")
		waitStatuses(t, c, id, map[string]string{ready: "FINISHED", in: "FINISHED", use: "FINISHED"})
		if got := queryAll(t, c, id, "ATTEMPT"); len(got) != 3 {
			t.Errorf("attempts = %v, want the two checks and the activity's one", got)
		}
	}
}
