package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/store"
)

// setupShared opens a fresh store and a second handle on it, as two culvert
// nodes sharing one database.
func setupShared(t *testing.T, opts Options) (a, b *testBundle) {
	t.Helper()
	sa := opts.Open(t)
	sb := opts.OpenShared(t, sa)
	return &testBundle{s: sa, ctx: t.Context()}, &testBundle{s: sb, ctx: t.Context()}
}

// testShared checks what nodes sharing a store rely on: a write on one
// wakes the waiters of every node, claims from both hand out each task
// once, and a follower of the task feed on one node sees every change the
// other makes.
func testShared(t *testing.T, opts Options) {
	t.Run("Wakeups", func(t *testing.T) {
		t.Parallel()
		a, b := setupShared(t, opts)
		p := b.create(t, createParams(acctA, "df-SHWAKE0001", "orders"))
		// wake subscribes on node A, runs do on node B, and expects the
		// subscriber woken.
		wake := func(name, topic string, do func()) {
			t.Helper()
			ch, cancel := a.s.Notifier().Subscribe(topic)
			defer cancel()
			do()
			if !received(ch, wakeTimeout) {
				t.Errorf("%s on node B: no wake-up on %q on node A within %v", name, topic, wakeTimeout)
			}
		}
		wake("TaskEnqueue", store.TaskTopic(acctA, "wg"), func() { b.enqueue(t, task(acctA, p.ID, "t-1", "wg", t0)) })
		// Woken, node A finds the task.
		if id := a.claimID(t, acctA, "wg", "host-a", t0, at(time.Hour)); id != "t-1" {
			t.Errorf("TaskClaim() on node A after the wake-up = %q, want t-1", id)
		}
		wake("TaskComplete", store.SchedulerTopic, func() {
			if _, err := b.s.TaskComplete(b.ctx, &store.TaskCompleteParams{Account: acctA, ID: "t-1", Status: store.TaskFinished, Now: t0}); err != nil {
				t.Fatalf("TaskComplete() on node B error: %v", err)
			}
		})
		alarms, cancel := a.s.Notifier().Subscribe(store.AlarmTopic)
		defer cancel()
		wake("RunApply", store.TaskTopic(acctA, "wg2"), func() {
			b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Tasks: []*store.Task{task(acctA, p.ID, "t-2", "wg2", t0)},
				Alarms: []*store.Alarm{alarm("webhook", "@A_1")}, Now: t0})
		})
		if !received(alarms, wakeTimeout) {
			t.Errorf("RunApply with alarms on node B: no wake-up on the alarm topic on node A within %v", wakeTimeout)
		}
		wake("TaskClaim", store.SchedulerTopic, func() { b.claim(t, acctA, "wg2", "host-b", t0, at(time.Hour)) })
		// Topics hold NUL bytes and any text; Publish carries them whole.
		odd := store.TaskTopic(acctB, "wg \"ünï\" \\ 100%")
		wake("Publish", odd, func() { b.s.Notifier().Publish(odd) })
		wake("Publish", "plain topic", func() { b.s.Notifier().Publish("plain topic") })
	})

	t.Run("ConcurrentClaims", func(t *testing.T) {
		t.Parallel()
		a, b := setupShared(t, opts)
		p := a.create(t, createParams(acctA, "df-SHCLAIM001", "orders"))
		const tasks, perNode = 200, 16
		var batch []*store.Task
		for i := range tasks {
			batch = append(batch, task(acctA, p.ID, fmt.Sprintf("t-%03d", i), "wg", t0))
		}
		a.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Tasks: batch, Now: t0})
		var (
			mu      sync.Mutex
			claimed = map[string][]string{} // task → who claimed it
			wg      sync.WaitGroup
		)
		for node, nb := range []*testBundle{a, b} {
			for g := range perNode {
				owner := fmt.Sprintf("node%d-g%02d", node, g)
				wg.Go(func() {
					for {
						tk, err := nb.s.TaskClaim(nb.ctx, &store.TaskClaimParams{Account: acctA, WorkerGroup: "wg", Owner: owner,
							LeaseUntil: at(time.Hour), Now: t0})
						if errors.Is(err, store.ErrNotFound) {
							return
						}
						if err != nil {
							t.Errorf("TaskClaim() by %s error: %v", owner, err)
							return
						}
						if tk.Status != store.TaskClaimed || tk.LeaseOwner != owner {
							t.Errorf("TaskClaim() by %s = %s %s owned by %s", owner, tk.ID, tk.Status, tk.LeaseOwner)
						}
						mu.Lock()
						claimed[tk.ID] = append(claimed[tk.ID], owner)
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		if len(claimed) != tasks {
			t.Errorf("%d distinct tasks claimed, want %d", len(claimed), tasks)
		}
		for id, owners := range claimed {
			if len(owners) != 1 {
				t.Errorf("task %s claimed %d times, by %v", id, len(owners), owners)
			}
		}
		if id := a.claimID(t, acctA, "wg", "late", t0, at(time.Hour)); id != "" {
			t.Errorf("TaskClaim() after every claimer found the queue empty = %q, want nothing claimable", id)
		}
	})

	t.Run("FeedFollower", func(t *testing.T) {
		t.Parallel()
		a, b := setupShared(t, opts)
		p := a.create(t, createParams(acctA, "df-SHFEED0001", "orders"))
		const writers, rounds = 3, 20
		// Writers on both nodes enqueue, claim and complete at once, in
		// single writes and in run steps of several tasks, while node A
		// follows the feed.
		var wg sync.WaitGroup
		for node, nb := range []*testBundle{a, b} {
			for w := range writers {
				wg.Go(func() {
					prefix := fmt.Sprintf("n%d-w%d", node, w)
					for i := range rounds {
						var err error
						if i%4 == 3 {
							err = nb.s.RunApply(nb.ctx, &store.RunChanges{Account: acctA, PipelineID: p.ID, Now: t0, Tasks: []*store.Task{
								task(acctA, p.ID, fmt.Sprintf("%s-%02da", prefix, i), "wg", t0),
								task(acctA, p.ID, fmt.Sprintf("%s-%02db", prefix, i), "wg", t0)}})
						} else {
							err = nb.s.TaskEnqueue(nb.ctx, task(acctA, p.ID, fmt.Sprintf("%s-%02d", prefix, i), "wg", t0))
						}
						if err != nil {
							t.Errorf("%s: enqueue error: %v", prefix, err)
							return
						}
						tk, err := nb.s.TaskClaim(nb.ctx, &store.TaskClaimParams{Account: acctA, WorkerGroup: "wg", Owner: prefix,
							LeaseUntil: at(time.Hour), Now: t0})
						if errors.Is(err, store.ErrNotFound) {
							continue
						}
						if err != nil {
							t.Errorf("%s: TaskClaim() error: %v", prefix, err)
							return
						}
						if i%3 == 0 {
							continue // left claimed
						}
						if _, err := nb.s.TaskComplete(nb.ctx, &store.TaskCompleteParams{Account: acctA, ID: tk.ID,
							Status: store.TaskFinished, Now: t0}); err != nil {
							t.Errorf("%s: TaskComplete(%s) error: %v", prefix, tk.ID, err)
							return
						}
					}
				})
			}
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()

		seen := map[string]*store.Task{} // the last change of each task the follower saw
		var cursor int64
		// follow reads a page of the feed and reports how many changes it
		// had; -1 when the feed broke its rules, which it reports.
		follow := func() int {
			tasks, last, err := a.s.TaskChanges(a.ctx, cursor, 25)
			if err != nil {
				t.Errorf("TaskChanges(%d) error: %v", cursor, err)
				return -1
			}
			ids := map[string]bool{}
			prev := cursor
			for _, tk := range tasks {
				if tk.ChangeSeq <= prev {
					t.Errorf("TaskChanges(%d): ChangeSeq %d of %s not above %d", cursor, tk.ChangeSeq, tk.ID, prev)
					return -1
				}
				if ids[tk.ID] {
					t.Errorf("TaskChanges(%d) returned %s twice", cursor, tk.ID)
					return -1
				}
				ids[tk.ID], prev = true, tk.ChangeSeq
				seen[tk.ID] = tk
			}
			if last != prev {
				t.Errorf("TaskChanges(%d) last = %d, want %d", cursor, last, prev)
				return -1
			}
			cursor = last
			return len(tasks)
		}
		broken := false
	following:
		for !broken {
			select {
			case <-done:
				break following
			default:
				switch follow() {
				case -1:
					broken = true
				case 0:
					time.Sleep(time.Millisecond)
				}
			}
		}
		<-done
		if broken {
			t.FailNow()
		}
		// Every write has returned: the rest of the feed is there now.
		for {
			n := follow()
			if n < 0 {
				t.FailNow()
			}
			if n == 0 {
				break
			}
		}
		final := a.load(t, acctA, p.ID).Tasks
		if want := 2 * writers * (rounds + rounds/4); len(final) != want {
			t.Errorf("RunLoad() has %d tasks, want %d", len(final), want)
		}
		for _, tk := range final {
			got := seen[tk.ID]
			switch {
			case got == nil:
				t.Errorf("the follower never saw task %s (%s)", tk.ID, tk.Status)
			case got.ChangeSeq != tk.ChangeSeq || got.Status != tk.Status:
				t.Errorf("the follower last saw task %s as %s (change %d), but it is %s (change %d)",
					tk.ID, got.Status, got.ChangeSeq, tk.Status, tk.ChangeSeq)
			}
		}
		// Both nodes agree on where the feed is.
		for i, nb := range []*testBundle{a, b} {
			head, err := nb.s.TaskChangeHead(nb.ctx)
			if err != nil || head < cursor {
				t.Errorf("node %d: TaskChangeHead() = %d, %v; want at least %d, the last change the follower saw", i, head, err, cursor)
			}
			if more, _ := nb.changes(t, head, 10); len(more) != 0 {
				t.Errorf("node %d: TaskChanges(head %d) = %v, want nothing new", i, head, more)
			}
		}
		// The statuses are the writes' own: a sanity check of the test.
		if !slices.ContainsFunc(final, func(tk *store.Task) bool { return tk.Status == store.TaskFinished }) {
			t.Errorf("no task finished: the writers did not run")
		}
	})
}
