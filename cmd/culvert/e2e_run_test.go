package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// sdkRunner is a task runner written against the public API only, as any
// user's would be: poll, acknowledge, report.
type sdkRunner struct {
	t           *testing.T
	c           *datapipeline.Client
	workerGroup string
}

// next polls until a task arrives, acknowledges it and returns it.
func (r *sdkRunner) next(ctx context.Context) *types.TaskObject {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		out, err := r.c.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String(r.workerGroup), Hostname: aws.String("runner.test")})
		if err != nil {
			r.t.Fatalf("PollForTask: %v", err)
		}
		if out.TaskObject == nil {
			continue
		}
		prog, err := r.c.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: out.TaskObject.TaskId})
		if err != nil {
			r.t.Fatalf("ReportTaskProgress: %v", err)
		}
		if prog.Canceled {
			r.t.Fatalf("task %s canceled at acknowledgement", aws.ToString(out.TaskObject.TaskId))
		}
		return out.TaskObject
	}
	r.t.Fatalf("no task for worker group %s within 15 s", r.workerGroup)
	return nil
}

func (r *sdkRunner) finish(ctx context.Context, task *types.TaskObject, status types.TaskStatus, errorMessage string) {
	r.t.Helper()
	in := &datapipeline.SetTaskStatusInput{TaskId: task.TaskId, TaskStatus: status}
	if errorMessage != "" {
		in.ErrorId, in.ErrorMessage, in.ErrorStackTrace = aws.String("Runner.Error"), aws.String(errorMessage), aws.String("at step 1")
	}
	if _, err := r.c.SetTaskStatus(ctx, in); err != nil {
		r.t.Fatalf("SetTaskStatus(%s): %v", status, err)
	}
}

// attemptField returns the values of key on the task's attempt object.
func attemptField(task *types.TaskObject, key string) []string {
	return fieldValues(task.Objects[aws.ToString(task.AttemptId)].Fields, key)
}

// instanceStatuses returns @status of every instance of a pipeline.
func instanceStatuses(t *testing.T, c *datapipeline.Client, id string) map[string]string {
	t.Helper()
	ctx := context.Background()
	q, err := c.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: aws.String(id), Sphere: aws.String("INSTANCE")})
	if err != nil {
		t.Fatalf("QueryObjects INSTANCE: %v", err)
	}
	out := map[string]string{}
	if len(q.Ids) == 0 {
		return out
	}
	objs, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: q.Ids})
	if err != nil {
		t.Fatalf("DescribeObjects: %v", err)
	}
	for _, o := range objs.PipelineObjects {
		out[aws.ToString(o.Id)] = field(t, o.Fields, "@status")
	}
	return out
}

// waitStatuses waits until every named instance has the wanted status.
func waitStatuses(t *testing.T, c *datapipeline.Client, id string, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := instanceStatuses(t, c, id)
		ok := true
		for k, v := range want {
			ok = ok && got[k] == v
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance statuses = %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSDKPipelineRuns drives a three-hour backfill through a task runner
// written with aws-sdk-go-v2: the tasks arrive in schedule order with
// their expressions evaluated, results are recorded on the attempts, and
// the pipeline finishes.
func TestSDKPipelineRuns(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t)
	c := s.devClient()
	ctx := context.Background()
	id := mustCreate(t, c, "runs", "runs")
	start := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("scheduleType", "cron"), str("failureAndRerunMode", "cascade"),
				str("role", "DataPipelineDefaultRole"), str("resourceRole", "DataPipelineDefaultResourceRole"),
				str("pipelineLogUri", "s3://logs/"), ref("schedule", "Hourly")),
			object("Hourly", "Hourly", str("type", "Schedule"), str("period", "1 hour"),
				str("startDateTime", start.Format("2006-01-02T15:04:05")), str("occurrences", "3")),
			object("Say", "Say", str("type", "ShellCommandActivity"), str("workerGroup", "wg-runs"),
				str("command", "echo #{myGreeting} #{format(@scheduledStartTime,'YYYY-MM-dd HH:mm')}")),
		},
		ParameterObjects: []types.ParameterObject{{Id: aws.String("myGreeting"), Attributes: []types.ParameterAttribute{
			{Key: aws.String("type"), StringValue: aws.String("String")}, {Key: aws.String("default"), StringValue: aws.String("hello")}}}},
	})
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}
	runner := &sdkRunner{t: t, c: c, workerGroup: "wg-runs"}
	for i := range 3 {
		scheduled := start.Add(time.Duration(i) * time.Hour)
		task := runner.next(ctx)
		wantAttempt := "@Say_" + scheduled.Format("2006-01-02T15:04:05") + "_Attempt=1"
		if aws.ToString(task.AttemptId) != wantAttempt || aws.ToString(task.PipelineId) != id {
			t.Fatalf("task %d is attempt %s of %s, want %s of %s", i, aws.ToString(task.AttemptId), aws.ToString(task.PipelineId), wantAttempt, id)
		}
		if got, want := attemptField(task, "command"), []string{"echo hello " + scheduled.Format("2006-01-02 15:04")}; !slices.Equal(got, want) {
			t.Errorf("task %d command = %q, want %q (evaluated)", i, got, want)
		}
		if i == 0 {
			// The acknowledgement is a progress report, which the
			// running attempt shows.
			running, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: []string{wantAttempt}})
			if err != nil || len(running.PipelineObjects) != 1 {
				t.Fatalf("DescribeObjects(%s) = %v, %v", wantAttempt, running, err)
			}
			if got := fieldValues(running.PipelineObjects[0].Fields, "reportProgressTime"); len(got) != 1 {
				t.Errorf("running attempt's reportProgressTime = %q, want the acknowledgement's time", got)
			}
		}
		runner.finish(ctx, task, types.TaskStatusFinished, "")
	}
	// The pipeline and its component report their health and run times.
	d := waitState(t, c, id, "FINISHED")
	last := start.Add(2 * time.Hour).Format("2006-01-02T15:04:05")
	for key, want := range map[string]string{"@healthStatus": "HEALTHY", "@latestRunTime": last, "@latestCompletedRunTime": last,
		"@healthStatusFromInstanceId": "@Say_" + last} {
		if got := field(t, d.Fields, key); got != want {
			t.Errorf("DescribePipelines %s = %q, want %q", key, got, want)
		}
	}
	if got := fieldValues(d.Fields, "@nextRunTime"); len(got) != 0 {
		t.Errorf("DescribePipelines @nextRunTime = %q of a finished schedule, want none", got)
	}
	comp, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: []string{"Say"}})
	if err != nil || len(comp.PipelineObjects) != 1 {
		t.Fatalf("DescribeObjects(Say) = %v, %v", comp, err)
	}
	if got := field(t, comp.PipelineObjects[0].Fields, "@healthStatus"); got != "HEALTHY" {
		t.Errorf("component @healthStatus = %q, want HEALTHY", got)
	}
	statuses := instanceStatuses(t, c, id)
	if len(statuses) != 3 {
		t.Errorf("instances = %v, want 3", statuses)
	}
	for k, v := range statuses {
		if v != "FINISHED" {
			t.Errorf("%s is %s, want FINISHED", k, v)
		}
	}
	// The attempt records who ran it.
	first := "@Say_" + start.Format("2006-01-02T15:04:05") + "_Attempt=1"
	objs, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: []string{first}})
	if err != nil || len(objs.PipelineObjects) != 1 {
		t.Fatalf("DescribeObjects(%s) = %v, %v", first, objs, err)
	}
	af := objs.PipelineObjects[0].Fields
	if field(t, af, "@status") != "FINISHED" || field(t, af, "hostname") != "runner.test" || field(t, af, "@sphere") != "ATTEMPT" ||
		field(t, af, "reportProgressTime") == "" {
		t.Errorf("attempt = %+v", objs.PipelineObjects[0])
	}
	// EvaluateExpression in an instance's context sees its runtime fields.
	ev, err := c.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{PipelineId: aws.String(id),
		ObjectId: aws.String(strings.TrimSuffix(first, "_Attempt=1")), Expression: aws.String("#{@status} at #{@scheduledStartTime}")})
	if err != nil || aws.ToString(ev.EvaluatedExpression) != "FINISHED at "+start.Format("2006-01-02T15:04:05") {
		t.Errorf("EvaluateExpression on an instance = %v, %v", ev, err)
	}
}

// TestSDKCascadeAndRerun fails an activity with cascade on: its consumer
// is CASCADE_FAILED; a rerun of the failed one brings both back.
func TestSDKCascadeAndRerun(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t)
	c := s.devClient()
	ctx := context.Background()
	id := mustCreate(t, c, "cascade", "cascade")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "cascade"),
				str("maximumRetries", "0"), str("pipelineLogUri", "s3://logs/")),
			object("Extract", "Extract", str("type", "ShellCommandActivity"), str("workerGroup", "wg-cascade"), str("command", "extract")),
			object("Load", "Load", str("type", "ShellCommandActivity"), str("workerGroup", "wg-cascade"), str("command", "load"),
				ref("dependsOn", "Extract")),
		},
	})
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}
	runner := &sdkRunner{t: t, c: c, workerGroup: "wg-cascade"}
	task := runner.next(ctx)
	extract := strings.TrimSuffix(aws.ToString(task.AttemptId), "_Attempt=1")
	if !strings.HasPrefix(extract, "@Extract_") {
		t.Fatalf("first task = %s, want Extract's", aws.ToString(task.AttemptId))
	}
	load := "@Load_" + strings.TrimPrefix(extract, "@Extract_")
	runner.finish(ctx, task, types.TaskStatusFailed, "disk full")
	waitStatuses(t, c, id, map[string]string{extract: "FAILED", load: "CASCADE_FAILED"})
	objs, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: []string{extract}})
	if err != nil {
		t.Fatal(err)
	}
	if f := objs.PipelineObjects[0].Fields; field(t, f, "errorMessage") != "disk full" || field(t, f, "errorId") != "Runner.Error" {
		t.Errorf("failed instance = %+v", objs.PipelineObjects[0])
	}

	if _, err := c.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: aws.String(id), ObjectIds: []string{extract}, Status: aws.String("RERUN")}); err != nil {
		t.Fatalf("SetStatus RERUN: %v", err)
	}
	task = runner.next(ctx)
	if got := aws.ToString(task.AttemptId); got != extract+"_Attempt=2" {
		t.Fatalf("after RERUN the task is %s, want %s_Attempt=2", got, extract)
	}
	runner.finish(ctx, task, types.TaskStatusFinished, "")
	task = runner.next(ctx)
	if got := aws.ToString(task.AttemptId); !strings.HasPrefix(got, load) {
		t.Fatalf("after the rerun finished the task is %s, want Load's", got)
	}
	runner.finish(ctx, task, types.TaskStatusFinished, "")
	waitStatuses(t, c, id, map[string]string{extract: "FINISHED", load: "FINISHED"})

	// A stale runner cannot report on a task that is over.
	if _, err := c.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: task.TaskId, TaskStatus: types.TaskStatusFailed}); err == nil {
		t.Error("SetTaskStatus on a finished task succeeded")
	}
	var raw map[string]any
	if b, _ := json.Marshal(task.Objects); json.Unmarshal(b, &raw) != nil || raw[aws.ToString(task.AttemptId)] == nil {
		t.Errorf("task objects do not hold the attempt: %v", raw)
	}
}
