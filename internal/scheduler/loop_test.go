package scheduler_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/scheduler"
	"github.com/culvert/culvert/internal/store"
	"github.com/culvert/culvert/internal/store/sqlite"
)

// TestLoopWakesForRetryAfterRestart checks that a Loop started over a
// store holding a retry that waits for its retryDelay wakes the worker
// group's pollers when the retry becomes claimable, as the Loop that
// queued it would have: no enqueue announces that moment.
func TestLoopWakesForRetryAfterRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const account, pid, wg = "123456789012", "df-RETRYWAKE01", "wg-retry"
	str := pipeline.String
	st := onceRun(t, account, pid, []pipeline.Field{str("workerGroup", wg), str("maximumRetries", "1"), str("retryDelay", "10 minutes")},
		pipeline.Object{ID: "Work", Name: "Work", Fields: []pipeline.Field{str("type", "ShellCommandActivity"), str("command", "false")}})
	t0 := loopT0

	now := t0
	loop, err := scheduler.NewLoop(scheduler.LoopConfig{Store: st, Now: func() time.Time { return now }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	loop.Pass(ctx)
	task, err := st.TaskClaim(ctx, &store.TaskClaimParams{Account: account, WorkerGroup: wg, Owner: "r", LeaseUntil: now.Add(time.Hour), Now: now})
	if err != nil {
		t.Fatalf("TaskClaim: %v", err)
	}
	if _, err := st.TaskComplete(ctx, &store.TaskCompleteParams{Account: account, ID: task.ID, Status: store.TaskFailed, Now: now}); err != nil {
		t.Fatal(err)
	}
	loop.Pass(ctx) // queues the retry, claimable at 00:10

	// A new Loop, as after a restart, over the same store.
	now = t0.Add(time.Minute)
	restarted, err := scheduler.NewLoop(scheduler.LoopConfig{Store: st, Now: func() time.Time { return now }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if next := restarted.Pass(ctx); next.IsZero() || next.After(t0.Add(10*time.Minute)) {
		t.Fatalf("restarted Loop's next pass = %v, want by 00:10 when the retry becomes claimable", next)
	}
	wake, cancel := st.Notifier().Subscribe(store.TaskTopic(account, wg))
	defer cancel()
	now = t0.Add(10 * time.Minute)
	restarted.Pass(ctx)
	select {
	case <-wake:
	default:
		t.Fatal("the worker group's pollers were not woken when the retry became claimable")
	}
}

// TestLoopWakesForLeases checks that an idle Loop does not wake at all,
// and that one with a lease out wakes when it ends and reaps it.
func TestLoopWakesForLeases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	now := loopT0
	loop, err := scheduler.NewLoop(scheduler.LoopConfig{Store: st, Now: func() time.Time { return now }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if next := loop.Pass(ctx); !next.IsZero() {
		t.Fatalf("idle Loop's next pass = %v, want none: nothing is due until an event", next)
	}
	const account = "123456789012"
	if _, _, err := st.PipelineCreate(ctx, &store.PipelineCreateParams{Account: account, ID: "df-LEASES00001", Name: "p", UniqueID: "u", Now: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.TaskEnqueue(ctx, &store.Task{ID: "t-1", Account: account, PipelineID: "df-LEASES00001", WorkerGroup: "wg", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	ends := now.Add(2 * time.Minute)
	if _, err := st.TaskClaim(ctx, &store.TaskClaimParams{Account: account, WorkerGroup: "wg", Owner: "r", LeaseUntil: ends, Now: now}); err != nil {
		t.Fatal(err)
	}
	next := loop.Pass(ctx)
	if next.Before(ends) || next.After(ends.Add(time.Second)) {
		t.Fatalf("next pass with a lease out = %v, want as the lease ends (%v)", next, ends)
	}
	now = next
	loop.Pass(ctx)
	if _, err := st.TaskComplete(ctx, &store.TaskCompleteParams{Account: account, ID: "t-1", Status: store.TaskFinished, Now: now}); err == nil {
		t.Error("the runner completed a task whose lease ended: it was not reaped")
	}
}

// TestLoopReportsResources checks that the Loop tells LoopConfig.Resources
// which resource worker groups a pipeline needs served, once per change:
// the resource's group while it is CREATING or RUNNING, none once it is
// done.
func TestLoopReportsResources(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const account, pid = "123456789012", "df-RESOURCES01"
	str, ref := pipeline.String, pipeline.Ref
	st := onceRun(t, account, pid, nil,
		pipeline.Object{ID: "Box", Name: "Box", Fields: []pipeline.Field{str("type", "Ec2Resource")}},
		pipeline.Object{ID: "Work", Name: "Work", Fields: []pipeline.Field{str("type", "ShellCommandActivity"), str("command", "true"), ref("runsOn", "Box")}})
	t0 := loopT0

	type report struct {
		account, pipelineID string
		groups              []string
	}
	var reports []report
	now := t0
	loop, err := scheduler.NewLoop(scheduler.LoopConfig{Store: st, Now: func() time.Time { return now }, Logger: quiet,
		Resources: func(account, pipelineID string, groups []string) {
			reports = append(reports, report{account, pipelineID, groups})
		}})
	if err != nil {
		t.Fatal(err)
	}
	group := scheduler.ResourceWorkerGroup(pid, "Box")
	loop.Pass(ctx)
	loop.Pass(ctx) // nothing changed: no second report
	want := []report{{account, pid, []string{group}}}
	if !reflect.DeepEqual(reports, want) {
		t.Fatalf("reports after the resource started = %+v, want %+v", reports, want)
	}
	task, err := st.TaskClaim(ctx, &store.TaskClaimParams{Account: account, WorkerGroup: group, Owner: "r", LeaseUntil: now.Add(time.Hour), Now: now})
	if err != nil {
		t.Fatalf("TaskClaim on the resource's group: %v", err)
	}
	if _, err := st.TaskComplete(ctx, &store.TaskCompleteParams{Account: account, ID: task.ID, Status: store.TaskFinished, Now: now}); err != nil {
		t.Fatal(err)
	}
	loop.Pass(ctx)
	loop.Pass(ctx)
	want = append(want, report{account, pid, nil})
	if !reflect.DeepEqual(reports, want) {
		t.Fatalf("reports once the work on the resource is done = %+v, want %+v", reports, want)
	}
}

// quiet is the logger of Loop tests: their failures say what went wrong.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// openStore opens a fresh SQLite store, closed at cleanup.
func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "culvert.db"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// loopT0 is when the pipelines of onceRun start and are activated.
var loopT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// onceRun opens a store holding pipeline pid of account, activated at
// loopT0: a cron pipeline that runs once, at loopT0, whose Default has
// the fields defaults besides, with the objects given.
func onceRun(t *testing.T, account, pid string, defaults []pipeline.Field, objects ...pipeline.Object) store.Store {
	t.Helper()
	st := openStore(t)
	str, ref := pipeline.String, pipeline.Ref
	doc, err := json.Marshal(&pipeline.Definition{Objects: append([]pipeline.Object{
		{ID: "Default", Name: "Default", Fields: append([]pipeline.Field{str("scheduleType", "cron"), ref("schedule", "Once")}, defaults...)},
		{ID: "Once", Name: "Once", Fields: []pipeline.Field{str("type", "Schedule"), str("period", "1 day"),
			str("startDateTime", loopT0.Format("2006-01-02T15:04:05")), str("occurrences", "1")}},
	}, objects...)})
	if err != nil {
		t.Fatal(err)
	}
	activate(t, st, account, pid, doc, loopT0)
	return st
}

// TestLoopClaimAndFinishInOnePass checks that an attempt whose task was
// claimed and finished between two passes still records its runner's
// host and its start at the claim: the loop hears only of the finish.
func TestLoopClaimAndFinishInOnePass(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const account, pid, wg = "123456789012", "df-CLAIMDONE01", "wg-quick"
	str := pipeline.String
	st := onceRun(t, account, pid, []pipeline.Field{str("workerGroup", wg)},
		pipeline.Object{ID: "Work", Name: "Work", Fields: []pipeline.Field{str("type", "ShellCommandActivity"), str("command", "true")}})
	now := loopT0
	loop, err := scheduler.NewLoop(scheduler.LoopConfig{Store: st, Now: func() time.Time { return now }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	loop.Pass(ctx)
	claimed := loopT0.Add(time.Second)
	task, err := st.TaskClaim(ctx, &store.TaskClaimParams{Account: account, WorkerGroup: wg, Owner: "r", Hostname: "quick.example",
		LeaseUntil: claimed.Add(time.Hour), Now: claimed})
	if err != nil {
		t.Fatalf("TaskClaim: %v", err)
	}
	if _, err := st.TaskComplete(ctx, &store.TaskCompleteParams{Account: account, ID: task.ID, Status: store.TaskFinished, Now: claimed.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	now = loopT0.Add(time.Minute)
	loop.Pass(ctx)
	rs, err := st.RunLoad(ctx, account, pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Attempts) != 1 {
		t.Fatalf("attempts = %d, want 1", len(rs.Attempts))
	}
	a := rs.Attempts[0]
	if a.Status != pipeline.StatusFinished || a.Hostname != "quick.example" || !a.ActualStart.Equal(claimed) {
		t.Errorf("attempt = %s on %q from %v, want FINISHED on quick.example from the claim at %v", a.Status, a.Hostname, a.ActualStart, claimed)
	}
}
