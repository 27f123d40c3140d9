package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// testDurability checks that everything a store acknowledged is there after
// it is closed and opened again, and that numbering carries on.
func testDurability(t *testing.T, opts Options) {
	t.Parallel()
	s, b := setup(t, opts)

	// Account A: a pipeline with everything set, two definition versions
	// (Active the older, Latest the newer and errored), and tasks in every
	// state.
	full := b.create(t, createParams(acctA, "df-DURFULL001", "full"))
	b.putDefinition(t, acctA, full.ID, doc1, false, at(time.Minute))
	b.activate(t, acctA, full.ID, at(2*time.Minute))
	b.putDefinition(t, acctA, full.ID, doc2, true, at(3*time.Minute))
	b.update(t, acctA, full.ID, func(p *store.Pipeline) error {
		p.Description = "fully loaded"
		p.Tags = append(p.Tags, pipeline.Tag{Key: "unicode", Value: "ünï €"})
		p.Paused = []string{"ActivityB", "ActivityA"}
		p.State = pipeline.StateInactive
		p.LastDeactivatedAt = at(4 * time.Minute)
		return nil
	})
	// Same version for Latest and Active.
	same := b.create(t, createParams(acctA, "df-DURSAME001", "same"))
	b.putDefinition(t, acctA, same.ID, doc3, false, at(time.Minute))
	b.activate(t, acctA, same.ID, at(2*time.Minute))
	bare := b.create(t, createParams(acctB, "df-DURBARE001", "bare"))

	b.enqueue(t, task(acctA, full.ID, "task-claimed", "wg", t0))
	b.enqueue(t, task(acctA, full.ID, "task-done", "wg", t0))
	b.enqueue(t, task(acctA, same.ID, "task-queued-1", "wg", t0))
	b.enqueue(t, task(acctA, full.ID, "task-queued-2", "wg", t0))
	b.enqueue(t, task(acctA, full.ID, "task-other-wg", "wg2", t0))
	b.claim(t, acctA, "wg", "host-1", at(time.Minute), at(time.Hour))
	// A progress report, whose time a reopened store must still know.
	claimed, err := b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "task-claimed", LeaseUntil: at(time.Hour), Now: at(90 * time.Second)})
	if err != nil {
		t.Fatalf("TaskProgress() error: %v", err)
	}
	b.claim(t, acctA, "wg", "host-1", at(time.Minute), at(time.Hour))
	if _, err := b.s.TaskComplete(b.ctx, &store.TaskCompleteParams{Account: acctA, ID: "task-done", Status: store.TaskFailed,
		ErrorID: "E", ErrorMessage: "m", ErrorStack: "s", Now: at(2 * time.Minute)}); err != nil {
		t.Fatalf("TaskComplete() error: %v", err)
	}
	if err := b.s.RunnerHeartbeat(b.ctx, &store.RunnerHeartbeatParams{Account: acctA, RunnerID: "r", WorkerGroup: "wg", Hostname: "h", Now: t0}); err != nil {
		t.Fatalf("RunnerHeartbeat() error: %v", err)
	}
	// A failed update leaves no trace.
	if _, err := b.s.PipelineUpdate(b.ctx, acctA, bare.ID, func(*store.Pipeline) error { return errFn }); err == nil {
		t.Fatalf("PipelineUpdate() with a failing fn succeeded")
	}
	// The tombstone is the newest pipeline, so a store that reused its Seq
	// would show it below.
	gone := b.create(t, createParams(acctA, "df-DURGONE001", "gone"))
	b.enqueue(t, task(acctA, gone.ID, "task-gone", "wg", t0))
	if err := b.s.PipelineDelete(b.ctx, acctA, gone.ID, at(5*time.Minute)); err != nil {
		t.Fatalf("PipelineDelete() error: %v", err)
	}

	wantPipelines := map[string]*store.Pipeline{}
	for _, id := range []string{full.ID, same.ID} {
		wantPipelines[id] = b.get(t, acctA, id)
	}
	wantPipelines[bare.ID] = b.get(t, acctB, bare.ID)
	wantListA, wantListB := b.listAll(t, acctA), b.listAll(t, acctB)

	// Reopen twice: a restart must also survive a restart that wrote nothing.
	for round := range 2 {
		s = opts.Reopen(t, s)
		b = &testBundle{s: s, ctx: t.Context()}
		for id, want := range wantPipelines {
			got := b.get(t, want.Account, id)
			if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
				t.Errorf("round %d: PipelineGet(%s) after reopen mismatch (-want +got):\n%s", round, id, diff)
			}
		}
		p := b.get(t, acctA, full.ID)
		if !bytes.Equal(p.Latest.Doc, doc2) || !bytes.Equal(p.Active.Doc, doc1) || !p.Latest.Errored || p.Active.Errored {
			t.Errorf("round %d: definitions after reopen = (%q, %t) / (%q, %t), want (%q, true) / (%q, false)",
				round, p.Latest.Doc, p.Latest.Errored, p.Active.Doc, p.Active.Errored, doc2, doc1)
		}
		if p := b.get(t, acctA, same.ID); p.Latest.Version != p.Active.Version || !bytes.Equal(p.Active.Doc, doc3) {
			t.Errorf("round %d: versions after reopen = (%d, %d), want equal", round, p.Latest.Version, p.Active.Version)
		}
		// The idempotency index still knows the live pipelines.
		for _, want := range wantPipelines {
			p := createParams(want.Account, "df-DURNEW0001", want.Name)
			got, created, err := b.s.PipelineCreate(b.ctx, p)
			if err != nil || created || got.ID != want.ID {
				t.Errorf("round %d: PipelineCreate(key of %s) after reopen = (%s, %t, %v), want (%s, false, nil)",
					round, want.ID, idOf(got), created, err, want.ID)
			}
		}
		_, err := b.s.PipelineGet(b.ctx, acctA, gone.ID)
		wantErr(t, "PipelineGet(deleted) after reopen", err, store.ErrDeleted)
		_, err = b.s.PipelineGet(b.ctx, acctB, gone.ID)
		wantErr(t, "PipelineGet(other account's deleted) after reopen", err, store.ErrNotFound)
		err = b.s.PipelineDelete(b.ctx, acctA, gone.ID, at(time.Hour))
		wantErr(t, "PipelineDelete(deleted) after reopen", err, store.ErrDeleted)
		if diff := cmp.Diff(wantListA, b.listAll(t, acctA)); diff != "" {
			t.Errorf("round %d: PipelineList(A) after reopen mismatch (-want +got):\n%s", round, diff)
		}
		if diff := cmp.Diff(wantListB, b.listAll(t, acctB)); diff != "" {
			t.Errorf("round %d: PipelineList(B) after reopen mismatch (-want +got):\n%s", round, diff)
		}
	}

	// Tasks: the claimed one still holds its lease, the done one is done,
	// the queued ones come out in their order, the deleted pipeline's is gone.
	run := b.load(t, acctA, full.ID)
	if i := slices.IndexFunc(run.Tasks, func(x *store.Task) bool { return x.ID == "task-claimed" }); i < 0 || !run.Tasks[i].ProgressedAt.Equal(at(90*time.Second)) {
		t.Errorf("claimed task's ProgressedAt after reopen: %v, want %v", run.Tasks, at(90*time.Second))
	}
	got, err := b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "task-claimed", LeaseUntil: at(time.Hour), Now: at(3 * time.Minute)})
	if err != nil {
		t.Fatalf("TaskProgress(claimed) after reopen error: %v", err)
	}
	claimed.ProgressedAt = at(3 * time.Minute)
	if diff := cmp.Diff(claimed, got, taskCmpOpts...); diff != "" {
		t.Errorf("claimed task after reopen mismatch (-want +got):\n%s", diff)
	}
	_, err = b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "task-done", LeaseUntil: at(time.Hour), Now: at(3 * time.Minute)})
	wantErr(t, "TaskProgress(done) after reopen", err, store.ErrNotFound)
	_, err = b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "task-gone", LeaseUntil: at(time.Hour), Now: at(3 * time.Minute)})
	wantErr(t, "TaskProgress(deleted pipeline's) after reopen", err, store.ErrNotFound)
	var order []string
	for range 5 {
		if id := b.claimID(t, acctA, "wg", "host-2", at(3*time.Minute), at(2*time.Hour)); id != "" {
			order = append(order, id)
		}
	}
	if diff := cmp.Diff([]string{"task-queued-1", "task-queued-2"}, order); diff != "" {
		t.Errorf("claim order after reopen mismatch (-want +got):\n%s", diff)
	}
	if id := b.claimID(t, acctA, "wg2", "host-2", at(3*time.Minute), at(2*time.Hour)); id != "task-other-wg" {
		t.Errorf("TaskClaim(wg2) after reopen = %q, want task-other-wg", id)
	}
	// The lease written before the restart expires when it said it would.
	if n, err := b.s.TaskReap(b.ctx, at(time.Hour)); err != nil || n != 0 {
		t.Errorf("TaskReap(at the old lease's end) after reopen = (%d, %v), want (0, nil)", n, err)
	}
	if n, err := b.s.TaskReap(b.ctx, at(time.Hour+time.Second)); err != nil || n != 1 {
		t.Errorf("TaskReap(after the old lease) after reopen = (%d, %v), want (1, nil)", n, err)
	}
	err = b.s.TaskEnqueue(b.ctx, task(acctA, full.ID, "task-claimed", "wg", t0))
	wantErr(t, "TaskEnqueue(taken id) after reopen", err, store.ErrConflict)

	// Numbering continues: Seq past the tombstone, versions past the latest;
	// the deleted pipeline's key is free and its id still taken.
	after := b.create(t, createParams(acctA, "df-DURAFTR001", "after"))
	if after.Seq <= gone.Seq {
		t.Errorf("Seq after reopen = %d, want > %d (the newest pipeline before reopen)", after.Seq, gone.Seq)
	}
	v := b.putDefinition(t, acctA, full.ID, doc3, false, at(time.Hour)).Latest.Version
	if want := wantPipelines[full.ID].Latest.Version + 1; v != want {
		t.Errorf("version put after reopen = %d, want %d", v, want)
	}
	recreated, created, err := b.s.PipelineCreate(b.ctx, createParams(acctA, "df-DURGONE002", "gone"))
	if err != nil || !created || recreated.ID != "df-DURGONE002" {
		t.Errorf("PipelineCreate(deleted key) after reopen = (%s, %t, %v), want (df-DURGONE002, true, nil)", idOf(recreated), created, err)
	}
	_, _, err = b.s.PipelineCreate(b.ctx, createParams(acctA, gone.ID, "other"))
	wantErr(t, "PipelineCreate(deleted id) after reopen", err, store.ErrConflict)
}
