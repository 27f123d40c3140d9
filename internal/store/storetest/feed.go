package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// change is a feed entry as the tests compare it.
type change struct {
	ID       string
	Status   store.TaskStatus
	Canceled bool
}

// changes reads the whole feed after `after`, checking its ordering rules.
func (b *testBundle) changes(t *testing.T, after int64, limit int) ([]change, int64) {
	t.Helper()
	tasks, last, err := b.s.TaskChanges(b.ctx, after, limit)
	if err != nil {
		t.Fatalf("TaskChanges(%d, %d) error: %v", after, limit, err)
	}
	if len(tasks) > max(limit, 0) {
		t.Errorf("TaskChanges(%d, %d) returned %d tasks", after, limit, len(tasks))
	}
	var out []change
	prev := after
	for _, tk := range tasks {
		if tk.ChangeSeq <= prev {
			t.Errorf("TaskChanges(%d, %d): ChangeSeq %d of %s not above %d", after, limit, tk.ChangeSeq, tk.ID, prev)
		}
		prev = tk.ChangeSeq
		out = append(out, change{tk.ID, tk.Status, tk.Canceled})
	}
	if last != prev {
		t.Errorf("TaskChanges(%d, %d) last = %d, want %d", after, limit, last, prev)
	}
	return out, last
}

func testTaskChanges(t *testing.T, opts Options) {
	t.Run("Feed", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-FEED000001", "orders"))
		q := b.create(t, createParams(acctB, "df-FEED000002", "orders"))
		empty, last := b.changes(t, 0, 10)
		if len(empty) != 0 || last != 0 {
			t.Errorf("TaskChanges() of an empty store = (%v, %d), want (none, 0)", empty, last)
		}

		// Each step, and what the feed shows after the previous cursor.
		var cursor int64
		step := func(name string, want ...change) {
			t.Helper()
			got, last := b.changes(t, cursor, 100)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: TaskChanges() mismatch (-want +got):\n%s", name, diff)
			}
			cursor = last
		}
		b.enqueue(t, task(acctA, p.ID, "t-1", "wg", t0))
		step("TaskEnqueue", change{"t-1", store.TaskQueued, false})
		b.apply(t, &store.RunChanges{Account: acctB, PipelineID: q.ID, Tasks: []*store.Task{
			task(acctB, q.ID, "t-2", "wg", t0), task(acctB, q.ID, "t-3", "wg", t0), task(acctB, q.ID, "t-4", "wg", t0)}, Now: t0})
		step("RunApply", change{"t-2", store.TaskQueued, false}, change{"t-3", store.TaskQueued, false}, change{"t-4", store.TaskQueued, false})
		b.claim(t, acctB, "wg", "h", t0, at(time.Minute))
		step("TaskClaim", change{"t-2", store.TaskClaimed, false})
		if _, err := b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctB, ID: "t-2", LeaseUntil: at(2 * time.Minute), Now: t0}); err != nil {
			t.Fatal(err)
		}
		step("TaskProgress")
		if _, err := b.s.TaskComplete(b.ctx, &store.TaskCompleteParams{Account: acctB, ID: "t-2", Status: store.TaskFailed, Now: t0}); err != nil {
			t.Fatal(err)
		}
		step("TaskComplete", change{"t-2", store.TaskFailed, false})
		b.apply(t, &store.RunChanges{Account: acctB, PipelineID: q.ID, Cancel: []string{"t-4"}, Now: t0})
		step("Cancel", change{"t-4", store.TaskQueued, true})
		b.claim(t, acctB, "wg", "h", t0, at(time.Minute))
		if _, err := b.s.TaskReap(b.ctx, at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		// t-3 changed twice since the cursor: it shows once, as it is now.
		step("TaskClaim+TaskReap", change{"t-3", store.TaskLost, false})
		step("Nothing")
		if head, err := b.s.TaskChangeHead(b.ctx); err != nil || head != cursor {
			t.Errorf("TaskChangeHead() = %d, %v; want %d, the last change the feed returned", head, err, cursor)
		}

		// From the start: every task once, in the order of its last change.
		all, _ := b.changes(t, 0, 100)
		want := []change{{"t-1", store.TaskQueued, false}, {"t-2", store.TaskFailed, false},
			{"t-4", store.TaskQueued, true}, {"t-3", store.TaskLost, false}}
		if diff := cmp.Diff(want, all); diff != "" {
			t.Errorf("TaskChanges(0) mismatch (-want +got):\n%s", diff)
		}
		// Paging with limit gives the same, a page at a time.
		var paged []change
		var after int64
		for range 10 {
			page, last := b.changes(t, after, 3)
			if len(page) == 0 {
				break
			}
			paged, after = append(paged, page...), last
		}
		if diff := cmp.Diff(want, paged); diff != "" {
			t.Errorf("TaskChanges() paged by 3 mismatch (-want +got):\n%s", diff)
		}
		if page, last := b.changes(t, 0, 0); len(page) != 0 || last != 0 {
			t.Errorf("TaskChanges(0, 0) = (%v, %d), want (none, 0)", page, last)
		}
		// A far cursor returns nothing and itself.
		if page, last := b.changes(t, cursor+1000, 10); len(page) != 0 || last != cursor+1000 {
			t.Errorf("TaskChanges(beyond) = (%v, %d), want (none, %d)", page, last, cursor+1000)
		}
		// A deleted pipeline's tasks leave the feed; numbering goes on.
		if err := b.s.PipelineDelete(b.ctx, acctB, q.ID, t0); err != nil {
			t.Fatal(err)
		}
		all, _ = b.changes(t, 0, 100)
		if diff := cmp.Diff(want[:1], all); diff != "" {
			t.Errorf("TaskChanges(0) after delete mismatch (-want +got):\n%s", diff)
		}
		b.enqueue(t, task(acctA, p.ID, "t-5", "wg", t0))
		got, last := b.changes(t, cursor, 10)
		if len(got) != 1 || got[0].ID != "t-5" || last <= cursor {
			t.Errorf("TaskChanges(%d) after a new enqueue = (%v, %d)", cursor, got, last)
		}
	})
}

func testTaskReap(t *testing.T, opts Options) {
	t.Parallel()
	_, b := setup(t, opts)
	p := b.create(t, createParams(acctA, "df-REAP000001", "orders"))
	q := b.create(t, createParams(acctB, "df-REAP000002", "orders"))
	for _, id := range []string{"t-short", "t-long", "t-done", "t-queued"} {
		b.enqueue(t, task(acctA, p.ID, id, "wg", t0))
	}
	b.enqueue(t, task(acctB, q.ID, "t-b", "wg", t0))
	short := b.claim(t, acctA, "wg", "h1", t0, at(time.Minute))
	b.claim(t, acctA, "wg", "h2", t0, at(time.Hour))
	b.claim(t, acctA, "wg", "h3", t0, at(time.Minute))
	b.claim(t, acctB, "wg", "h4", t0, at(time.Minute))
	if _, err := b.s.TaskComplete(b.ctx, &store.TaskCompleteParams{Account: acctA, ID: "t-done", Status: store.TaskFinished, Now: t0}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		now  time.Time
		want int
	}{
		{at(time.Minute), 0}, // a lease ending at now has not expired
		{at(time.Minute + time.Microsecond), 2},
		{at(2 * time.Minute), 0},
		{at(2 * time.Hour), 1},
		{at(3 * time.Hour), 0},
	}
	for _, st := range steps {
		if n, err := b.s.TaskReap(b.ctx, st.now); err != nil || n != st.want {
			t.Errorf("TaskReap(%v) = (%d, %v), want (%d, nil)", st.now.Sub(t0), n, err, st.want)
		}
	}
	status := map[string]store.TaskStatus{}
	for _, tk := range b.load(t, acctA, p.ID).Tasks {
		status[tk.ID] = tk.Status
	}
	for _, tk := range b.load(t, acctB, q.ID).Tasks {
		status[tk.ID] = tk.Status
	}
	want := map[string]store.TaskStatus{"t-short": store.TaskLost, "t-long": store.TaskLost, "t-done": store.TaskFinished,
		"t-queued": store.TaskQueued, "t-b": store.TaskLost}
	if diff := cmp.Diff(want, status); diff != "" {
		t.Errorf("statuses after reaping mismatch (-want +got):\n%s", diff)
	}
	// A lost task keeps what its claim recorded.
	lost := b.load(t, acctA, p.ID).Tasks[0]
	wantLost := *short
	wantLost.Status = store.TaskLost
	if diff := cmp.Diff(&wantLost, lost, runTaskCmpOpts...); diff != "" {
		t.Errorf("lost task mismatch (-want +got):\n%s", diff)
	}
	// Its runner has lost it: it can neither report nor complete.
	_, err := b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "t-short", LeaseUntil: at(4 * time.Hour), Now: at(3 * time.Hour)})
	wantErr(t, "TaskProgress(lost)", err, store.ErrNotFound)
	_, err = b.s.TaskComplete(b.ctx, &store.TaskCompleteParams{Account: acctA, ID: "t-short", Status: store.TaskFinished, Now: at(3 * time.Hour)})
	wantErr(t, "TaskComplete(lost)", err, store.ErrNotFound)
	if id := b.claimID(t, acctA, "wg", "h", at(3*time.Hour), at(4*time.Hour)); id != "t-queued" {
		t.Errorf("TaskClaim() after reaping = %q, want t-queued", id)
	}
}

func testTaskNextAvailable(t *testing.T, opts Options) {
	t.Parallel()
	_, b := setup(t, opts)
	p := b.create(t, createParams(acctA, "df-NEXTAV0001", "orders"))
	q := b.create(t, createParams(acctB, "df-NEXTAV0002", "orders"))
	next := func(now time.Time) time.Time {
		t.Helper()
		got, err := b.s.TaskNextAvailable(b.ctx, now)
		if err != nil {
			t.Fatalf("TaskNextAvailable() error: %v", err)
		}
		return got
	}
	if got := next(t0); !got.IsZero() {
		t.Errorf("TaskNextAvailable() with no tasks = %v, want zero", got)
	}
	mk := func(account, pid, id, wg string, notBefore time.Time) *store.Task {
		tk := task(account, pid, id, wg, t0)
		tk.NotBefore = notBefore
		return tk
	}
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Tasks: []*store.Task{
		mk(acctA, p.ID, "t-now", "wg", time.Time{}),
		mk(acctA, p.ID, "t-30m", "wg", at(30*time.Minute)),
		mk(acctA, p.ID, "t-10m-canceled", "wg2", at(10*time.Minute)),
		mk(acctA, p.ID, "t-20m-claimed", "wg3", at(20*time.Minute)),
	}, Now: t0})
	b.apply(t, &store.RunChanges{Account: acctB, PipelineID: q.ID, Tasks: []*store.Task{mk(acctB, q.ID, "t-b-40m", "wg", at(40*time.Minute))}, Now: t0})
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Cancel: []string{"t-10m-canceled"}, Now: t0})
	if id := b.claimID(t, acctA, "wg3", "h", at(20*time.Minute), at(time.Hour)); id != "t-20m-claimed" {
		t.Fatalf("TaskClaim(wg3) = %q", id)
	}
	tests := []struct {
		now, want time.Time
	}{
		{t0, at(30 * time.Minute)},
		{at(30*time.Minute - time.Microsecond), at(30 * time.Minute)},
		{at(30 * time.Minute), at(40 * time.Minute)}, // after now, strictly
		{at(40 * time.Minute), time.Time{}},
	}
	for _, tc := range tests {
		if got := next(tc.now); !got.Equal(tc.want) {
			t.Errorf("TaskNextAvailable(%v) = %v, want %v", tc.now.Sub(t0), got, tc.want)
		}
	}
}

func testPipelineDeleteRuns(t *testing.T, opts Options) {
	t.Parallel()
	_, b := setup(t, opts)
	p := b.create(t, createParams(acctA, "df-DELRUN0001", "orders"))
	keep := b.create(t, createParams(acctA, "df-DELRUN0002", "billing"))
	for _, pl := range []*store.Pipeline{p, keep} {
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: pl.ID,
			Instances: []*pipeline.Instance{fullInstance("@A_1", t0)}, Attempts: []*pipeline.Attempt{fullAttempt("@A_1_Attempt=1")},
			Tasks: []*store.Task{task(acctA, pl.ID, "t-"+pl.ID, "wg", t0)}, Now: t0})
		if err := b.s.RunCommandAdd(b.ctx, &store.RunCommand{Account: acctA, PipelineID: pl.ID, Status: "RERUN", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	want := b.load(t, acctA, keep.ID)
	if err := b.s.PipelineDelete(b.ctx, acctA, p.ID, t0); err != nil {
		t.Fatal(err)
	}
	_, err := b.s.RunLoad(b.ctx, acctA, p.ID)
	wantErr(t, "RunLoad(deleted)", err, store.ErrDeleted)
	if diff := cmp.Diff(want, b.load(t, acctA, keep.ID), runCmpOpts...); diff != "" {
		t.Errorf("RunLoad(other pipeline) after delete mismatch (-want +got):\n%s", diff)
	}
	// Its queued task is not claimable.
	var got []string
	for range 3 {
		if id := b.claimID(t, acctA, "wg", "h", t0, at(time.Hour)); id != "" {
			got = append(got, id)
		}
	}
	if want := []string{"t-" + keep.ID}; !slices.Equal(got, want) {
		t.Errorf("claims after delete = %v, want %v", got, want)
	}
}
