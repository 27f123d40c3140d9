package main

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// TestSDKDeactivateReactivatePause drives a six-hour backfill of one
// activity (maxActiveInstances 1, so one task at a time) through
// aws-sdk-go-v2 while changing the pipeline under the runner:
//
//  1. DeactivatePipeline with cancelActive=true while a task is claimed:
//     the runner's next ReportTaskProgress says canceled, the instance is
//     CANCELED, the pipeline leaves SCHEDULED and ends INACTIVE, and no
//     task is handed out while it is inactive. A runner that reports
//     FINISHED on the canceled task anyway does not bring it back.
//  2. ActivatePipeline: work resumes with the next interval.
//  3. DeactivatePipeline with cancelActive=false while a task is claimed:
//     the pipeline is DEACTIVATING (deterministically, since the task is
//     still out) and the task is not canceled; once it finishes, INACTIVE.
//  4. ActivatePipeline, then SetStatus PAUSE on the component while its
//     task is claimed: the waiting instances are PAUSED, and once the task
//     finishes no task is handed out; RESUME: the rest run, and the
//     pipeline is FINISHED.
func TestSDKDeactivateReactivatePause(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t)
	c := s.devClient()
	ctx := context.Background()
	const (
		occurrences = 6
		workerGroup = "wg-lifecycle"
	)
	id := mustCreate(t, c, "lifecycle", "lifecycle")
	start := time.Now().UTC().Truncate(time.Hour).Add(-occurrences * time.Hour)
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("scheduleType", "cron"), str("failureAndRerunMode", "none"),
				str("role", "DataPipelineDefaultRole"), str("resourceRole", "DataPipelineDefaultResourceRole"),
				str("pipelineLogUri", "s3://logs/"), ref("schedule", "Hourly")),
			object("Hourly", "Hourly", str("type", "Schedule"), str("period", "1 hour"),
				str("startDateTime", start.Format("2006-01-02T15:04:05")), str("occurrences", "6")),
			object("Work", "Work", str("type", "ShellCommandActivity"), str("workerGroup", workerGroup), str("command", "work")),
		},
	})
	inst := func(i int) string {
		return "@Work_" + start.Add(time.Duration(i)*time.Hour).Format("2006-01-02T15:04:05")
	}
	activate := func() {
		t.Helper()
		if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
			t.Fatalf("ActivatePipeline: %v", err)
		}
		waitState(t, c, id, "SCHEDULED")
	}
	deactivate := func(cancelActive bool) {
		t.Helper()
		if _, err := c.DeactivatePipeline(ctx, &datapipeline.DeactivatePipelineInput{PipelineId: aws.String(id), CancelActive: aws.Bool(cancelActive)}); err != nil {
			t.Fatalf("DeactivatePipeline(cancelActive=%v): %v", cancelActive, err)
		}
	}
	runner := &sdkRunner{t: t, c: c, workerGroup: workerGroup}
	// nextOf takes the next task and checks it is instance i's first attempt.
	nextOf := func(i int) *types.TaskObject {
		t.Helper()
		task := runner.next(ctx)
		if got, want := aws.ToString(task.AttemptId), inst(i)+"_Attempt=1"; got != want {
			t.Fatalf("task is %s, want %s; instances: %v", got, want, instanceStatuses(t, c, id))
		}
		return task
	}
	progress := func(task *types.TaskObject) bool {
		t.Helper()
		out, err := c.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: task.TaskId})
		if err != nil {
			t.Fatalf("ReportTaskProgress(%s): %v", aws.ToString(task.AttemptId), err)
		}
		return out.Canceled
	}
	noTask := func(why string) {
		t.Helper()
		out, err := c.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String(workerGroup), Hostname: aws.String("runner.test")})
		if err != nil {
			t.Fatalf("PollForTask %s: %v", why, err)
		}
		if out.TaskObject != nil {
			t.Fatalf("PollForTask %s handed out %s, want no task", why, aws.ToString(out.TaskObject.AttemptId))
		}
	}

	activate()

	// 1. Deactivate with cancelActive while instance 0's task is claimed.
	task := nextOf(0)
	deactivate(true)
	if st := field(t, describe(t, c, id).Fields, "@pipelineState"); st != "DEACTIVATING" && st != "INACTIVE" {
		t.Errorf("@pipelineState right after DeactivatePipeline = %s, want DEACTIVATING or INACTIVE", st)
	}
	for deadline := time.Now().Add(10 * time.Second); !progress(task); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("ReportTaskProgress(%s) not canceled 10 s after DeactivatePipeline(cancelActive=true)", aws.ToString(task.AttemptId))
		}
	}
	waitState(t, c, id, "INACTIVE")
	waitStatuses(t, c, id, map[string]string{inst(0): "CANCELED"})
	noTask("while INACTIVE")
	// A runner that ignores canceled=true and reports FINISHED anyway. It
	// may be refused; either way the instance must stay CANCELED (checked
	// at the end, once later task outcomes have been applied).
	if _, err := c.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: task.TaskId, TaskStatus: types.TaskStatusFinished}); err != nil {
		t.Logf("SetTaskStatus FINISHED on the canceled task: %v", err)
	}

	// 2. Reactivate: the next interval runs.
	activate()
	task = nextOf(1)

	// 3. Deactivate without cancelActive while instance 1's task is out.
	deactivate(false)
	if st := field(t, describe(t, c, id).Fields, "@pipelineState"); st != "DEACTIVATING" {
		t.Errorf("@pipelineState after DeactivatePipeline(cancelActive=false) with a task out = %s, want DEACTIVATING", st)
	}
	if progress(task) {
		t.Errorf("ReportTaskProgress(%s) canceled after DeactivatePipeline(cancelActive=false)", aws.ToString(task.AttemptId))
	}
	if st := field(t, describe(t, c, id).Fields, "@pipelineState"); st != "DEACTIVATING" {
		t.Errorf("@pipelineState while the task is still out = %s, want DEACTIVATING", st)
	}
	runner.finish(ctx, task, types.TaskStatusFinished, "")
	waitState(t, c, id, "INACTIVE")
	waitStatuses(t, c, id, map[string]string{inst(1): "FINISHED"})

	// 4. Reactivate; pause the component while instance 2's task is out.
	activate()
	task = nextOf(2)
	if _, err := c.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: aws.String(id), ObjectIds: []string{"Work"}, Status: aws.String("PAUSE")}); err != nil {
		t.Fatalf("SetStatus PAUSE: %v", err)
	}
	waitStatuses(t, c, id, map[string]string{inst(2): "RUNNING", inst(3): "PAUSED", inst(4): "PAUSED", inst(5): "PAUSED"})
	runner.finish(ctx, task, types.TaskStatusFinished, "")
	waitStatuses(t, c, id, map[string]string{inst(2): "FINISHED", inst(3): "PAUSED"})
	noTask("while the component is paused")
	if got := instanceStatuses(t, c, id); got[inst(3)] != "PAUSED" {
		t.Errorf("%s after a poll while paused: %s, want PAUSED", inst(3), got[inst(3)])
	}
	if st := field(t, describe(t, c, id).Fields, "@pipelineState"); st != "SCHEDULED" {
		t.Errorf("@pipelineState with a paused component = %s, want SCHEDULED", st)
	}

	if _, err := c.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: aws.String(id), ObjectIds: []string{"Work"}, Status: aws.String("RESUME")}); err != nil {
		t.Fatalf("SetStatus RESUME: %v", err)
	}
	for i := 3; i < occurrences; i++ {
		runner.finish(ctx, nextOf(i), types.TaskStatusFinished, "")
	}
	waitState(t, c, id, "FINISHED")
	want := map[string]string{inst(0): "CANCELED"}
	for i := 1; i < occurrences; i++ {
		want[inst(i)] = "FINISHED"
	}
	got := instanceStatuses(t, c, id)
	if len(got) != len(want) {
		t.Errorf("instances = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s is %s, want %s", k, got[k], v)
		}
	}
	// The canceled instance had one attempt, and it is CANCELED.
	objs, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: []string{inst(0), inst(0) + "_Attempt=1"}})
	if err != nil || len(objs.PipelineObjects) != 2 {
		t.Fatalf("DescribeObjects(%s and its attempt) = %v, %v", inst(0), objs, err)
	}
	for _, o := range objs.PipelineObjects {
		t.Logf("%s: @status %s, @attemptCount %v, cancellationReason %v", aws.ToString(o.Id), field(t, o.Fields, "@status"),
			fieldValues(o.Fields, "@attemptCount"), fieldValues(o.Fields, "cancellationReason"))
	}
}
