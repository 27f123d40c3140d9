package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// testRunDurability checks that runs, commands and the task feed survive a
// reopen, and that the feed's and commands' numbering never goes back, even
// when the rows holding the highest numbers were deleted.
func testRunDurability(t *testing.T, opts Options) {
	t.Parallel()
	s, b := setup(t, opts)
	p := b.create(t, createParams(acctA, "df-DURRUN0001", "orders"))
	b.putDefinition(t, acctA, p.ID, doc1, false, t0)
	b.activate(t, acctA, p.ID, t0)
	q := b.create(t, createParams(acctB, "df-DURRUN0002", "orders"))
	b.update(t, acctB, q.ID, func(p *store.Pipeline) error { p.State = pipeline.StateDeactivating; return nil })
	gone := b.create(t, createParams(acctA, "df-DURRUN0003", "gone"))

	later := task(acctA, p.ID, "t-later", "wg", t0)
	later.NotBefore, later.InstanceID = at(time.Hour), "@Z_0"
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID,
		Instances: []*pipeline.Instance{fullInstance("@A_1", at(time.Hour)), bareInstance("@B_1", "B", at(time.Hour)), {ID: "@Z_0"}},
		Attempts:  []*pipeline.Attempt{fullAttempt("@A_1_Attempt=2"), {ID: "@B_1_Attempt=1", InstanceID: "@B_1", N: 1}},
		Tasks: []*store.Task{task(acctA, p.ID, "t-claimed", "wg", t0), task(acctA, p.ID, "t-lost", "wg", t0),
			task(acctA, p.ID, "t-canceled", "wg", t0), later, task(acctA, p.ID, "t-queued", "wg", t0)},
		Now: t0})
	b.claim(t, acctA, "wg", "host-1", t0, at(time.Hour))
	b.claim(t, acctA, "wg", "host-2", t0, at(time.Minute))
	if n, err := s.TaskReap(b.ctx, at(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("TaskReap() = (%d, %v), want (1, nil)", n, err)
	}
	var cmds []*store.RunCommand
	for _, status := range []string{"RERUN", "TRY_CANCEL", "MARK_FINISHED"} {
		c := &store.RunCommand{Account: acctA, PipelineID: p.ID, ObjectIDs: []string{"@A_1"}, Status: status, CreatedAt: t0}
		if err := s.RunCommandAdd(b.ctx, c); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Cancel: []string{"t-canceled"},
		CommandsDone: []int64{cmds[2].Seq}, State: pipeline.StateScheduled, Now: t0})
	b.apply(t, &store.RunChanges{Account: acctB, PipelineID: q.ID, Instances: []*pipeline.Instance{bareInstance("@B_1", "B", t0)}, Now: t0})
	// The newest changes and commands belong to a pipeline then deleted.
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: gone.ID, Tasks: []*store.Task{task(acctA, gone.ID, "t-gone", "wg-gone", t0)}, Now: t0})
	lastCmd := &store.RunCommand{Account: acctA, PipelineID: gone.ID, Status: "RERUN", CreatedAt: t0}
	if err := s.RunCommandAdd(b.ctx, lastCmd); err != nil {
		t.Fatal(err)
	}
	cmdHighest := lastCmd.Seq
	_, highest := b.changes(t, 0, 1000)
	if err := s.PipelineDelete(b.ctx, acctA, gone.ID, t0); err != nil {
		t.Fatal(err)
	}

	wantP, wantQ := b.load(t, acctA, p.ID), b.load(t, acctB, q.ID)
	wantFeed, _, err := b.s.TaskChanges(b.ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	wantRunning, err := s.PipelinesRunning(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	// After a reopen tasks compare with their ChangeSeq: the feed resumes
	// where it was.
	exact := append([]cmp.Option{cmpopts.IgnoreFields(store.Task{}, "UpdatedAt", "Objects"), cmpopts.IgnoreFields(store.RunState{}, "ChangeSeq")}, cmpOpts...)
	for round := range 2 {
		s = opts.Reopen(t, s)
		b = &testBundle{s: s, ctx: t.Context()}
		if diff := cmp.Diff(wantP, b.load(t, acctA, p.ID), exact...); diff != "" {
			t.Errorf("round %d: RunLoad(A) after reopen mismatch (-want +got):\n%s", round, diff)
		}
		if diff := cmp.Diff(wantQ, b.load(t, acctB, q.ID), exact...); diff != "" {
			t.Errorf("round %d: RunLoad(B) after reopen mismatch (-want +got):\n%s", round, diff)
		}
		feed, _, err := s.TaskChanges(b.ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantFeed, feed, exact...); diff != "" {
			t.Errorf("round %d: TaskChanges(0) after reopen mismatch (-want +got):\n%s", round, diff)
		}
		running, err := s.PipelinesRunning(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantRunning, running, cmpOpts...); diff != "" {
			t.Errorf("round %d: PipelinesRunning() after reopen mismatch (-want +got):\n%s", round, diff)
		}
		if st := b.load(t, acctA, p.ID); st.ChangeSeq < highest {
			t.Errorf("round %d: RunLoad().ChangeSeq after reopen = %d, want at least %d", round, st.ChangeSeq, highest)
		}
	}

	// The queue is as it was: the canceled task stays unclaimable, the
	// NotBefore holds, the claimed lease is reaped when it said.
	if id := b.claimID(t, acctA, "wg", "h", at(3*time.Minute), at(3*time.Hour)); id != "t-queued" {
		t.Errorf("TaskClaim() after reopen = %q, want t-queued", id)
	}
	if next, err := s.TaskNextAvailable(b.ctx, at(3*time.Minute)); err != nil || !next.Equal(at(time.Hour)) {
		t.Errorf("TaskNextAvailable() after reopen = (%v, %v), want %v", next, err, at(time.Hour))
	}
	if id := b.claimID(t, acctA, "wg", "h", at(time.Hour), at(2*time.Hour)); id != "t-later" {
		t.Errorf("TaskClaim() at NotBefore after reopen = %q, want t-later", id)
	}
	if id := b.claimID(t, acctA, "wg", "h", at(time.Hour), at(2*time.Hour)); id != "" {
		t.Errorf("TaskClaim() after reopen = %q, want nothing claimable", id)
	}
	got, last := b.changes(t, highest, 10)
	if len(got) != 2 || got[0].ID != "t-queued" || got[1].ID != "t-later" {
		t.Errorf("TaskChanges(%d) after reopen = %v, want the two claims", highest, got)
	}
	if n, err := s.TaskReap(b.ctx, at(time.Hour+time.Microsecond)); err != nil || n != 1 {
		t.Errorf("TaskReap() after reopen = (%d, %v), want (1, nil): t-claimed", n, err)
	}
	if got, _ := b.changes(t, last, 10); len(got) != 1 || got[0].ID != "t-claimed" || got[0].Status != store.TaskLost {
		t.Errorf("TaskChanges() after the reap = %v, want t-claimed LOST", got)
	}
	c := &store.RunCommand{Account: acctA, PipelineID: p.ID, Status: "RERUN", CreatedAt: t0}
	if err := s.RunCommandAdd(b.ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.Seq <= cmdHighest {
		t.Errorf("RunCommandAdd() after reopen: Seq = %d, want above %d (issued before, then deleted)", c.Seq, cmdHighest)
	}
}
