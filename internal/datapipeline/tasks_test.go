package datapipeline_test

import (
	"context"
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/datapipeline"
	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/scheduler"
	"github.com/culvert/culvert/internal/store"
)

func TestTaskOps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, op, body string
		wantCode       string
		want           any
	}{
		{name: "progress on unknown task", op: "ReportTaskProgress", body: `{"taskId":"nope"}`, wantCode: datapipeline.CodeTaskNotFoundException},
		{name: "status of unknown task", op: "SetTaskStatus", body: `{"taskId":"nope","taskStatus":"FINISHED"}`, wantCode: datapipeline.CodeTaskNotFoundException},
		{name: "reserved errorId", op: "SetTaskStatus", body: `{"taskId":"nope","taskStatus":"FAILED","errorId":"Service_x"}`, wantCode: datapipeline.CodeInvalidRequestException},
		{name: "heartbeat", op: "ReportTaskRunnerHeartbeat", body: `{"taskrunnerId":"runner-1","workerGroup":"wg","hostname":"host"}`,
			want: &datapipeline.ReportTaskRunnerHeartbeatOutput{Terminate: false}},
		{name: "poll on an empty queue", op: "PollForTask", body: `{"workerGroup":"wg"}`, want: &datapipeline.PollForTaskOutput{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			start := time.Now()
			out, err := call(t, svc, b.ctx, tc.op, "%s", tc.body)
			if tc.wantCode != "" {
				wantCode(t, err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.op, err)
			}
			if diff := cmp.Diff(tc.want, out); diff != "" {
				t.Errorf("output mismatch (-want +got):\n%s", diff)
			}
			if tc.op == "PollForTask" {
				if elapsed := time.Since(start); elapsed < 40*time.Millisecond {
					t.Errorf("empty poll returned after %v, before the 50ms hold time", elapsed)
				}
				if wire := string(mustJSON(t, out)); wire != `{}` {
					t.Errorf("empty poll on the wire = %s, want {}", wire)
				}
			}
		})
	}
}

func TestPollForTaskWakes(t *testing.T) {
	t.Parallel()
	const hold = 10 * time.Second
	svc, b := setup(t, setupOpts{wait: hold})
	id := create(t, svc, b.ctx, "p", "u")

	type result struct {
		out *datapipeline.PollForTaskOutput
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		out, err := svc.PollForTask(b.ctx, &datapipeline.PollForTaskInput{WorkerGroup: "wg", Hostname: "runner-host"})
		done <- result{out, err}
	}()
	waitForPoller(t, b.db, store.TaskTopic(principalA.AccountID, "wg"))

	// Another account's runner on the same worker group name never sees it.
	otherCtx, stopOther := context.WithCancel(b.ctxB)
	defer stopOther()
	otherDone := make(chan result, 1)
	go func() {
		out, err := svc.PollForTask(otherCtx, &datapipeline.PollForTaskInput{WorkerGroup: "wg"})
		otherDone <- result{out, err}
	}()

	objects := `{"A":{"id":"A","name":"A","fields":[]}}`
	err := b.db.TaskEnqueue(b.ctx, &store.Task{
		ID: "task-1", Account: principalA.AccountID, PipelineID: id, AttemptID: "@A_attempt",
		WorkerGroup: "wg", Objects: []byte(objects), CreatedAt: time.Now(),
	})
	if err != nil {
		t.Fatalf("TaskEnqueue: %v", err)
	}

	var r result
	select {
	case r = <-done:
	case <-time.After(2 * time.Second):
		t.Fatalf("PollForTask still waiting 2s after a task was enqueued (hold time %v)", hold)
	}
	if r.err != nil {
		t.Fatalf("PollForTask: %v", r.err)
	}
	if elapsed := time.Since(start); elapsed >= 2*time.Second {
		t.Errorf("PollForTask took %v", elapsed)
	}
	want := &datapipeline.TaskObject{TaskID: "task-1", PipelineID: id, AttemptID: "@A_attempt", Objects: json.RawMessage(objects)}
	if diff := cmp.Diff(want, r.out.TaskObject); diff != "" {
		t.Fatalf("task mismatch (-want +got):\n%s", diff)
	}

	// The task belongs to account A alone.
	if _, err := svc.ReportTaskProgress(b.ctxB, &datapipeline.ReportTaskProgressInput{TaskID: "task-1"}); err == nil {
		t.Errorf("account B reported progress on account A's task")
	} else {
		wantCode(t, err, datapipeline.CodeTaskNotFoundException)
	}

	progress, err := svc.ReportTaskProgress(b.ctx, &datapipeline.ReportTaskProgressInput{TaskID: "task-1"})
	if err != nil {
		t.Fatalf("ReportTaskProgress: %v", err)
	}
	if progress.Canceled {
		t.Errorf("ReportTaskProgress canceled = true, want false")
	}
	if _, err := svc.SetTaskStatus(b.ctx, &datapipeline.SetTaskStatusInput{TaskID: "task-1", TaskStatus: "FINISHED"}); err != nil {
		t.Fatalf("SetTaskStatus(FINISHED): %v", err)
	}
	_, err = svc.SetTaskStatus(b.ctx, &datapipeline.SetTaskStatusInput{TaskID: "task-1", TaskStatus: "FINISHED"})
	wantCode(t, err, datapipeline.CodeTaskNotFoundException)
	_, err = svc.ReportTaskProgress(b.ctx, &datapipeline.ReportTaskProgressInput{TaskID: "task-1"})
	wantCode(t, err, datapipeline.CodeTaskNotFoundException)

	// Stop account B's poll rather than wait out the hold time: a poll
	// ended by its context answers empty.
	select {
	case r := <-otherDone:
		t.Errorf("account B's poll returned early: %+v, %v", r.out, r.err)
	default:
	}
	stopOther()
	select {
	case r := <-otherDone:
		if r.err != nil || r.out == nil || r.out.TaskObject != nil {
			t.Errorf("PollForTask ended by its context = (%+v, %v), want an empty answer", r.out, r.err)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("PollForTask did not return after its context ended")
	}
}

// TestHeartbeatTerminate checks when ReportTaskRunnerHeartbeat tells a
// runner to stop: a runner of a pipeline's resource once that pipeline no
// longer runs, and never a runner of an ordinary worker group.
func TestHeartbeatTerminate(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	id := create(t, svc, b.ctx, "hb", "hb")
	terminate := func(ctx context.Context, wg string) bool {
		t.Helper()
		out := mustCall(t, svc, ctx, "ReportTaskRunnerHeartbeat", `{"taskrunnerId":"r-1","workerGroup":%q}`, wg)
		return out.(*datapipeline.ReportTaskRunnerHeartbeatOutput).Terminate
	}
	box := scheduler.ResourceWorkerGroup(id, "Box")
	for _, tc := range []struct {
		name string
		ctx  context.Context
		wg   string
		want bool
	}{
		{"ordinary worker group", b.ctx, "wg", false},
		{"resource of a pending pipeline", b.ctx, box, false},
		{"resource of an unknown pipeline", b.ctx, scheduler.ResourceWorkerGroup("df-NOPE", "Box"), true},
		{"resource of another account's pipeline", b.ctxB, box, true},
		{"not a resource group", b.ctx, "culvert:" + id, false},
	} {
		if got := terminate(tc.ctx, tc.wg); got != tc.want {
			t.Errorf("%s: terminate = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, state := range []pipeline.State{pipeline.StateScheduled, pipeline.StateDeactivating, pipeline.StateInactive, pipeline.StateFinished} {
		if _, err := b.db.PipelineUpdate(b.ctx, principalA.AccountID, id, func(p *store.Pipeline) error { p.State = state; return nil }); err != nil {
			t.Fatal(err)
		}
		want := state == pipeline.StateInactive || state == pipeline.StateFinished
		if got := terminate(b.ctx, box); got != want {
			t.Errorf("resource runner of a %s pipeline: terminate = %v, want %v", state, got, want)
		}
	}
	mustCall(t, svc, b.ctx, "DeletePipeline", `{"pipelineId":%q}`, id)
	if !terminate(b.ctx, box) {
		t.Error("resource runner of a deleted pipeline: terminate = false, want true")
	}
	if terminate(b.ctx, "wg") {
		t.Error("ordinary worker group after the delete: terminate = true")
	}
}

// waitForPoller returns once a poll waits on topic, so that what the test
// does next reaches a waiting poller rather than one yet to look.
func waitForPoller(t *testing.T, db store.Store, topic string) {
	t.Helper()
	n, ok := db.Notifier().(*store.LocalNotifier)
	if !ok {
		t.Fatalf("the store's notifier is a %T, not a *store.LocalNotifier", db.Notifier())
	}
	deadline := time.Now().Add(10 * time.Second)
	for n.Subscribers(topic) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no poll waits on %s after 10 s", topic)
		}
		runtime.Gosched()
	}
}
