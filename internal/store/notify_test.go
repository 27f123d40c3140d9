package store

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

func woken(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestLocalNotifier(t *testing.T) {
	t.Parallel()

	t.Run("PublishWakesSubscribersOfTopic", func(t *testing.T) {
		t.Parallel()
		n := NewLocalNotifier()
		a1, cancelA1 := n.Subscribe("a")
		defer cancelA1()
		a2, cancelA2 := n.Subscribe("a")
		defer cancelA2()
		b, cancelB := n.Subscribe("b")
		defer cancelB()
		n.Publish("a")
		// LocalNotifier delivers synchronously: no waiting needed.
		if !woken(a1) || !woken(a2) {
			t.Errorf("subscribers of a not woken by Publish(a)")
		}
		if woken(b) {
			t.Errorf("subscriber of b woken by Publish(a)")
		}
	})

	t.Run("Coalesces", func(t *testing.T) {
		t.Parallel()
		n := NewLocalNotifier()
		ch, cancel := n.Subscribe("a")
		defer cancel()
		for range 1000 {
			n.Publish("a") // never blocks on a subscriber that is not reading
		}
		if !woken(ch) {
			t.Fatalf("not woken after 1000 publishes")
		}
		if woken(ch) {
			t.Errorf("woken twice for publishes that happened before the first receive")
		}
		n.Publish("a")
		if !woken(ch) {
			t.Errorf("not woken by a Publish after the receive")
		}
	})

	t.Run("OnlyLaterPublishes", func(t *testing.T) {
		t.Parallel()
		n := NewLocalNotifier()
		n.Publish("a")
		ch, cancel := n.Subscribe("a")
		defer cancel()
		if woken(ch) {
			t.Errorf("woken by a Publish before Subscribe")
		}
	})

	t.Run("PublishWithoutSubscribers", func(t *testing.T) {
		t.Parallel()
		n := NewLocalNotifier()
		n.Publish("nobody")
		if len(n.subs) != 0 {
			t.Errorf("Publish without subscribers left %d topics", len(n.subs))
		}
	})

	t.Run("CancelForgetsSubscription", func(t *testing.T) {
		t.Parallel()
		n := NewLocalNotifier()
		ch1, cancel1 := n.Subscribe("a")
		ch2, cancel2 := n.Subscribe("a")
		cancel1()
		n.Publish("a")
		if woken(ch1) {
			t.Errorf("canceled subscription woken")
		}
		if !woken(ch2) {
			t.Errorf("live subscription not woken")
		}
		cancel2()
		cancel2() // a second cancel is harmless
		if len(n.subs) != 0 {
			t.Errorf("after every cancel, %d topics remain: %v", len(n.subs), n.subs)
		}
		// A repeated cancel must not drop a later subscriber of the topic.
		ch3, cancel3 := n.Subscribe("a")
		defer cancel3()
		cancel1()
		n.Publish("a")
		if !woken(ch3) {
			t.Errorf("subscriber not woken after an earlier subscription was canceled twice")
		}
	})

	t.Run("NoLeak", func(t *testing.T) {
		t.Parallel()
		n := NewLocalNotifier()
		for i := range 1000 {
			_, cancel := n.Subscribe(TaskTopic("acct", string(rune('a'+i%26))))
			cancel()
		}
		if len(n.subs) != 0 {
			t.Errorf("after 1000 Subscribe/cancel cycles, %d topics remain", len(n.subs))
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		n := NewLocalNotifier()
		stop := make(chan struct{})
		var publishers, subscribers sync.WaitGroup
		for range 2 {
			publishers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						n.Publish("a")
						runtime.Gosched() // let subscribers at the lock
					}
				}
			})
		}
		for range 4 {
			subscribers.Go(func() {
				for range 100 {
					ch, cancel := n.Subscribe("a")
					select {
					case <-ch:
					case <-time.After(5 * time.Second):
						t.Errorf("not woken while publishers run")
					}
					cancel()
				}
			})
		}
		subscribers.Wait()
		close(stop)
		publishers.Wait()
		if len(n.subs) != 0 {
			t.Errorf("after concurrent use, %d topics remain", len(n.subs))
		}
	})
}

func TestTaskTopic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a1, g1, a2, g2 string
	}{
		{"ab", "c", "a", "bc"},
		{"acct", "", "", "acct"},
		{"111111111111", "wg", "222222222222", "wg"},
	}
	for _, tc := range tests {
		if TaskTopic(tc.a1, tc.g1) == TaskTopic(tc.a2, tc.g2) {
			t.Errorf("TaskTopic(%q, %q) == TaskTopic(%q, %q)", tc.a1, tc.g1, tc.a2, tc.g2)
		}
	}
	if a, b := TaskTopic("a", "wg"), TaskTopic(string([]byte("a")), "w"+"g"); a != b {
		t.Errorf("TaskTopic is not deterministic: %q != %q", a, b)
	}
}
