package datapipeline_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/datapipeline"
)

// TestOndemandActivation checks the two rules of activating an ondemand
// pipeline (docs/assumptions/0014): a run in progress refuses another, and
// each activation gets a second of its own, so that a run activated in the
// same second as the one before it still happens, named by the next second.
func TestOndemandActivation(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 6, 7, 8, 9, 500e6, time.UTC) // the clock stands still
	svc, b := setup(t, setupOpts{now: func() time.Time { return now }})
	id := create(t, svc, b.ctx, "ondemand", "ondemand")
	put(t, svc, b.ctx, id, `[
		{"id": "Default", "name": "Default", "fields": [{"key": "scheduleType", "stringValue": "ondemand"},
			{"key": "workerGroup", "stringValue": "wg-od"}, {"key": "pipelineLogUri", "stringValue": "s3://logs/"}]},
		{"id": "Work", "name": "Work", "fields": [{"key": "type", "stringValue": "ShellCommandActivity"},
			{"key": "command", "stringValue": "true"}]}]`)
	instances := func() []string {
		t.Helper()
		out := mustCall(t, svc, b.ctx, "QueryObjects", `{"pipelineId":%q,"sphere":"INSTANCE"}`, id)
		return out.(*datapipeline.QueryObjectsOutput).IDs
	}
	finishTask := func() {
		t.Helper()
		out := mustCall(t, svc, b.ctx, "PollForTask", `{"workerGroup":"wg-od"}`).(*datapipeline.PollForTaskOutput)
		if out.TaskObject == nil {
			t.Fatal("PollForTask: no task")
		}
		mustCall(t, svc, b.ctx, "SetTaskStatus", `{"taskId":%q,"taskStatus":"FINISHED"}`, out.TaskObject.TaskID)
		b.schedule(t)
	}

	mustCall(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
	b.schedule(t)
	_, err := call(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
	if msg := wantCode(t, err, datapipeline.CodeInvalidRequestException); !strings.Contains(msg, "still in progress") {
		t.Errorf("activation during a run: message %q, want it to say the run is in progress", msg)
	}
	finishTask()
	if got := fieldMap(t, describe(t, svc, b.ctx, id).Fields)["@pipelineState"]; got != "FINISHED" {
		t.Fatalf("after the run @pipelineState = %q, want FINISHED", got)
	}

	mustCall(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
	b.schedule(t)
	if got := fieldMap(t, describe(t, svc, b.ctx, id).Fields)["@lastActivationTime"]; got != "2024-05-06T07:08:10" {
		t.Errorf("second activation in the same second: @lastActivationTime = %q, want the next second", got)
	}
	now = now.Add(time.Second) // the run starts when its second comes
	b.schedule(t)
	finishTask()
	want := []string{"@Work_2024-05-06T07:08:09", "@Work_2024-05-06T07:08:10"}
	if diff := cmp.Diff(want, instances()); diff != "" {
		t.Errorf("instances mismatch (-want +got):\n%s", diff)
	}
}
