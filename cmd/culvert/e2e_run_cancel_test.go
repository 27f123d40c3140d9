package main

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// TestSDKCancelWithdrawsQueuedTasks checks that an instance paused,
// canceled or marked finished while its task waits for a runner takes the
// task with it: no runner ever receives work for an instance that is done
// or paused.
func TestSDKCancelWithdrawsQueuedTasks(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t)
	c := s.devClient()
	ctx := context.Background()
	id := mustCreate(t, c, "cancel-queued", "cancel-queued")
	start := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	inst := func(i int) string {
		return "@Work_" + start.Add(time.Duration(i)*time.Hour).Format("2006-01-02T15:04:05")
	}
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("scheduleType", "cron"), str("failureAndRerunMode", "none"),
				str("role", "DataPipelineDefaultRole"), str("resourceRole", "DataPipelineDefaultResourceRole"),
				str("pipelineLogUri", "s3://logs/"), ref("schedule", "Hourly")),
			object("Hourly", "Hourly", str("type", "Schedule"), str("period", "1 hour"),
				str("startDateTime", start.Format("2006-01-02T15:04:05")), str("occurrences", "3")),
			object("Work", "Work", str("type", "ShellCommandActivity"), str("workerGroup", "wg-cancel"), str("command", "work")),
		},
	})
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}
	setStatus := func(obj, status string) {
		t.Helper()
		if _, err := c.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: aws.String(id), ObjectIds: []string{obj}, Status: aws.String(status)}); err != nil {
			t.Fatalf("SetStatus(%s, %s): %v", obj, status, err)
		}
	}
	// One at a time (maxActiveInstances 1): the first waits for a runner.
	waitStatuses(t, c, id, map[string]string{inst(0): "WAITING_FOR_RUNNER"})
	noTask := func(when string) {
		t.Helper()
		out, err := c.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String("wg-cancel")})
		if err != nil {
			t.Fatalf("PollForTask: %v", err)
		}
		if out.TaskObject != nil {
			t.Fatalf("PollForTask %s = task %s, want none", when, aws.ToString(out.TaskObject.AttemptId))
		}
	}
	// PAUSE takes back the task no runner has claimed; RESUME queues it again.
	setStatus("Work", "PAUSE")
	waitStatuses(t, c, id, map[string]string{inst(0): "PAUSED"})
	noTask("while paused")
	setStatus("Work", "RESUME")
	waitStatuses(t, c, id, map[string]string{inst(0): "WAITING_FOR_RUNNER"})
	setStatus(inst(0), "TRY_CANCEL")
	waitStatuses(t, c, id, map[string]string{inst(0): "CANCELED", inst(1): "WAITING_FOR_RUNNER"})
	setStatus(inst(1), "MARK_FINISHED")
	waitStatuses(t, c, id, map[string]string{inst(1): "FINISHED", inst(2): "WAITING_FOR_RUNNER"})

	runner := &sdkRunner{t: t, c: c, workerGroup: "wg-cancel"}
	task := runner.next(ctx)
	if got, want := aws.ToString(task.AttemptId), inst(2)+"_Attempt=1"; got != want {
		t.Fatalf("the runner received %s, want %s: tasks of canceled and finished instances are withdrawn", got, want)
	}
	runner.finish(ctx, task, types.TaskStatusFinished, "")
	waitState(t, c, id, "FINISHED")
	noTask("after the run")
}
