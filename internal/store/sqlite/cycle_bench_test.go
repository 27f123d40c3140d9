package sqlite

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// BenchmarkTaskCycle is the store's part of bench/runs' throughput phase:
// 16 runners claim, report progress on and finish tasks while a scheduler
// stand-in follows the task feed and, for each finished task, records the
// instance and attempt and queues a new task with one RunApply per pass,
// keeping 256 tasks ready. It reports the process's CPU per task, which
// the machine's other load disturbs less than tasks/s.
func BenchmarkTaskCycle(b *testing.B) {
	const (
		account = "123456789012"
		group   = "wg"
		runners = 16
		ready   = 256
		// think stands for the time between two calls of a runner spent
		// outside the store: HTTP both ways and the client's own work.
		think = time.Millisecond
	)
	d := openTemp(b)
	ctx := b.Context()
	now := time.Now()
	pid := "df-cycle"
	if _, _, err := d.PipelineCreate(ctx, &store.PipelineCreateParams{
		Account: account, ID: pid, Name: pid, UniqueID: pid, Creator: "AKIAEXAMPLE", Now: now,
	}); err != nil {
		b.Fatal(err)
	}
	objects := make([]byte, 2900) // a task object's size in bench/runs
	for i := range objects {
		objects[i] = 'x'
	}
	var next atomic.Int64
	newTasks := func(n int, now time.Time) *store.RunChanges {
		c := &store.RunChanges{Account: account, PipelineID: pid, Now: now}
		for range n {
			i := next.Add(1)
			in := &pipeline.Instance{ID: fmt.Sprintf("@Activity%02d_%08d", i%16, i), ComponentID: fmt.Sprintf("Activity%02d", i%16),
				ScheduledStart: now.Add(time.Duration(i) * time.Minute), Status: pipeline.StatusWaitingForRunner}
			a := &pipeline.Attempt{ID: in.ID + "_Attempt=1", InstanceID: in.ID, N: 1, Status: pipeline.StatusWaitingForRunner,
				TaskID: rand.Text()} // random, as the scheduler's are
			c.Instances = append(c.Instances, in)
			c.Attempts = append(c.Attempts, a)
			c.Tasks = append(c.Tasks, &store.Task{ID: a.TaskID, AttemptID: a.ID, InstanceID: in.ID, WorkerGroup: group,
				Objects: objects, CreatedAt: now})
		}
		return c
	}
	if err := d.RunApply(ctx, newTasks(ready, now)); err != nil {
		b.Fatal(err)
	}

	// The scheduler stand-in.
	schedCtx, stop := context.WithCancel(ctx)
	var sched sync.WaitGroup
	sched.Go(func() {
		wake, cancel := d.Notifier().Subscribe(store.SchedulerTopic)
		defer cancel()
		seq, err := d.TaskChangeHead(schedCtx)
		if err != nil {
			return
		}
		for {
			tasks, last, err := d.TaskChanges(schedCtx, seq, 1000)
			if err != nil {
				return
			}
			seq = last
			done := 0
			for _, t := range tasks {
				if t.Status == store.TaskFinished {
					done++
				}
			}
			if done > 0 {
				if err := d.RunApply(schedCtx, newTasks(done, time.Now())); err != nil {
					return
				}
			}
			select {
			case <-wake:
			case <-schedCtx.Done():
				return
			}
		}
	})

	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	commits := d.c.commits.Load()
	start := time.Now()
	b.ResetTimer()
	var n atomic.Int64
	var wg sync.WaitGroup
	for w := range runners {
		wg.Go(func() {
			host := fmt.Sprintf("runner-%02d", w)
			for n.Add(1) <= int64(b.N) {
				time.Sleep(think)
				var t *store.Task
				for {
					now := time.Now()
					var err error
					t, err = d.TaskClaim(ctx, &store.TaskClaimParams{Account: account, WorkerGroup: group, Owner: host,
						Hostname: host, LeaseUntil: now.Add(2 * time.Minute), Now: now})
					if err == nil {
						break
					}
					time.Sleep(think)
				}
				time.Sleep(think)
				now := time.Now()
				if _, err := d.TaskProgress(ctx, &store.TaskProgressParams{Account: account, ID: t.ID,
					LeaseUntil: now.Add(15 * time.Minute), Now: now}); err != nil {
					b.Error(err)
					return
				}
				time.Sleep(think)
				if _, err := d.TaskComplete(ctx, &store.TaskCompleteParams{Account: account, ID: t.ID,
					Status: store.TaskFinished, Now: time.Now()}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	elapsed := time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	stop()
	sched.Wait()
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "tasks/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/task")
	b.ReportMetric(float64(d.c.commits.Load()-commits)/float64(b.N), "commits/task")
}
