package scheduler_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/scheduler"
	"github.com/culvert/culvert/internal/store"
)

// TestLoopKeepsLogLocation checks that an attempt keeps the @logLocation
// its runner reported once its task ends, each attempt its own: a failed
// attempt's logs stay findable after its retry ran elsewhere
// (docs/assumptions/0022-attempt-logs.md).
func TestLoopKeepsLogLocation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const account, pid, wg = "123456789012", "df-LOGLOCLOOP1", "wg-logs"
	str := pipeline.String
	st := onceRun(t, account, pid, []pipeline.Field{str("workerGroup", wg), str("maximumRetries", "1"), str("retryDelay", "1 minutes")},
		pipeline.Object{ID: "Work", Name: "Work", Fields: []pipeline.Field{str("type", "ShellCommandActivity"), str("command", "true")}})
	t0 := loopT0
	now := t0
	loop, err := scheduler.NewLoop(scheduler.LoopConfig{Store: st, Now: func() time.Time { return now }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	// run claims the next task, reports progress naming loc (when not
	// empty), and completes it with status.
	run := func(loc string, status store.TaskStatus) {
		t.Helper()
		loop.Pass(ctx)
		task, err := st.TaskClaim(ctx, &store.TaskClaimParams{Account: account, WorkerGroup: wg, Owner: "r", LeaseUntil: now.Add(time.Hour), Now: now})
		if err != nil {
			t.Fatalf("TaskClaim: %v", err)
		}
		loop.Pass(ctx)
		if _, err := st.TaskProgress(ctx, &store.TaskProgressParams{Account: account, ID: task.ID, LeaseUntil: now.Add(time.Hour), Now: now, LogLocation: loc}); err != nil {
			t.Fatal(err)
		}
		// Later reports name no location; the first one's stays.
		if _, err := st.TaskProgress(ctx, &store.TaskProgressParams{Account: account, ID: task.ID, LeaseUntil: now.Add(time.Hour), Now: now.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.TaskComplete(ctx, &store.TaskCompleteParams{Account: account, ID: task.ID, Status: status, Now: now.Add(2 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		loop.Pass(ctx)
		now = now.Add(2 * time.Minute)
	}
	run("/var/log/culvert/a1", store.TaskFailed)
	run("s3://logs/a2/", store.TaskFinished)

	state, err := st.RunLoad(ctx, account, pid)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range state.Attempts {
		got[a.ID] = a.LogLocation
		if a.ReportProgressTime.IsZero() {
			t.Errorf("attempt %s has no ReportProgressTime", a.ID)
		}
	}
	want := map[string]string{
		"@Work_2026-01-01T00:00:00_Attempt=1": "/var/log/culvert/a1",
		"@Work_2026-01-01T00:00:00_Attempt=2": "s3://logs/a2/",
	}
	if !maps.Equal(got, want) {
		t.Errorf("attempts' LogLocation = %v, want %v", got, want)
	}
}
