package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// leaseTTL is the TTL of leases the tests wait out: short, so that they
// wait little, and waited for by polling, never by a fixed sleep.
const leaseTTL = 200 * time.Millisecond

// leasesOf returns the store's Leases, skipping t if it has none.
func leasesOf(t *testing.T, s store.Store) store.Leases {
	t.Helper()
	ls, ok := s.(store.Leases)
	if !ok {
		t.Skip("storetest: the store does not implement store.Leases")
	}
	return ls
}

// takeOver polls until holder gets the lease, once the current one has
// lapsed, and returns it. Every try before must be a conflict.
func takeOver(t *testing.T, ctx context.Context, ls store.Leases, name, holder string, ttl time.Duration) *store.Lease {
	t.Helper()
	deadline := time.Now().Add(wakeTimeout)
	for {
		l, err := ls.LeaseAcquire(ctx, &store.LeaseParams{Name: name, Holder: holder, TTL: ttl})
		if err == nil {
			return l
		}
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("LeaseAcquire(%s) while waiting for the lease to lapse: %v, want ErrConflict", holder, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("LeaseAcquire(%s) still conflicts %v after the lease was due to lapse", holder, wakeTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLeases checks store.Leases and the fenced writes it makes possible.
func testLeases(t *testing.T, opts Options) {
	t.Run("AcquireRenewRelease", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t, opts)
		ls := leasesOf(t, s)
		_, err := ls.LeaseGet(b.ctx, "leader")
		wantErr(t, "LeaseGet(never taken)", err, store.ErrNotFound)

		first, err := ls.LeaseAcquire(b.ctx, &store.LeaseParams{Name: "leader", Holder: "h1", TTL: time.Minute})
		if err != nil {
			t.Fatalf("LeaseAcquire(h1) error: %v", err)
		}
		if first.Name != "leader" || first.Holder != "h1" || first.Term != 1 {
			t.Errorf("LeaseAcquire(h1) = %s held by %s in term %d, want leader held by h1 in term 1", first.Name, first.Holder, first.Term)
		}
		if left := first.Expires.Sub(first.Now); left <= 0 || left > time.Minute {
			t.Errorf("LeaseAcquire(h1) expires %v after the store's now, want within (0, 1m]", left)
		}
		if first.AcquiredAt.After(first.Now) {
			t.Errorf("LeaseAcquire(h1) AcquiredAt %v after Now %v", first.AcquiredAt, first.Now)
		}

		// A renewal keeps the term and when it began.
		renewed, err := ls.LeaseAcquire(b.ctx, &store.LeaseParams{Name: "leader", Holder: "h1", TTL: time.Minute})
		if err != nil {
			t.Fatalf("LeaseAcquire(h1) renewal error: %v", err)
		}
		if renewed.Term != first.Term || !renewed.AcquiredAt.Equal(first.AcquiredAt) || renewed.Expires.Before(first.Expires) {
			t.Errorf("renewal = term %d acquired %v expiring %v; want term %d acquired %v expiring at or after %v",
				renewed.Term, renewed.AcquiredAt, renewed.Expires, first.Term, first.AcquiredAt, first.Expires)
		}

		// Another holder conflicts, and learns who holds it.
		other, err := ls.LeaseAcquire(b.ctx, &store.LeaseParams{Name: "leader", Holder: "h2", TTL: time.Minute})
		wantErr(t, "LeaseAcquire(h2) while h1 holds it", err, store.ErrConflict)
		if other == nil || other.Holder != "h1" || other.Term != first.Term {
			t.Errorf("LeaseAcquire(h2) returned %+v, want h1's lease in term %d", other, first.Term)
		}
		got, err := ls.LeaseGet(b.ctx, "leader")
		if err != nil || got.Holder != "h1" || got.Term != first.Term || !got.Expires.After(got.Now) {
			t.Errorf("LeaseGet() = %+v, %v; want h1's live lease in term %d", got, err, first.Term)
		}
		// Leases are independent of each other.
		if l, err := ls.LeaseAcquire(b.ctx, &store.LeaseParams{Name: "other", Holder: "h2", TTL: time.Minute}); err != nil || l.Term != 1 {
			t.Errorf("LeaseAcquire(other lease, h2) = %+v, %v; want term 1", l, err)
		}

		// Only the holder releases, and only once.
		wantErr(t, "LeaseRelease(h2)", ls.LeaseRelease(b.ctx, "leader", "h2"), store.ErrNotFound)
		wantErr(t, "LeaseRelease(h1)", ls.LeaseRelease(b.ctx, "leader", "h1"), nil)
		wantErr(t, "LeaseRelease(h1) again", ls.LeaseRelease(b.ctx, "leader", "h1"), store.ErrNotFound)
		wantErr(t, "LeaseRelease(never taken)", ls.LeaseRelease(b.ctx, "nothing", "h1"), store.ErrNotFound)
		got, err = ls.LeaseGet(b.ctx, "leader")
		if err != nil || got.Expires.After(got.Now) {
			t.Errorf("LeaseGet() after release = %+v, %v; want a lapsed lease", got, err)
		}

		// Released, it passes at once, in a new term.
		second, err := ls.LeaseAcquire(b.ctx, &store.LeaseParams{Name: "leader", Holder: "h2", TTL: time.Minute})
		if err != nil || second.Holder != "h2" || second.Term != first.Term+1 {
			t.Fatalf("LeaseAcquire(h2) after release = %+v, %v; want h2 in term %d", second, err, first.Term+1)
		}
		back, err := ls.LeaseAcquire(b.ctx, &store.LeaseParams{Name: "leader", Holder: "h1", TTL: time.Minute})
		wantErr(t, "LeaseAcquire(h1) while h2 holds it", err, store.ErrConflict)
		if back == nil || back.Holder != "h2" || back.Term != second.Term {
			t.Errorf("LeaseAcquire(h1) returned %+v, want h2's lease in term %d", back, second.Term)
		}
	})

	t.Run("TakeoverAfterExpiry", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t, opts)
		ls := leasesOf(t, s)
		first, err := ls.LeaseAcquire(b.ctx, &store.LeaseParams{Name: "leader", Holder: "h1", TTL: leaseTTL})
		if err != nil {
			t.Fatalf("LeaseAcquire(h1) error: %v", err)
		}
		second := takeOver(t, b.ctx, ls, "leader", "h2", time.Minute)
		if second.Holder != "h2" || second.Term != first.Term+1 || !second.AcquiredAt.After(first.AcquiredAt) {
			t.Errorf("take-over = %+v, want h2 in term %d, acquired after %v", second, first.Term+1, first.AcquiredAt)
		}
		// The old holder comes back to a lease that is not its own.
		_, err = ls.LeaseAcquire(b.ctx, &store.LeaseParams{Name: "leader", Holder: "h1", TTL: leaseTTL})
		wantErr(t, "LeaseAcquire(h1) after the take-over", err, store.ErrConflict)
		wantErr(t, "LeaseRelease(h1) after the take-over", ls.LeaseRelease(b.ctx, "leader", "h1"), store.ErrNotFound)
		// A holder whose own lease lapsed starts a new term too.
		l, err := ls.LeaseAcquire(b.ctx, &store.LeaseParams{Name: "short", Holder: "h1", TTL: leaseTTL})
		if err != nil {
			t.Fatal(err)
		}
		again := takeOver(t, b.ctx, ls, "short", "h1", leaseTTL)
		for again.Term == l.Term {
			// Still a renewal: the lease had not lapsed yet.
			time.Sleep(leaseTTL / 2)
			if again, err = ls.LeaseAcquire(b.ctx, &store.LeaseParams{Name: "short", Holder: "h1", TTL: 10 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
		}
		if again.Term != l.Term+1 {
			t.Errorf("LeaseAcquire(h1) after its lease lapsed: term %d, want %d", again.Term, l.Term+1)
		}
	})

	t.Run("Fencing", func(t *testing.T) { testFencing(t, opts) })
}

// testFencing checks that every write made under a fence whose term is
// over returns ErrFenced and changes nothing, and that writes under the
// live term are applied.
func testFencing(t *testing.T, opts Options) {
	t.Parallel()
	s, b := setup(t, opts)
	ls := leasesOf(t, s)
	p := b.create(t, createParams(acctA, "df-FENCE00001", "orders"))
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Now: t0,
		Tasks:  []*store.Task{task(acctA, p.ID, "t-claimed", "wg", t0), task(acctA, p.ID, "t-lapsed", "wg", t0), task(acctA, p.ID, "t-queued", "wg", t0)},
		Alarms: []*store.Alarm{alarm("webhook", "@A_1")}})
	b.claim(t, acctA, "wg", "h", t0, at(time.Hour))
	b.claim(t, acctA, "wg", "h", t0, at(time.Minute))

	old, err := ls.LeaseAcquire(b.ctx, &store.LeaseParams{Name: "leader", Holder: "node-1", TTL: leaseTTL})
	if err != nil {
		t.Fatalf("LeaseAcquire(node-1) error: %v", err)
	}
	oldFence := store.Fence{Name: "leader", Holder: "node-1", Term: old.Term}
	// The live term writes.
	if err := s.RunnerHeartbeat(store.Fenced(b.ctx, oldFence), &store.RunnerHeartbeatParams{Account: acctA, RunnerID: "r", WorkerGroup: "wg", Hostname: "h", Now: t0}); err != nil {
		t.Errorf("RunnerHeartbeat() under the live term error: %v", err)
	}
	cur := takeOver(t, b.ctx, ls, "leader", "node-2", time.Minute)
	newFence := store.Fence{Name: "leader", Holder: "node-2", Term: cur.Term}

	// What a reader sees, before and after the stale writes.
	type view struct {
		Pipeline *store.Pipeline
		Run      *store.RunState
		Feed     []change
		Alarms   []*store.Alarm
		Commands []*store.RunCommand
		List     []store.PipelineSummary
	}
	look := func() view {
		t.Helper()
		v := view{Pipeline: b.get(t, acctA, p.ID), Run: b.load(t, acctA, p.ID)}
		v.Feed, _ = b.changes(t, 0, 100)
		v.Alarms, _ = b.due(t, "webhook", at(time.Hour), 10)
		var err error
		if v.Commands, err = s.RunCommands(b.ctx); err != nil {
			t.Fatal(err)
		}
		v.List, _ = b.list(t, acctA, 0, 100)
		return v
	}
	before := look()

	writes := []struct {
		name  string
		write func(ctx context.Context) error
	}{
		{"PipelineCreate", func(ctx context.Context) error {
			_, _, err := s.PipelineCreate(ctx, createParams(acctA, "df-FENCE00002", "billing"))
			return err
		}},
		{"PipelineUpdate", func(ctx context.Context) error {
			_, err := s.PipelineUpdate(ctx, acctA, p.ID, func(p *store.Pipeline) error { p.Description = "fenced"; return nil })
			return err
		}},
		{"TaskEnqueue", func(ctx context.Context) error { return s.TaskEnqueue(ctx, task(acctA, p.ID, "t-new", "wg", t0)) }},
		{"TaskClaim", func(ctx context.Context) error {
			_, err := s.TaskClaim(ctx, &store.TaskClaimParams{Account: acctA, WorkerGroup: "wg", Owner: "h", LeaseUntil: at(time.Hour), Now: t0})
			return err
		}},
		{"TaskProgress", func(ctx context.Context) error {
			_, err := s.TaskProgress(ctx, &store.TaskProgressParams{Account: acctA, ID: "t-claimed", LeaseUntil: at(2 * time.Hour), Now: t0})
			return err
		}},
		{"TaskComplete", func(ctx context.Context) error {
			_, err := s.TaskComplete(ctx, &store.TaskCompleteParams{Account: acctA, ID: "t-claimed", Status: store.TaskFinished, Now: t0})
			return err
		}},
		{"TaskReap", func(ctx context.Context) error { _, err := s.TaskReap(ctx, at(2*time.Minute)); return err }},
		{"RunApply", func(ctx context.Context) error {
			return s.RunApply(ctx, &store.RunChanges{Account: acctA, PipelineID: p.ID, Cancel: []string{"t-queued"},
				Instances: []*pipeline.Instance{bareInstance("@A_1", "A", t0)}, Tasks: []*store.Task{task(acctA, p.ID, "t-step", "wg", t0)},
				Alarms: []*store.Alarm{alarm("webhook", "@A_1")}, Now: t0})
		}},
		{"RunCommandAdd", func(ctx context.Context) error {
			return s.RunCommandAdd(ctx, &store.RunCommand{Account: acctA, PipelineID: p.ID, Status: "RERUN", CreatedAt: t0})
		}},
		{"RunnerHeartbeat", func(ctx context.Context) error {
			return s.RunnerHeartbeat(ctx, &store.RunnerHeartbeatParams{Account: acctA, RunnerID: "r", WorkerGroup: "wg", Hostname: "h", Now: t0})
		}},
		{"AlarmSettle", func(ctx context.Context) error {
			return s.AlarmSettle(ctx, &store.AlarmSettleParams{Seq: before.Alarms[0].Seq, Done: true})
		}},
		{"PipelineDelete", func(ctx context.Context) error { return s.PipelineDelete(ctx, acctA, p.ID, t0) }},
	}
	stale := store.Fenced(b.ctx, oldFence)
	for _, w := range writes {
		wantErr(t, w.name+" under a term that is over", w.write(stale), store.ErrFenced)
	}
	// A fence on a lease nobody took is over too.
	wantErr(t, "TaskEnqueue under a lease never taken", s.TaskEnqueue(store.Fenced(b.ctx, store.Fence{Name: "nothing", Holder: "node-1", Term: 1}),
		task(acctA, p.ID, "t-new", "wg", t0)), store.ErrFenced)
	if diff := cmp.Diff(before, look(), runCmpOpts...); diff != "" {
		t.Errorf("stale writes changed the store (-before +after):\n%s", diff)
	}

	// The live term's writes are applied.
	live := store.Fenced(b.ctx, newFence)
	for _, w := range writes {
		if err := w.write(live); err != nil {
			t.Errorf("%s under the live term error: %v", w.name, err)
		}
	}
	_, err = s.PipelineGet(b.ctx, acctA, p.ID)
	wantErr(t, "PipelineGet() after PipelineDelete under the live term", err, store.ErrDeleted)
	if _, err := s.PipelineGet(b.ctx, acctA, "df-FENCE00002"); err != nil {
		t.Errorf("PipelineGet() of the pipeline created under the live term: %v", err)
	}
	// Once released, the term is over for its own holder as well.
	if err := ls.LeaseRelease(b.ctx, "leader", "node-2"); err != nil {
		t.Fatalf("LeaseRelease(node-2) error: %v", err)
	}
	_, err = s.PipelineUpdate(live, acctA, "df-FENCE00002", func(p *store.Pipeline) error { p.Description = "late"; return nil })
	wantErr(t, "PipelineUpdate under a released term", err, store.ErrFenced)
	if got := b.get(t, acctA, "df-FENCE00002").Description; got == "late" {
		t.Errorf("PipelineUpdate under a released term was applied")
	}
}
