package runner

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
)

// Fleet runs one [Runner] per worker group for as long as something wants
// the group served: culvert serve's embedded runner, which stands in for
// the task runner AWS starts on each Ec2Resource or EmrCluster. The
// scheduler says which groups each pipeline's resources need (Want);
// a group's runner starts when the first pipeline wants it and stops,
// with its grace period, when none does any more.
type Fleet struct {
	cfg FleetConfig

	mu      sync.Mutex
	ctx     context.Context // set by Run; nil before and after
	wants   map[fleetKey]map[string]bool
	running map[fleetGroup]*fleetRunner
	wg      sync.WaitGroup
}

// FleetConfig configures a [Fleet].
type FleetConfig struct {
	// API returns the client a runner of account uses. Errors are
	// logged, and the group is tried again at the next Want.
	API func(account string) (API, error)
	// Runner is the configuration every runner starts from; API and
	// WorkerGroup are set per group.
	Runner Config
	Logger *slog.Logger // default slog.Default()
}

type fleetKey struct{ account, pipelineID string }

type fleetGroup struct{ account, group string }

type fleetRunner struct {
	stop context.CancelFunc
	done chan struct{}
}

// NewFleet returns a Fleet; it runs nothing until Run.
func NewFleet(cfg FleetConfig) *Fleet {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Fleet{cfg: cfg, wants: map[fleetKey]map[string]bool{}, running: map[fleetGroup]*fleetRunner{}}
}

// Want sets the worker groups a pipeline of account needs served now,
// replacing what it wanted before; none (nil) when its resources are done
// or the pipeline stopped. It never blocks on a runner: starting and
// stopping happen in the background.
func (f *Fleet) Want(account, pipelineID string, groups []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := fleetKey{account, pipelineID}
	if len(groups) == 0 {
		delete(f.wants, k)
	} else {
		set := make(map[string]bool, len(groups))
		for _, g := range groups {
			set[g] = true
		}
		f.wants[k] = set
	}
	f.reconcile()
}

// Reset forgets what every pipeline wanted, stopping every runner (each
// within its grace period): the node stopped leading, and the wants of the
// next leader's scheduler decide which runners run, on that node.
func (f *Fleet) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.wants)
	f.reconcile()
}

// Groups returns the groups whose runners are running, for tests and
// status pages, sorted by account then group.
func (f *Fleet) Groups() [][2]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][2]string
	for g := range f.running {
		out = append(out, [2]string{g.account, g.group})
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		return cmp.Compare(a[1], b[1])
	})
	return out
}

// Run starts the wanted runners and keeps the fleet in line with Want
// until ctx ends; then it stops every runner and returns once all have
// (each within its grace period and hand-back wait).
func (f *Fleet) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.ctx != nil {
		f.mu.Unlock()
		return fmt.Errorf("runner: Fleet.Run called twice")
	}
	f.ctx = ctx
	f.reconcile()
	f.mu.Unlock()

	<-ctx.Done()
	f.mu.Lock()
	for _, r := range f.running {
		r.stop()
	}
	f.mu.Unlock()
	f.wg.Wait()
	f.mu.Lock()
	f.ctx = nil
	clear(f.running)
	f.mu.Unlock()
	return nil
}

// reconcile starts runners for wanted groups without one and stops those
// no pipeline wants. The caller holds f.mu.
func (f *Fleet) reconcile() {
	if f.ctx == nil || f.ctx.Err() != nil {
		return
	}
	wanted := map[fleetGroup]bool{}
	for k, set := range f.wants {
		for g := range set {
			wanted[fleetGroup{k.account, g}] = true
		}
	}
	for g, r := range f.running {
		if !wanted[g] {
			f.cfg.Logger.Info("embedded runner: stopping; no resource needs it", "account", g.account, "worker_group", g.group)
			r.stop()
			delete(f.running, g)
		}
	}
	for _, g := range slices.SortedFunc(maps.Keys(wanted), func(a, b fleetGroup) int {
		return cmp.Compare(a.account+"\x00"+a.group, b.account+"\x00"+b.group)
	}) {
		if f.running[g] == nil {
			f.start(g)
		}
	}
}

// start starts the runner of g. The caller holds f.mu.
func (f *Fleet) start(g fleetGroup) {
	api, err := f.cfg.API(g.account)
	if err != nil {
		f.cfg.Logger.Error("embedded runner: no client", "account", g.account, "worker_group", g.group, "err", err)
		return
	}
	cfg := f.cfg.Runner
	cfg.API, cfg.WorkerGroup = api, g.group
	if cfg.RunnerID == "" {
		// Heartbeats key runners by id: one per group, or they would
		// overwrite each other's worker group.
		cfg.RunnerID = "culvert-embedded:" + g.group
	}
	r, err := New(cfg)
	if err != nil {
		f.cfg.Logger.Error("embedded runner: bad configuration", "worker_group", g.group, "err", err)
		return
	}
	ctx, stop := context.WithCancel(f.ctx)
	fr := &fleetRunner{stop: stop, done: make(chan struct{})}
	f.running[g] = fr
	f.cfg.Logger.Info("embedded runner: starting", "account", g.account, "worker_group", g.group)
	f.wg.Go(func() {
		defer close(fr.done)
		defer stop()
		if err := r.Run(ctx); err != nil {
			f.cfg.Logger.Error("embedded runner: stopped", "worker_group", g.group, "err", err)
		}
		// A runner that ends on its own (a heartbeat said terminate, or it
		// could not start) leaves the fleet, so that a later Want may
		// start it again.
		f.mu.Lock()
		if f.running[g] == fr {
			delete(f.running, g)
		}
		f.mu.Unlock()
	})
}
