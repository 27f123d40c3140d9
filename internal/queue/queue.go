// Package queue hands ready tasks to task runners under time-limited leases.
//
// PollForTask is a long poll: [Queue.Poll] claims a task if one is ready and
// otherwise waits, woken by the store's notifier rather than by polling,
// until a task appears or the hold time ends. The lease arithmetic is kept
// in plain functions of time so it can be tested without clocks.
//
// queue depends on store and never on the wire layer; the scheduler fills
// the queue.
package queue

import (
	"context"
	"errors"
	"time"

	"github.com/culvert/culvert/internal/store"
)

// Default lease lengths (§8.1). A runner must acknowledge a claimed task
// with ReportTaskProgress within the ack timeout; after that each progress
// report extends the lease by the attempt's reportProgressTimeout, or the
// progress timeout when the pipeline sets none.
const (
	AckTimeout      = 2 * time.Minute
	ProgressTimeout = 15 * time.Minute
)

// Config configures a [Queue].
type Config struct {
	// Wait is how long Poll holds an empty poll open. AWS holds 90 s, but
	// botocore's default read timeout is 60 s, so a default under that keeps
	// boto3 task runners from timing out on an idle queue.
	Wait time.Duration
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// AckTimeout and ProgressTimeout are the lease lengths; zero takes
	// the defaults above (culvert serve --limit ackTimeout=…).
	AckTimeout      time.Duration
	ProgressTimeout time.Duration
}

// DefaultWait is the default long-poll hold.
const DefaultWait = 50 * time.Second

func (c Config) withDefaults() Config {
	if c.Wait == 0 {
		c.Wait = DefaultWait
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = AckTimeout
	}
	if c.ProgressTimeout == 0 {
		c.ProgressTimeout = ProgressTimeout
	}
	return c
}

func (c Config) validate() error {
	if c.Wait < 0 || c.AckTimeout < 0 || c.ProgressTimeout < 0 {
		return errors.New("queue: Config durations must not be negative")
	}
	return nil
}

// Queue leases tasks from a store.
type Queue struct {
	cfg   Config
	store store.Store
}

// New returns a Queue over st.
func New(cfg Config, st store.Store) (*Queue, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Queue{cfg: cfg, store: st}, nil
}

// Poll claims the next task of the account's worker group for owner, who
// runs on hostname, waiting up to the configured hold time for one to appear. It returns
// (nil, nil) when the hold time ends empty-handed, never a timeout error, so
// an idle runner simply polls again. It returns ctx.Err() if ctx ends first.
func (q *Queue) Poll(ctx context.Context, account, workerGroup, owner, hostname string) (*store.Task, error) {
	// Subscribe before the first claim: a task enqueued between a failed
	// claim and the subscription would otherwise sleep until the deadline.
	wake, cancel := q.store.Notifier().Subscribe(store.TaskTopic(account, workerGroup))
	defer cancel()
	timer := time.NewTimer(q.cfg.Wait)
	defer timer.Stop()
	for {
		// A claim made for a caller that already left would sit leased, and
		// unworked, until its acknowledgement deadline.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		now := q.cfg.Now()
		t, err := q.store.TaskClaim(ctx, &store.TaskClaimParams{
			Account: account, WorkerGroup: workerGroup, Owner: owner, Hostname: hostname,
			LeaseUntil: q.AckDeadline(now), Now: now,
		})
		switch {
		case err == nil:
			return t, nil
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		select {
		case <-wake:
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// AckDeadline is when a task claimed at now is lost unless acknowledged.
func (q *Queue) AckDeadline(now time.Time) time.Time { return now.Add(q.cfg.AckTimeout) }

// ProgressDeadline is when a task without a reportProgressTimeout of its
// own that reported progress at now is lost unless it reports again.
func (q *Queue) ProgressDeadline(now time.Time) time.Time { return now.Add(q.cfg.ProgressTimeout) }
