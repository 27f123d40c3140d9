package storetest

import (
	"runtime"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// wakeTimeout bounds every wait for a notification that must arrive.
const wakeTimeout = 5 * time.Second

func received(ch <-chan struct{}, within time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(within):
		return false
	}
}

func testNotifier(t *testing.T, opts Options) {
	t.Run("TaskEnqueuePublishes", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-NOTIFY0001", "orders"))
		ch, cancel := s.Notifier().Subscribe(store.TaskTopic(acctA, "wg"))
		defer cancel()
		b.enqueue(t, task(acctA, p.ID, "task-1", "wg", t0))
		if !received(ch, wakeTimeout) {
			t.Fatalf("no wake-up on %q within %v of TaskEnqueue", store.TaskTopic(acctA, "wg"), wakeTimeout)
		}
		// The task is claimable by the time the waiter looks.
		if id := b.claimID(t, acctA, "wg", "h", t0, at(time.Hour)); id != "task-1" {
			t.Errorf("TaskClaim() after wake-up = %q, want task-1", id)
		}
	})

	t.Run("PublishWakesEverySubscriber", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t, opts)
		n := s.Notifier()
		var chans []<-chan struct{}
		for range 3 {
			ch, cancel := n.Subscribe("topic-all")
			defer cancel()
			chans = append(chans, ch)
		}
		n.Publish("topic-all")
		for i, ch := range chans {
			if !received(ch, wakeTimeout) {
				t.Errorf("subscriber %d not woken", i)
			}
		}
	})

	t.Run("PublishWithoutSubscribers", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t, opts)
		n := s.Notifier()
		n.Publish("nobody-listens")
		n.Publish(store.TaskTopic(acctA, "wg"))
	})

	t.Run("Coalescing", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t, opts)
		n := s.Notifier()
		ch, cancel := n.Subscribe("topic-coalesce")
		defer cancel()
		// A subscriber that does not read must never block publishers.
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 100 {
				n.Publish("topic-coalesce")
			}
		}()
		if !received(done, wakeTimeout) {
			t.Fatalf("Publish blocked on a subscriber that is not reading")
		}
		if !received(ch, wakeTimeout) {
			t.Fatalf("no wake-up after 100 publishes")
		}
		// Further wake-ups are allowed (notifications may be coalesced or
		// not), but a waiter that looks again is woken by the next Publish.
		for received(ch, 50*time.Millisecond) {
		}
		n.Publish("topic-coalesce")
		if !received(ch, wakeTimeout) {
			t.Errorf("no wake-up for a Publish after the waiter drained its channel")
		}
	})

	t.Run("CancelIsLeakFree", func(t *testing.T) {
		// Not parallel: it counts goroutines.
		s, _ := setup(t, opts)
		n := s.Notifier()
		cycle := func(i int) {
			ch, cancel := n.Subscribe(store.TaskTopic(acctA, "wg"))
			if i%2 == 0 {
				n.Publish(store.TaskTopic(acctA, "wg"))
				received(ch, wakeTimeout)
			}
			cancel()
		}
		cycle(0) // let a backend start whatever it starts once
		before := settledGoroutines(-1)
		for i := range 500 {
			cycle(i)
		}
		// Publishing after every subscriber left is still fine.
		n.Publish(store.TaskTopic(acctA, "wg"))
		if after := settledGoroutines(before); after > before+2 {
			t.Errorf("goroutines after 500 Subscribe/cancel cycles = %d, want at most %d", after, before+2)
		}
	})
}

// settledGoroutines waits briefly for the goroutine count to drop to at most
// limit (no waiting when limit < 0) and returns it.
func settledGoroutines(limit int) int {
	n := runtime.NumGoroutine()
	for i := 0; limit >= 0 && n > limit+2 && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// testRunNotifications checks who is woken by the writes the scheduler
// and its pollers react to.
func testRunNotifications(t *testing.T, opts Options) {
	t.Run("SchedulerTopic", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-NOTSCHED01", "orders"))
		gone := b.create(t, createParams(acctA, "df-NOTSCHED02", "gone"))
		b.enqueue(t, task(acctA, p.ID, "t-1", "wg", t0))
		b.enqueue(t, task(acctA, p.ID, "t-2", "wg", t0))
		steps := []struct {
			name string
			do   func(t *testing.T)
		}{
			{"PipelineUpdate", func(t *testing.T) {
				b.update(t, acctA, p.ID, func(p *store.Pipeline) error { p.State = pipeline.StateScheduled; return nil })
			}},
			{"PipelineDelete", func(t *testing.T) {
				if err := s.PipelineDelete(b.ctx, acctA, gone.ID, t0); err != nil {
					t.Fatal(err)
				}
			}},
			{"TaskClaim", func(t *testing.T) { b.claim(t, acctA, "wg", "h", t0, at(time.Minute)) }},
			{"TaskComplete", func(t *testing.T) {
				if _, err := s.TaskComplete(b.ctx, &store.TaskCompleteParams{Account: acctA, ID: "t-1", Status: store.TaskFinished, Now: t0}); err != nil {
					t.Fatal(err)
				}
			}},
			{"TaskClaimShortLease", func(t *testing.T) { b.claim(t, acctA, "wg", "h", t0, at(time.Minute)) }},
			{"TaskReap", func(t *testing.T) {
				if n, err := s.TaskReap(b.ctx, at(time.Hour)); err != nil || n != 1 {
					t.Fatalf("TaskReap() = (%d, %v), want (1, nil)", n, err)
				}
			}},
			{"RunCommandAdd", func(t *testing.T) {
				if err := s.RunCommandAdd(b.ctx, &store.RunCommand{Account: acctA, PipelineID: p.ID, Status: "RERUN", CreatedAt: t0}); err != nil {
					t.Fatal(err)
				}
			}},
		}
		for _, st := range steps {
			ch, cancel := s.Notifier().Subscribe(store.SchedulerTopic)
			st.do(t)
			if !received(ch, wakeTimeout) {
				t.Errorf("no wake-up on SchedulerTopic within %v of %s", wakeTimeout, st.name)
			}
			cancel()
		}
	})

	t.Run("TaskProgressShorteningLease", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-NOTPROG001", "orders"))
		b.enqueue(t, task(acctA, p.ID, "t-long", "wg", t0))
		b.claim(t, acctA, "wg", "h", t0, at(time.Hour))
		ch, cancel := s.Notifier().Subscribe(store.SchedulerTopic)
		defer cancel()
		// A progress lease shorter than the claim's: the next reap is
		// sooner than the scheduler planned.
		if _, err := s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "t-long", LeaseUntil: at(2 * time.Minute), Now: at(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if !received(ch, wakeTimeout) {
			t.Errorf("no wake-up on SchedulerTopic within %v of a progress report that shortened the lease", wakeTimeout)
		}
		if _, err := s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "t-long", LeaseUntil: at(time.Hour), Now: at(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if received(ch, 100*time.Millisecond) {
			t.Logf("wake-up on SchedulerTopic for a progress report that extended the lease (allowed, but wasted)")
		}
	})

	t.Run("RunApplyWakesWorkerGroups", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-NOTRUN0001", "orders"))
		now, later, none := store.TaskTopic(acctA, "wg-now"), store.TaskTopic(acctA, "wg-later"), store.TaskTopic(acctA, "wg-none")
		chNow, cancel1 := s.Notifier().Subscribe(now)
		defer cancel1()
		chLater, cancel2 := s.Notifier().Subscribe(later)
		defer cancel2()
		chNone, cancel3 := s.Notifier().Subscribe(none)
		defer cancel3()
		due := task(acctA, p.ID, "t-due", "wg-now", t0)
		due.NotBefore = at(time.Minute) // due at Now: claimable now
		future := task(acctA, p.ID, "t-future", "wg-later", t0)
		future.NotBefore = at(time.Minute + time.Microsecond)
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Tasks: []*store.Task{due, future},
			Instances: []*pipeline.Instance{bareInstance("@A_1", "A", t0)}, Now: at(time.Minute)})
		if !received(chNow, wakeTimeout) {
			t.Errorf("no wake-up on %q for a task claimable at Now", now)
		}
		// Whoever polls wg-later finds nothing claimable yet: no wake-up is
		// due, though a spurious one would be allowed by the Notifier.
		if received(chLater, 100*time.Millisecond) {
			t.Logf("wake-up on %q for a task not yet claimable (allowed, but wasted)", later)
		}
		if received(chNone, 100*time.Millisecond) {
			t.Logf("wake-up on %q, which got no task (allowed, but wasted)", none)
		}
	})
}
