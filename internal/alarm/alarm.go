// Package alarm delivers the SnsAlarms a pipeline fires to where an
// operator wants them: an HTTP webhook, or an SNS-compatible endpoint
// through aws-sdk-go-v2 (sinks.go).
//
// The scheduler queues each fired alarm in the store once per configured
// sink, in the same transaction as the run step that fired it
// ([store.RunChanges.Alarms]); a [Dispatcher] per sink takes them from
// there, delivers them and settles them. An alarm is therefore delivered
// if and only if the step that fired it was stored, at least once: a
// crash between delivery and settling delivers it again, which is why
// every delivery carries the alarm's sequence number. The log and the
// instance's @event fields, which the scheduler writes itself, need no
// sink.
//
// The package is imported by cmd/culvert only; the scheduler knows sinks
// by name.
package alarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/culvert/culvert/internal/store"
)

// Sink delivers alarms to one destination.
type Sink interface {
	// Name is the sink's name in the store's alarm queue.
	Name() string
	// Deliver delivers one alarm. It returns a [*PermanentError] when the
	// destination refused the alarm in a way that retrying cannot change
	// (a topic that does not exist, a message it rejects), and any other
	// error when a later try may succeed.
	Deliver(ctx context.Context, a *store.Alarm) error
}

// PermanentError is a delivery failure that retrying cannot mend.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Config configures a [Dispatcher].
type Config struct {
	Store  store.Store
	Sink   Sink
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // default time.Now
	// MaxTries is how many deliveries are tried before the alarm is given
	// up on (default 10; about 17 minutes with the default backoff).
	MaxTries int
	// Backoff is the wait after the n-th failed try (n from 1); the
	// default doubles from one second up to five minutes.
	Backoff func(n int) time.Duration
	// Timeout bounds one delivery (default 10 seconds).
	Timeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxTries == 0 {
		c.MaxTries = 10
	}
	if c.Backoff == nil {
		c.Backoff = func(n int) time.Duration {
			return min(time.Second<<min(n-1, 20), 5*time.Minute)
		}
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	return c
}

// Dispatcher delivers the alarms queued for one sink.
type Dispatcher struct {
	cfg Config
}

// NewDispatcher returns a Dispatcher. It returns an error naming the
// missing field if cfg lacks Store or Sink.
func NewDispatcher(cfg Config) (*Dispatcher, error) {
	cfg = cfg.withDefaults()
	if cfg.Store == nil {
		return nil, errors.New("alarm: Config.Store is required")
	}
	if cfg.Sink == nil {
		return nil, errors.New("alarm: Config.Sink is required")
	}
	if cfg.MaxTries < 1 {
		return nil, fmt.Errorf("alarm: Config.MaxTries is %d; it must be at least 1", cfg.MaxTries)
	}
	return &Dispatcher{cfg: cfg}, nil
}

// batch is how many alarms one look at the queue takes.
const batch = 64

// Run delivers alarms until ctx ends, then returns ctx's error. It wakes
// when a run step queues alarms and when a retry is due, never polling.
// Store errors are logged and retried; they never stop it.
func (d *Dispatcher) Run(ctx context.Context) error {
	wake, cancel := d.cfg.Store.Notifier().Subscribe(store.AlarmTopic)
	defer cancel()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		next, more := d.Pass(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if more {
			continue
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(d.cfg.Now()), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-timer.C:
		}
	}
}

// Pass delivers the alarms due now, up to one batch, and returns when the
// next of the others is due (zero if none) and whether more were due than
// one batch holds.
func (d *Dispatcher) Pass(ctx context.Context) (next time.Time, more bool) {
	name := d.cfg.Sink.Name()
	due, next, err := d.cfg.Store.AlarmsDue(ctx, name, d.cfg.Now(), batch)
	if err != nil {
		if ctx.Err() == nil {
			d.cfg.Logger.Error("alarm: reading the queue", "sink", name, "err", err)
		}
		return d.cfg.Now().Add(5 * time.Second), false
	}
	for _, a := range due {
		if ctx.Err() != nil {
			return next, false
		}
		retry := d.deliver(ctx, a)
		if !retry.IsZero() && (next.IsZero() || retry.Before(next)) {
			next = retry
		}
	}
	return next, len(due) == batch
}

// deliver tries one alarm and settles it; it returns when the alarm is to
// be tried again, zero if it is settled for good.
func (d *Dispatcher) deliver(ctx context.Context, a *store.Alarm) time.Time {
	name := d.cfg.Sink.Name()
	log := d.cfg.Logger.With("sink", name, "seq", a.Seq, "pipeline", a.PipelineID, "instance", a.InstanceID, "action", a.ActionID)
	dctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	err := d.cfg.Sink.Deliver(dctx, a)
	cancel()
	if err != nil && ctx.Err() != nil {
		return time.Time{} // shutting down: the alarm stays queued as it was
	}
	p := &store.AlarmSettleParams{Seq: a.Seq, Done: true}
	var perm *PermanentError
	switch {
	case err == nil:
		log.Info("alarm: delivered", "tries", a.Tries+1)
	case errors.As(err, &perm):
		log.Error("alarm: refused; not retried", "err", err)
	case a.Tries+1 >= d.cfg.MaxTries:
		log.Error("alarm: undeliverable; given up", "tries", a.Tries+1, "err", err)
	default:
		p.Done, p.LastError = false, err.Error()
		p.NextTry = d.cfg.Now().Add(d.cfg.Backoff(a.Tries + 1))
		log.Warn("alarm: delivery failed; will retry", "tries", a.Tries+1, "retry_at", p.NextTry, "err", err)
	}
	if err := d.cfg.Store.AlarmSettle(ctx, p); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Error("alarm: settling", "err", err)
	}
	return p.NextTry
}
