package storetest

import (
	"runtime"
	"testing"
	"time"

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
