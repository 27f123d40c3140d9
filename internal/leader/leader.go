// Package leader decides which of the culvert nodes sharing a store does
// the work only one node may do at a time: planning schedules, reaping
// task leases, delivering alarms and driving the embedded runner's
// resources. A node leads while it holds the store's leader lease
// ([store.Leases]); the lease has a TTL on the store's clock, the leader
// renews it, and another node takes it over when it lapses.
//
// A node stops its leader work before its lease can have lapsed by its own
// clock, and the work runs under [store.Fenced], so that even a node that
// stalled past its lease (a long pause, a frozen VM) cannot write over the
// work of the node that took over: the store refuses a write from an old
// term. A store that one process owns has no Leases, and its node always
// leads.
//
// It imports only store.
package leader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/culvert/culvert/internal/store"
)

// LeaseName is the name of the leader lease in the store.
const LeaseName = "leader"

// Config configures an [Elector].
type Config struct {
	// Leases is the store's lease table; nil means this node always
	// leads.
	Leases store.Leases
	// Holder names this node in the lease; default NodeID().
	Holder string
	// TTL is how long a lease lasts unless renewed (default 15 s). A
	// leader renews it every TTL/3 and another node takes over within
	// about TTL after the leader stops renewing.
	TTL    time.Duration
	Logger *slog.Logger // default slog.Default()
}

func (c Config) withDefaults() Config {
	if c.Holder == "" {
		c.Holder = NodeID()
	}
	if c.TTL == 0 {
		c.TTL = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) validate() error {
	if c.TTL < 30*time.Millisecond {
		return fmt.Errorf("leader: TTL %v is too short; it must be at least 30ms", c.TTL)
	}
	return nil
}

// NodeID returns a name for this process that no other node shares: its
// host name, its process id and a random suffix, so that a node restarted
// with the same pid is still a new holder.
func NodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "culvert"
	}
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Status is what a node knows about leadership, for /healthz and metrics.
type Status struct {
	// Self is this node's holder name; Leader whether it leads now.
	Self   string
	Leader bool
	// Holder and Term are the leader lease as this node last saw it
	// (Holder empty if it has not seen one yet).
	Holder string
	Term   int64
	// Since is when this node last saw the lease change hands (or, for a
	// node that always leads, when it started).
	Since time.Time
	// Changes counts the hand-overs this node has seen.
	Changes int64
	// Shared says whether leadership is decided among nodes at all.
	Shared bool
}

// Elector runs a node's leader-only work while the node leads.
type Elector struct {
	cfg Config

	mu     sync.Mutex
	status Status
}

// New returns an Elector, or an error if cfg is invalid.
func New(cfg Config) (*Elector, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Elector{cfg: cfg, status: Status{Self: cfg.Holder, Shared: cfg.Leases != nil}}, nil
}

// Status returns the node's view of leadership.
func (e *Elector) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status
}

// Run campaigns for the lease until ctx ends. Each time the node wins it,
// Run calls lead with a context that carries the lease's [store.Fence] and
// ends when the node stops leading; lead must return soon after that
// context ends. A lead that returns [store.ErrFenced] or the context's
// error has lost the lease, and the node campaigns again. A lead that
// fails otherwise (the store went away as its work started, say) is
// logged; the node steps down, releasing the lease so that another node
// may lead, and campaigns again a third of a TTL later. When ctx ends, Run
// stops lead, releases the lease so that another node need not wait for
// it to lapse, and returns nil. Only a node without Leases, which always
// leads, returns lead's error: there is nobody to hand over to.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context) error) error {
	if e.cfg.Leases == nil {
		e.observe(&store.Lease{Holder: e.cfg.Holder, Term: 1}, true)
		err := lead(ctx)
		e.setLeader(false)
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	for {
		l, deadline, err := e.acquire(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if !errors.Is(err, store.ErrConflict) {
				e.cfg.Logger.Warn("leader: cannot reach the lease", "err", err)
			}
			if !sleep(ctx, e.retryAfter(l)) {
				return nil
			}
			continue
		}
		// A term that ended on its own is not retried at once, so that
		// lead failing fast cannot spin; one whose work failed leaves the
		// other nodes time to take over.
		pause := e.cfg.TTL / 30
		if failed := e.leadTerm(ctx, l, deadline, lead); failed {
			pause = e.cfg.TTL / 3
		}
		if !sleep(ctx, pause) {
			return nil
		}
	}
}

// acquire tries for the lease once. It returns the lease as the store has
// it and, if this node now holds it, the local time by which it must stop
// leading: nine tenths of the TTL after the request began. The lease
// cannot end sooner by the store's clock, since the store started its TTL
// later, and the tenth allows for clocks that run at slightly different
// rates.
func (e *Elector) acquire(ctx context.Context) (*store.Lease, time.Time, error) {
	start := time.Now()
	l, err := e.cfg.Leases.LeaseAcquire(ctx, &store.LeaseParams{Name: LeaseName, Holder: e.cfg.Holder, TTL: e.cfg.TTL})
	if l != nil {
		e.observe(l, err == nil)
	}
	return l, start.Add(e.cfg.TTL * 9 / 10), err
}

// retryAfter is how long a follower waits before trying again: until the
// lease it saw lapses, but at least a little and at most TTL/3, so that a
// released lease or a store that comes back is noticed soon.
func (e *Elector) retryAfter(l *store.Lease) time.Duration {
	wait := e.cfg.TTL / 3
	if l != nil && !l.Now.IsZero() {
		if d := l.Expires.Sub(l.Now) + 5*time.Millisecond; d < wait {
			wait = d
		}
	}
	return max(wait, e.cfg.TTL/30)
}

// leadTerm runs lead for one term of the lease, renewing the lease until
// it is lost, lead fails, or ctx ends, and reports whether lead failed.
func (e *Elector) leadTerm(ctx context.Context, l *store.Lease, deadline time.Time, lead func(context.Context) error) (failed bool) {
	log := e.cfg.Logger.With("term", l.Term)
	log.Info("leader: this node leads", "node", e.cfg.Holder)
	fence := store.Fence{Name: LeaseName, Holder: e.cfg.Holder, Term: l.Term}
	leadCtx, stop := context.WithCancel(store.Fenced(ctx, fence))
	defer stop()
	done := make(chan error, 1)
	go func() { done <- lead(leadCtx) }()

	renew := time.NewTicker(e.cfg.TTL / 3)
	defer renew.Stop()
	expire := time.NewTimer(time.Until(deadline))
	defer expire.Stop()
	var err error
	for err == nil {
		select {
		case err = <-done:
			if err == nil || errors.Is(err, store.ErrFenced) || leadCtx.Err() != nil {
				err = errLost
			}
			// lead has returned; the loop ends below.
			done = nil
		case <-ctx.Done():
			err = ctx.Err()
		case <-expire.C:
			log.Warn("leader: the lease was not renewed in time; stepping down")
			err = errLost
		case <-renew.C:
			nl, next, rerr := e.acquire(ctx)
			switch {
			case rerr == nil && nl.Term == l.Term:
				expire.Reset(time.Until(next))
			case nl != nil && (rerr == nil || errors.Is(rerr, store.ErrConflict)):
				log.Warn("leader: the lease passed to another term", "holder", nl.Holder, "new_term", nl.Term)
				err = errLost
			case ctx.Err() != nil:
				err = ctx.Err()
			default:
				// Keep leading until the deadline: the store may be
				// back before the lease lapses.
				log.Warn("leader: cannot renew the lease", "err", rerr)
			}
		}
	}
	// The term is over, for the reason err says; lead's work stops
	// before the lease is given up or another term begins.
	stop()
	if done != nil {
		<-done
	}
	e.setLeader(false)
	switch {
	case ctx.Err() != nil:
		e.release(ctx, log)
		return false
	case errors.Is(err, errLost):
		log.Info("leader: this node no longer leads")
		return false
	default:
		log.Error("leader: the leader's work failed; stepping down", "err", err)
		e.release(ctx, log)
		return true
	}
}

// release hands the lease over at once rather than make the other nodes
// wait for it to lapse.
func (e *Elector) release(ctx context.Context, log *slog.Logger) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := e.cfg.Leases.LeaseRelease(rctx, LeaseName, e.cfg.Holder); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Warn("leader: cannot release the lease", "err", err)
	} else {
		log.Info("leader: released the lease")
	}
}

var errLost = errors.New("leader: lease lost")

// observe records the lease as this node saw it.
func (e *Elector) observe(l *store.Lease, self bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &e.status
	if l.Holder != s.Holder || l.Term != s.Term {
		if s.Holder != "" {
			s.Changes++
			if !self {
				e.cfg.Logger.Info("leader: the lease changed hands", "holder", l.Holder, "term", l.Term)
			}
		}
		s.Holder, s.Term, s.Since = l.Holder, l.Term, time.Now()
	}
	s.Leader = self
}

func (e *Elector) setLeader(v bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status.Leader = v
}

// sleep waits d or until ctx ends, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
