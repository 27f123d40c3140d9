package leader

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/culvert/culvert/internal/store"
)

// memLeases is a lease table in memory. The real ones are the store
// backends' (their conformance suite tests them, and cmd/culvert's
// multi-node tests run this package against PostgreSQL); this one runs
// on synctest's clock, so that the timing rules here are checked to the
// millisecond without waiting for them.
type memLeases struct {
	mu     sync.Mutex
	leases map[string]store.Lease
	down   bool // every call fails, as an unreachable store would
}

func (m *memLeases) setDown(v bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down = v
}

var errDown = errors.New("store unreachable")

func (m *memLeases) LeaseAcquire(ctx context.Context, p *store.LeaseParams) (*store.Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return nil, errDown
	}
	now := time.Now()
	l, ok := m.leases[p.Name]
	switch {
	case ok && l.Holder == p.Holder && now.Before(l.Expires):
		l.Expires = now.Add(p.TTL)
	case !ok || !now.Before(l.Expires):
		l = store.Lease{Name: p.Name, Holder: p.Holder, Term: l.Term + 1, AcquiredAt: now, Expires: now.Add(p.TTL)}
	default:
		l.Now = now
		return &l, store.ErrConflict
	}
	l.Now = now
	m.leases[p.Name] = l
	return &l, nil
}

func (m *memLeases) LeaseRelease(ctx context.Context, name, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	l, ok := m.leases[name]
	if !ok || l.Holder != holder || !time.Now().Before(l.Expires) {
		return store.ErrNotFound
	}
	l.Expires = time.Now()
	m.leases[name] = l
	return nil
}

func (m *memLeases) LeaseGet(ctx context.Context, name string) (*store.Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.leases[name]
	if !ok {
		return nil, store.ErrNotFound
	}
	l.Now = time.Now()
	return &l, nil
}

// fenceHolds reports whether f is still the live lease.
func (m *memLeases) fenceHolds(f store.Fence) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.leases[f.Name]
	return l.Holder == f.Holder && l.Term == f.Term && time.Now().Before(l.Expires)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// leadCounter is a lead function that counts how many nodes lead at once
// and checks, every millisecond it leads, that its fence is the live
// lease: what a store's fenced writes would check.
type leadCounter struct {
	t       *testing.T
	m       *memLeases
	now     atomic.Int32
	most    atomic.Int32
	terms   sync.Map // term → holder
	started atomic.Int32
}

func (c *leadCounter) lead(ctx context.Context) error {
	f, ok := store.FenceOf(ctx)
	if !ok {
		c.t.Error("lead's context carries no fence")
		return nil
	}
	if prev, loaded := c.terms.LoadOrStore(f.Term, f.Holder); loaded && prev != f.Holder {
		c.t.Errorf("term %d led by both %v and %s", f.Term, prev, f.Holder)
	}
	c.started.Add(1)
	n := c.now.Add(1)
	defer c.now.Add(-1)
	for {
		if m := c.most.Load(); n > m {
			c.most.CompareAndSwap(m, n)
		}
		if c.m != nil && !c.m.fenceHolds(f) {
			c.t.Errorf("%s leads in term %d after its lease ended", f.Holder, f.Term)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func newElector(t *testing.T, m *memLeases, holder string) *Elector {
	t.Helper()
	cfg := Config{Holder: holder, TTL: 3 * time.Second, Logger: quiet}
	if m != nil {
		cfg.Leases = m
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newElector(t, nil, "solo")
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		led := make(chan struct{})
		go func() {
			done <- e.Run(ctx, func(ctx context.Context) error {
				close(led)
				<-ctx.Done()
				return ctx.Err()
			})
		}()
		<-led
		if s := e.Status(); !s.Leader || s.Shared || s.Holder != "solo" {
			t.Errorf("Status() = %+v, want the only node leading", s)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
		if e.Status().Leader {
			t.Error("Status().Leader after Run returned")
		}
	})
}

func TestHandOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &memLeases{leases: map[string]store.Lease{}}
		c := &leadCounter{t: t, m: m}
		nodes := map[string]*Elector{}
		cancels := map[string]context.CancelFunc{}
		done := make(chan string, 3)
		for _, name := range []string{"a", "b", "c"} {
			e := newElector(t, m, name)
			ctx, cancel := context.WithCancel(t.Context())
			nodes[name], cancels[name] = e, cancel
			go func() {
				if err := e.Run(ctx, c.lead); err != nil {
					t.Errorf("Run(%s) = %v", name, err)
				}
				done <- name
			}()
		}
		time.Sleep(10 * time.Second)
		first := leaderOf(t, nodes)
		// A leader that stops hands over at once: it releases the lease.
		stopped := time.Now()
		cancels[first]()
		<-done
		delete(nodes, first)
		second := waitLeader(t, nodes)
		// Followers look again every TTL/3 at most; waitLeader looks
		// every 100ms.
		if d := time.Since(stopped); d > 1100*time.Millisecond {
			t.Errorf("took %v to hand over a released lease, want within TTL/3", d)
		}
		// A leader whose store cannot be reached steps down before its
		// lease can lapse, and another takes over once it has.
		time.Sleep(2 * time.Second) // every follower has seen the new term
		m.setDown(true)
		time.Sleep(3 * time.Second)
		if s := nodes[second].Status(); s.Leader {
			t.Errorf("%s still leads %v after its last renewal", second, 3*time.Second)
		}
		m.setDown(false)
		time.Sleep(3 * time.Second)
		third := waitLeader(t, nodes)
		st := nodes[third].Status()
		if st.Term < 3 {
			t.Errorf("term after two hand-overs = %d, want at least 3", st.Term)
		}
		if st.Changes < 2 {
			t.Errorf("%s saw %d hand-overs, want at least 2", third, st.Changes)
		}
		for _, cancel := range cancels {
			cancel()
		}
		for range nodes {
			<-done
		}
		if most := c.most.Load(); most != 1 {
			t.Errorf("at most %d nodes led at once, want 1", most)
		}
	})
}

// leaderOf returns the one node that leads, failing unless exactly one
// does.
func leaderOf(t *testing.T, nodes map[string]*Elector) string {
	t.Helper()
	var leaders []string
	for name, e := range nodes {
		if e.Status().Leader {
			leaders = append(leaders, name)
		}
	}
	if len(leaders) != 1 {
		t.Fatalf("leaders = %v, want exactly one", leaders)
	}
	return leaders[0]
}

func waitLeader(t *testing.T, nodes map[string]*Elector) string {
	t.Helper()
	for range 100 {
		for _, e := range nodes {
			if e.Status().Leader {
				return leaderOf(t, nodes)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no node leads after 10s")
	return ""
}

// leadFailingOnce runs e with work whose first term ends at once with err
// and whose later terms last until Run is stopped. terms reports how many
// terms have begun; stop ends Run and checks that it returned nil.
func leadFailingOnce(t *testing.T, e *Elector, err error) (terms func() int32, stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	var n atomic.Int32
	done := make(chan error)
	go func() {
		done <- e.Run(ctx, func(ctx context.Context) error {
			if n.Add(1) == 1 {
				return err
			}
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	return n.Load, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	}
}

func TestLeadErrors(t *testing.T) {
	t.Run("Fenced", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := &memLeases{leases: map[string]store.Lease{}}
			e := newElector(t, m, "a")
			// A write found the lease gone.
			terms, stop := leadFailingOnce(t, e, store.ErrFenced)
			time.Sleep(time.Second)
			if n := terms(); n != 2 {
				t.Errorf("lead called %d times, want 2: a fenced term ends and the node campaigns again", n)
			}
			stop()
		})
	})
	t.Run("Failed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := &memLeases{leases: map[string]store.Lease{}}
			e := newElector(t, m, "a")
			terms, stop := leadFailingOnce(t, e, errors.New("boom"))
			// The failed node steps down and gives the lease back at
			// once, so that another may take it...
			time.Sleep(500 * time.Millisecond)
			if l, err := m.LeaseGet(t.Context(), LeaseName); err != nil || l.Expires.After(time.Now()) {
				t.Errorf("LeaseGet() after the work failed = %+v, %v; want a released lease", l, err)
			}
			if e.Status().Leader {
				t.Error("Status().Leader after the work failed")
			}
			// ...and, with nobody else there, leads again a third of a
			// TTL later.
			time.Sleep(time.Second)
			if n := terms(); n != 2 || !e.Status().Leader {
				t.Errorf("lead called %d times, leader %v; want 2 and leading again", n, e.Status().Leader)
			}
			stop()
		})
	})
	t.Run("FailedAlone", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newElector(t, nil, "solo")
			boom := errors.New("boom")
			if err := e.Run(t.Context(), func(ctx context.Context) error { return boom }); !errors.Is(err, boom) {
				t.Errorf("Run() of a node that always leads = %v, want %v", err, boom)
			}
		})
	})
	t.Run("ShortTTL", func(t *testing.T) {
		if _, err := New(Config{TTL: time.Millisecond}); err == nil {
			t.Error("New() with a 1ms TTL = nil error")
		}
	})
}
