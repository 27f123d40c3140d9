package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/store"
)

func testTaskEnqueue(t *testing.T, opts Options) {
	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-ENQ0000001", "orders"))
		q := b.create(t, createParams(acctB, "df-ENQ0000002", "orders"))
		b.enqueue(t, task(acctA, p.ID, "task-1", "wg", t0))
		tests := []struct {
			name string
			task *store.Task
			want error
		}{
			{name: "MissingPipeline", task: task(acctA, "df-UNKNOWN001", "task-2", "wg", t0), want: store.ErrNotFound},
			{name: "OtherAccountsPipeline", task: task(acctA, q.ID, "task-3", "wg", t0), want: store.ErrNotFound},
			{name: "DuplicateID", task: task(acctA, p.ID, "task-1", "wg", t0), want: store.ErrConflict},
			{name: "DuplicateIDOtherWorkerGroup", task: task(acctA, p.ID, "task-1", "wg2", t0), want: store.ErrConflict},
			{name: "Second", task: task(acctA, p.ID, "task-4", "wg", t0)},
		}
		for _, tc := range tests {
			err := b.s.TaskEnqueue(b.ctx, tc.task)
			wantErr(t, "TaskEnqueue() "+tc.name, err, tc.want)
		}
		// Only task-1 and task-4 were queued, once each.
		var got []string
		for range 4 {
			if id := b.claimID(t, acctA, "wg", "h", t0, at(time.Hour)); id != "" {
				got = append(got, id)
			}
		}
		if id := b.claimID(t, acctA, "wg2", "h", t0, at(time.Hour)); id != "" {
			got = append(got, id)
		}
		if id := b.claimID(t, acctB, "wg", "h", t0, at(time.Hour)); id != "" {
			got = append(got, id)
		}
		if diff := cmp.Diff([]string{"task-1", "task-4"}, got); diff != "" {
			t.Errorf("claimed tasks mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("EmptyObjects", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-ENQEMPTY01", "orders"))
		for _, id := range []string{"task-nil", "task-empty"} {
			tk := task(acctA, p.ID, id, "wg", t0)
			tk.Objects = nil
			if id == "task-empty" {
				tk.Objects = []byte{}
			}
			b.enqueue(t, tk)
			if got := b.claim(t, acctA, "wg", "h", t0, at(time.Hour)); got.ID != id || len(got.Objects) != 0 {
				t.Errorf("TaskClaim() = (%s, %q), want (%s, empty)", got.ID, got.Objects, id)
			}
		}
		// The store still works afterwards.
		b.create(t, createParams(acctA, "df-ENQEMPTY02", "billing"))
	})
}

func testTaskClaim(t *testing.T, opts Options) {
	t.Run("Fields", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-CLAIMF0001", "orders"))
		in := task(acctA, p.ID, "task-1", "wg", at(time.Second))
		in.Objects = []byte(`{"A": {"id": "A", "name": "A", "fields": [ ] } }`)
		b.enqueue(t, in)
		got := b.claim(t, acctA, "wg", "host-1", at(time.Minute), at(2*time.Minute))
		want := &store.Task{
			ID: "task-1", Account: acctA, PipelineID: p.ID, AttemptID: in.AttemptID, WorkerGroup: "wg",
			Objects: in.Objects, Status: store.TaskClaimed, LeaseOwner: "host-1", Hostname: "host-of-host-1",
			LeaseExpires: at(2 * time.Minute), CreatedAt: at(time.Second), ClaimedAt: at(time.Minute),
		}
		if diff := cmp.Diff(want, got, taskCmpOpts...); diff != "" {
			t.Errorf("TaskClaim() mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("FIFOPerWorkerGroup", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		pa := b.create(t, createParams(acctA, "df-CLAIMQ0001", "orders"))
		pa2 := b.create(t, createParams(acctA, "df-CLAIMQ0002", "billing"))
		pb := b.create(t, createParams(acctB, "df-CLAIMQ0003", "orders"))
		// CreatedAt deliberately runs backwards: queue order is enqueue order.
		b.enqueue(t, task(acctA, pa.ID, "a-1", "wg", at(5*time.Second)))
		b.enqueue(t, task(acctA, pa2.ID, "a-2", "wg", at(4*time.Second)))
		b.enqueue(t, task(acctA, pa.ID, "a-other-1", "other", at(3*time.Second)))
		b.enqueue(t, task(acctB, pb.ID, "b-1", "wg", at(2*time.Second)))
		b.enqueue(t, task(acctA, pa.ID, "a-3", "wg", at(time.Second)))

		tests := []struct {
			account, wg string
			want        []string
		}{
			{acctA, "wg", []string{"a-1", "a-2", "a-3"}},
			{acctA, "other", []string{"a-other-1"}},
			{acctB, "wg", []string{"b-1"}},
			{acctB, "other", nil},
			{acctA, "missing", nil},
		}
		for _, tc := range tests {
			var got []string
			for {
				id := b.claimID(t, tc.account, tc.wg, "h", at(time.Minute), at(time.Hour))
				if id == "" {
					break
				}
				got = append(got, id)
				if len(got) > 10 {
					t.Fatalf("TaskClaim(%s, %s) keeps returning tasks: %v", tc.account, tc.wg, got)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("TaskClaim(%s, %s) order mismatch (-want +got):\n%s", tc.account, tc.wg, diff)
			}
		}
	})

	t.Run("EmptyQueue", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		_, err := b.s.TaskClaim(b.ctx, &store.TaskClaimParams{Account: acctA, WorkerGroup: "wg", Owner: "h", LeaseUntil: at(time.Hour), Now: t0})
		wantErr(t, "TaskClaim(empty)", err, store.ErrNotFound)
	})

	t.Run("Lease", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-CLAIML0001", "orders"))
		b.enqueue(t, task(acctA, p.ID, "task-1", "wg", t0))
		lease := at(time.Minute)
		first := b.claim(t, acctA, "wg", "host-1", t0, lease)
		if first.ID != "task-1" {
			t.Fatalf("TaskClaim() = %s, want task-1", first.ID)
		}
		// Claimed and leased: nobody else gets it, not even at the instant
		// the lease ends, since only a lease that ended before Now expired.
		for _, now := range []time.Time{t0, at(30 * time.Second), lease} {
			if id := b.claimID(t, acctA, "wg", "host-2", now, now.Add(time.Minute)); id != "" {
				t.Errorf("TaskClaim(now %v) = %s, want nothing claimable", now.Sub(t0), id)
			}
		}
		// An expired lease is not claimed again: TaskReap ends the task.
		// The runner that held it may still report until then.
		now := lease.Add(time.Second)
		if id := b.claimID(t, acctA, "wg", "host-2", now, now.Add(time.Minute)); id != "" {
			t.Errorf("TaskClaim() after lease expiry = %s, want nothing claimable", id)
		}
		if _, err := b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "task-1", LeaseUntil: now.Add(2 * time.Minute), Now: now}); err != nil {
			t.Errorf("TaskProgress() by the first owner after expiry, before a reap, error: %v", err)
		}
		if _, err := b.s.TaskComplete(b.ctx, &store.TaskCompleteParams{Account: acctA, ID: "task-1", Status: store.TaskFinished, Now: now}); err != nil {
			t.Errorf("TaskComplete() error: %v", err)
		}
	})

	t.Run("ExpiredNotReclaimed", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-CLAIME0001", "orders"))
		b.enqueue(t, task(acctA, p.ID, "task-1", "wg", t0))
		b.enqueue(t, task(acctA, p.ID, "task-2", "wg", t0))
		b.claim(t, acctA, "wg", "host-1", t0, at(time.Minute))
		// task-1 is older, but its expired lease does not make it claimable.
		if id := b.claimID(t, acctA, "wg", "host-2", at(2*time.Minute), at(time.Hour)); id != "task-2" {
			t.Errorf("TaskClaim() = %q, want task-2", id)
		}
		if id := b.claimID(t, acctA, "wg", "host-2", at(2*time.Minute), at(time.Hour)); id != "" {
			t.Errorf("TaskClaim() = %q, want nothing claimable", id)
		}
		if n, err := b.s.TaskReap(b.ctx, at(2*time.Minute)); err != nil || n != 1 {
			t.Errorf("TaskReap() = (%d, %v), want (1, nil)", n, err)
		}
		if id := b.claimID(t, acctA, "wg", "host-2", at(2*time.Minute), at(time.Hour)); id != "" {
			t.Errorf("TaskClaim() after TaskReap = %q, want nothing claimable", id)
		}
	})

	t.Run("NotBefore", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-CLAIMNB001", "orders"))
		later := task(acctA, p.ID, "task-later", "wg", t0)
		later.NotBefore = at(time.Hour)
		b.enqueue(t, later)
		b.enqueue(t, task(acctA, p.ID, "task-now", "wg", t0))
		soon := task(acctA, p.ID, "task-soon", "wg", t0)
		soon.NotBefore = at(time.Minute)
		b.enqueue(t, soon)
		tests := []struct {
			now  time.Time
			want string
		}{
			// A task waiting for its NotBefore does not hold up those behind it.
			{t0, "task-now"},
			{at(time.Minute - time.Microsecond), ""},
			// NotBefore itself is not after now: claimable at that instant.
			{at(time.Minute), "task-soon"},
			{at(time.Hour - time.Microsecond), ""},
			{at(2 * time.Hour), "task-later"},
			{at(3 * time.Hour), ""},
		}
		for _, tc := range tests {
			if id := b.claimID(t, acctA, "wg", "h", tc.now, tc.now.Add(time.Hour)); id != tc.want {
				t.Errorf("TaskClaim(now %v) = %q, want %q", tc.now.Sub(t0), id, tc.want)
			}
		}
	})
}

func testTaskProgress(t *testing.T, opts Options) {
	t.Run("ExtendsLease", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-PROGEXT001", "orders"))
		b.enqueue(t, task(acctA, p.ID, "task-1", "wg", t0))
		claimed := b.claim(t, acctA, "wg", "host-1", t0, at(time.Minute))
		got, err := b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "task-1", LeaseUntil: at(10 * time.Minute), Now: at(30 * time.Second)})
		if err != nil {
			t.Fatalf("TaskProgress() error: %v", err)
		}
		want := *claimed
		want.LeaseExpires, want.ProgressedAt = at(10*time.Minute), at(30*time.Second)
		if diff := cmp.Diff(&want, got, taskCmpOpts...); diff != "" {
			t.Errorf("TaskProgress() mismatch (-want +got):\n%s", diff)
		}
		if got.Canceled {
			t.Errorf("TaskProgress() Canceled = true, want false")
		}
		if id := b.claimID(t, acctA, "wg", "host-2", at(5*time.Minute), at(time.Hour)); id != "" {
			t.Errorf("TaskClaim() inside the extended lease = %s, want nothing claimable", id)
		}
		// The extended lease is the one TaskReap goes by.
		if n, err := b.s.TaskReap(b.ctx, at(10*time.Minute)); err != nil || n != 0 {
			t.Errorf("TaskReap(inside the extended lease) = (%d, %v), want (0, nil)", n, err)
		}
		if n, err := b.s.TaskReap(b.ctx, at(11*time.Minute)); err != nil || n != 1 {
			t.Errorf("TaskReap(after the extended lease) = (%d, %v), want (1, nil)", n, err)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-PROGERR001", "orders"))
		b.enqueue(t, task(acctA, p.ID, "task-live", "wg", t0))
		b.enqueue(t, task(acctA, p.ID, "task-done", "wg", t0))
		b.claim(t, acctA, "wg", "h", t0, at(time.Hour))
		b.claim(t, acctA, "wg", "h", t0, at(time.Hour))
		b.enqueue(t, task(acctA, p.ID, "task-queued", "wg", t0))
		if _, err := b.s.TaskComplete(b.ctx, &store.TaskCompleteParams{Account: acctA, ID: "task-done", Status: store.TaskFinished, Now: t0}); err != nil {
			t.Fatalf("TaskComplete() error: %v", err)
		}
		tests := []struct {
			name    string
			account string
			id      string
			want    error
		}{
			{name: "Claimed", account: acctA, id: "task-live"},
			// No runner holds a queued task, so none can report on it.
			{name: "Queued", account: acctA, id: "task-queued", want: store.ErrNotFound},
			{name: "Unknown", account: acctA, id: "task-unknown", want: store.ErrNotFound},
			{name: "OtherAccount", account: acctB, id: "task-live", want: store.ErrNotFound},
			{name: "Done", account: acctA, id: "task-done", want: store.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: tc.account, ID: tc.id, LeaseUntil: at(2 * time.Hour), Now: at(time.Minute)})
				wantErr(t, "TaskProgress()", err, tc.want)
			})
		}
	})
}

func testTaskComplete(t *testing.T, opts Options) {
	tests := []struct {
		name   string
		params store.TaskCompleteParams
	}{
		{name: "Finished", params: store.TaskCompleteParams{Status: store.TaskFinished}},
		{name: "Failed", params: store.TaskCompleteParams{Status: store.TaskFailed, ErrorID: "Error.Exit",
			ErrorMessage: "exit status 3", ErrorStack: "line 1\nline 2\n\ttabbed"}},
		{name: "False", params: store.TaskCompleteParams{Status: store.TaskFalse}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, b := setup(t, opts)
			p := b.create(t, createParams(acctA, "df-COMPLETE01", "orders"))
			b.enqueue(t, task(acctA, p.ID, "task-1", "wg", t0))
			claimed := b.claim(t, acctA, "wg", "host-1", t0, at(time.Minute))

			params := tc.params
			params.Account, params.ID, params.Now = acctA, "task-1", at(30*time.Second)
			other := params
			other.Account = acctB
			_, err := b.s.TaskComplete(b.ctx, &other)
			wantErr(t, "TaskComplete(other account)", err, store.ErrNotFound)
			unknown := params
			unknown.ID = "task-unknown"
			_, err = b.s.TaskComplete(b.ctx, &unknown)
			wantErr(t, "TaskComplete(unknown)", err, store.ErrNotFound)

			got, err := b.s.TaskComplete(b.ctx, &params)
			if err != nil {
				t.Fatalf("TaskComplete() error: %v", err)
			}
			want := *claimed
			want.Status, want.ErrorID, want.ErrorMessage, want.ErrorStack = tc.params.Status, tc.params.ErrorID, tc.params.ErrorMessage, tc.params.ErrorStack
			// A done task's objects may be dropped (store.Task.Objects).
			if diff := cmp.Diff(&want, got, runTaskCmpOpts...); diff != "" {
				t.Errorf("TaskComplete() mismatch (-want +got):\n%s", diff)
			}

			_, err = b.s.TaskComplete(b.ctx, &params)
			wantErr(t, "repeated TaskComplete()", err, store.ErrNotFound)
			_, err = b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "task-1", LeaseUntil: at(time.Hour), Now: at(time.Minute)})
			wantErr(t, "TaskProgress(done)", err, store.ErrNotFound)
			// A done task is never claimable again, whatever its lease.
			if id := b.claimID(t, acctA, "wg", "host-2", at(time.Hour), at(2*time.Hour)); id != "" {
				t.Errorf("TaskClaim() after completion = %s, want nothing claimable", id)
			}
		})
	}
}

func testRunnerHeartbeat(t *testing.T, opts Options) {
	t.Parallel()
	_, b := setup(t, opts)
	for i, p := range []store.RunnerHeartbeatParams{
		{Account: acctA, RunnerID: "runner-1", WorkerGroup: "wg", Hostname: "host-1", Now: t0},
		{Account: acctA, RunnerID: "runner-1", WorkerGroup: "wg", Hostname: "host-1", Now: at(time.Minute)},
		{Account: acctA, RunnerID: "runner-1", WorkerGroup: "wg2", Hostname: "host-2", Now: at(2 * time.Minute)},
		{Account: acctB, RunnerID: "runner-1", WorkerGroup: "wg", Hostname: "host-3", Now: at(2 * time.Minute)},
	} {
		if err := b.s.RunnerHeartbeat(b.ctx, &p); err != nil {
			t.Errorf("RunnerHeartbeat() %d error: %v", i, err)
		}
	}
}

// testTaskProgressTimeout checks that a task carrying its attempt's
// reportProgressTimeout is leased for that long after each report, and
// that the timeout survives a reopen.
func testTaskProgressTimeout(t *testing.T, opts Options) {
	t.Parallel()
	s, b := setup(t, opts)
	p := b.create(t, createParams(acctA, "df-PROGTIME01", "orders"))
	own := task(acctA, p.ID, "t-own", "wg", t0)
	own.ProgressTimeout = 40 * time.Minute
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Tasks: []*store.Task{own, task(acctA, p.ID, "t-default", "wg", t0)}, Now: t0})
	if opts.Reopen != nil {
		s = opts.Reopen(t, s)
		b.s = s
	}
	for _, tc := range []struct {
		id   string
		want time.Time
	}{{"t-own", at(time.Minute + 40*time.Minute)}, {"t-default", at(16 * time.Minute)}} {
		b.claim(t, acctA, "wg", "h", t0, at(2*time.Minute))
		got, err := s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: tc.id, LeaseUntil: at(16 * time.Minute), Now: at(time.Minute)})
		if err != nil {
			t.Fatalf("TaskProgress(%s): %v", tc.id, err)
		}
		if !got.LeaseExpires.Equal(tc.want) {
			t.Errorf("TaskProgress(%s) lease until %v, want %v", tc.id, got.LeaseExpires, tc.want)
		}
	}
}
