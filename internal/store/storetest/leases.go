package storetest

import (
	"testing"
	"time"

	"github.com/culvert/culvert/internal/store"
)

// testTaskLeaseNext checks that TaskLeaseNext follows the leases out: none
// while nothing is claimed, the earliest end among claimed tasks, a
// progress report's extension, and none again once they are done or lost.
func testTaskLeaseNext(t *testing.T, opts Options) {
	t.Parallel()
	s, b := setup(t, opts)
	p := b.create(t, createParams(acctA, "df-LEASENEXT01", "orders"))
	next := func() time.Time {
		t.Helper()
		at, err := s.TaskLeaseNext(b.ctx)
		if err != nil {
			t.Fatalf("TaskLeaseNext() error: %v", err)
		}
		return at
	}
	b.enqueue(t, task(acctA, p.ID, "t-1", "wg", t0))
	b.enqueue(t, task(acctA, p.ID, "t-2", "wg", t0))
	if got := next(); !got.IsZero() {
		t.Errorf("TaskLeaseNext() with only queued tasks = %v, want zero", got)
	}
	first := b.claimID(t, acctA, "wg", "h1", t0, at(2*time.Minute))
	b.claimID(t, acctA, "wg", "h2", t0, at(time.Minute))
	if got := next(); !got.Equal(at(time.Minute)) {
		t.Errorf("TaskLeaseNext() = %v, want the earlier lease end %v", got, at(time.Minute))
	}
	if _, err := s.TaskReap(b.ctx, at(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := next(); !got.Equal(at(2 * time.Minute)) {
		t.Errorf("TaskLeaseNext() after the earlier was reaped = %v, want %v", got, at(2*time.Minute))
	}
	if _, err := s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: first, LeaseUntil: at(20 * time.Minute), Now: at(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := next(); !got.Equal(at(20 * time.Minute)) {
		t.Errorf("TaskLeaseNext() after progress = %v, want the extended end %v", got, at(20*time.Minute))
	}
	if _, err := s.TaskComplete(b.ctx, &store.TaskCompleteParams{Account: acctA, ID: first, Status: store.TaskFinished, Now: at(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := next(); !got.IsZero() {
		t.Errorf("TaskLeaseNext() with nothing claimed = %v, want zero", got)
	}
}
