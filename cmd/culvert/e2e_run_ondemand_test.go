package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// TestSDKOndemandActivations activates an ondemand pipeline three times,
// its runner completing each run before the next activation (§1.3
// ActivatePipeline: "call the ActivatePipeline operation for each
// subsequent run"; docs/assumptions/0014: each activation adds one run):
// three sets of instances, one per activation, each run handed out in
// dependency order and FINISHED, the pipeline FINISHED after each.
func TestSDKOndemandActivations(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t)
	c := s.devClient()
	ctx := context.Background()
	const wg = "wg-ondemand-runs"
	id := mustCreate(t, c, "ondemand-runs", "ondemand-runs")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "cascade"),
				str("pipelineLogUri", "s3://logs/"), str("workerGroup", wg)),
			object("Extract", "Extract", str("type", "ShellCommandActivity"), str("command", "extract")),
			object("Load", "Load", str("type", "ShellCommandActivity"), str("command", "load"), ref("dependsOn", "Extract")),
		},
	})
	runner := &sdkRunner{t: t, c: c, workerGroup: wg}
	var stamps []string // each run's scheduled start, from its instance ids
	for run := range 3 {
		if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
			t.Fatalf("ActivatePipeline (run %d): %v", run+1, err)
		}
		// The activation's instances appear asynchronously; each run adds
		// one of every component.
		for deadline := time.Now().Add(10 * time.Second); len(instanceStatuses(t, c, id)) < 2*(run+1); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("activation %d added no run within 10 s: instances %v, pipeline %s", run+1,
					instanceStatuses(t, c, id), field(t, describe(t, c, id).Fields, "@pipelineState"))
			}
		}
		task := runner.next(ctx)
		extract, ok := strings.CutSuffix(aws.ToString(task.AttemptId), "_Attempt=1")
		if !ok || !strings.HasPrefix(extract, "@Extract_") {
			t.Fatalf("run %d: first task %s, want an Extract's first attempt", run+1, aws.ToString(task.AttemptId))
		}
		stamp := strings.TrimPrefix(extract, "@Extract_")
		if slices.Contains(stamps, stamp) {
			t.Fatalf("run %d: task %s belongs to an earlier run", run+1, aws.ToString(task.AttemptId))
		}
		stamps = append(stamps, stamp)
		runner.finish(ctx, task, types.TaskStatusFinished, "")
		task = runner.next(ctx)
		if got, want := aws.ToString(task.AttemptId), "@Load_"+stamp+"_Attempt=1"; got != want {
			t.Fatalf("run %d: second task %s, want %s", run+1, got, want)
		}
		runner.finish(ctx, task, types.TaskStatusFinished, "")
		waitStatuses(t, c, id, map[string]string{extract: "FINISHED", "@Load_" + stamp: "FINISHED"})
		waitState(t, c, id, "FINISHED")
	}

	want := map[string]string{}
	for _, stamp := range stamps {
		want["@Extract_"+stamp] = "FINISHED"
		want["@Load_"+stamp] = "FINISHED"
	}
	got := instanceStatuses(t, c, id)
	if len(got) != len(want) {
		t.Errorf("instances = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s is %q, want %s", k, got[k], v)
		}
	}
	if n := len(queryAll(t, c, id, "ATTEMPT")); n != 6 {
		t.Errorf("%d attempts, want 6 (one per instance)", n)
	}
}
