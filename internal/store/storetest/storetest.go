// Package storetest is the conformance suite every [store.Store] backend
// must pass. A backend's own tests call [Run] with an opener for fresh,
// empty stores; a behaviour change in a backend is a change here, never a
// backend-local test.
//
// The suite tests only what the store package documents, so that the
// SQLite backend (store/sqlite) and a PostgreSQL backend are held to the
// same rules. Times it stores are whole microseconds, the finest precision
// PostgreSQL keeps. It imports only store, pipeline and go-cmp, and must
// never import a backend.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// Options configures [Run].
type Options struct {
	// Open returns a fresh, empty store. It registers the store's cleanup
	// with t itself.
	Open func(t *testing.T) store.Store

	// Reopen closes s and opens the same database again, as a restart
	// would. Nil skips the durability subtests.
	Reopen func(t *testing.T, s store.Store) store.Store

	// OpenShared opens a second handle on the same database as s, as a
	// second culvert node would, and registers its cleanup with t. Nil
	// skips the multi-node subtests.
	OpenShared func(t *testing.T, s store.Store) store.Store
}

// Run runs every store behaviour test against the backend opts describe.
func Run(t *testing.T, opts Options) {
	t.Helper()
	if opts.Open == nil {
		t.Fatal("storetest: Options.Open is required")
	}
	t.Run("PipelineCreate", func(t *testing.T) { testPipelineCreate(t, opts) })
	t.Run("PipelineGet", func(t *testing.T) { testPipelineGet(t, opts) })
	t.Run("PipelineList", func(t *testing.T) { testPipelineList(t, opts) })
	t.Run("PipelineUpdate", func(t *testing.T) { testPipelineUpdate(t, opts) })
	t.Run("PipelineDelete", func(t *testing.T) { testPipelineDelete(t, opts) })
	t.Run("DefinitionDerive", func(t *testing.T) { testDefinitionDerive(t, opts) })
	t.Run("TaskEnqueue", func(t *testing.T) { testTaskEnqueue(t, opts) })
	t.Run("TaskClaim", func(t *testing.T) { testTaskClaim(t, opts) })
	t.Run("TaskProgress", func(t *testing.T) { testTaskProgress(t, opts) })
	t.Run("TaskComplete", func(t *testing.T) { testTaskComplete(t, opts) })
	t.Run("TaskProgressTimeout", func(t *testing.T) { testTaskProgressTimeout(t, opts) })
	t.Run("TaskLogLocation", func(t *testing.T) { testTaskLogLocation(t, opts) })
	t.Run("TaskReap", func(t *testing.T) { testTaskReap(t, opts) })
	t.Run("TaskChanges", func(t *testing.T) { testTaskChanges(t, opts) })
	t.Run("TaskLeaseNext", func(t *testing.T) { testTaskLeaseNext(t, opts) })
	t.Run("TaskNextAvailable", func(t *testing.T) { testTaskNextAvailable(t, opts) })
	t.Run("RunApply", func(t *testing.T) { testRunApply(t, opts) })
	t.Run("RunLoad", func(t *testing.T) { testRunLoad(t, opts) })
	t.Run("RunCommandAdd", func(t *testing.T) { testRunCommandAdd(t, opts) })
	t.Run("PipelinesRunning", func(t *testing.T) { testPipelinesRunning(t, opts) })
	t.Run("PipelineDeleteRuns", func(t *testing.T) { testPipelineDeleteRuns(t, opts) })
	t.Run("Alarms", func(t *testing.T) { testAlarms(t, opts) })
	t.Run("RunSummary", func(t *testing.T) { testRunSummary(t, opts) })
	t.Run("RunnerHeartbeat", func(t *testing.T) { testRunnerHeartbeat(t, opts) })
	t.Run("Notifier", func(t *testing.T) { testNotifier(t, opts) })
	t.Run("RunNotifications", func(t *testing.T) { testRunNotifications(t, opts) })
	t.Run("Context", func(t *testing.T) { testContext(t, opts) })
	t.Run("Unsynced", func(t *testing.T) { testUnsynced(t, opts) })
	t.Run("Durability", func(t *testing.T) {
		if opts.Reopen == nil {
			t.Skip("storetest: Options.Reopen is nil")
		}
		testDurability(t, opts)
	})
	t.Run("RunDurability", func(t *testing.T) {
		if opts.Reopen == nil {
			t.Skip("storetest: Options.Reopen is nil")
		}
		testRunDurability(t, opts)
	})
	t.Run("Shared", func(t *testing.T) {
		if opts.OpenShared == nil {
			t.Skip("storetest: Options.OpenShared is nil")
		}
		testShared(t, opts)
	})
	t.Run("Leases", func(t *testing.T) { testLeases(t, opts) })
}

// Accounts used throughout. Tenancy tests use both.
const (
	acctA = "111111111111"
	acctB = "222222222222"
)

// t0 is the suite's "now"; later instants are offsets from it. It has whole
// microseconds so that every backend can store it exactly.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// cmpOpts compare store values: a Definition's derived cache is not part of
// its value, and a backend may return nil or empty slices alike.
var cmpOpts = []cmp.Option{
	cmpopts.IgnoreUnexported(store.Definition{}),
	cmpopts.EquateEmpty(),
}

// taskCmpOpts compare tasks, ignoring UpdatedAt which the interface leaves
// to the backend, and ChangeSeq, whose values only order (runs.go checks
// them).
var taskCmpOpts = append([]cmp.Option{cmpopts.IgnoreFields(store.Task{}, "UpdatedAt", "ChangeSeq")}, cmpOpts...)

type testBundle struct {
	s   store.Store
	ctx context.Context
}

// setup opens a fresh store for one subtest.
func setup(t *testing.T, opts Options) (store.Store, *testBundle) {
	t.Helper()
	s := opts.Open(t)
	return s, &testBundle{s: s, ctx: t.Context()}
}

// createParams returns the params of a pipeline named name in account.
func createParams(account, id, name string) *store.PipelineCreateParams {
	return &store.PipelineCreateParams{
		Account:     account,
		ID:          id,
		Name:        name,
		UniqueID:    "token-" + name,
		Description: "the " + name + " pipeline",
		Creator:     "AKIA" + account,
		Tags:        []pipeline.Tag{{Key: "team", Value: "data"}, {Key: "env", Value: name}},
		Now:         t0,
	}
}

func (b *testBundle) create(t *testing.T, p *store.PipelineCreateParams) *store.Pipeline {
	t.Helper()
	pl, created, err := b.s.PipelineCreate(b.ctx, p)
	if err != nil {
		t.Fatalf("PipelineCreate(%s) error: %v", p.ID, err)
	}
	if !created {
		t.Fatalf("PipelineCreate(%s) created = false, want true", p.ID)
	}
	return pl
}

func (b *testBundle) get(t *testing.T, account, id string) *store.Pipeline {
	t.Helper()
	p, err := b.s.PipelineGet(b.ctx, account, id)
	if err != nil {
		t.Fatalf("PipelineGet(%s, %s) error: %v", account, id, err)
	}
	return p
}

func (b *testBundle) update(t *testing.T, account, id string, fn func(*store.Pipeline) error) *store.Pipeline {
	t.Helper()
	p, err := b.s.PipelineUpdate(b.ctx, account, id, fn)
	if err != nil {
		t.Fatalf("PipelineUpdate(%s, %s) error: %v", account, id, err)
	}
	return p
}

// putDefinition stores doc as a new Latest version and returns the result.
func (b *testBundle) putDefinition(t *testing.T, account, id string, doc []byte, errored bool, putAt time.Time) *store.Pipeline {
	t.Helper()
	return b.update(t, account, id, func(p *store.Pipeline) error {
		p.Latest = &store.Definition{Doc: doc, Errored: errored, PutAt: putAt}
		return nil
	})
}

// activate makes Latest the Active version.
func (b *testBundle) activate(t *testing.T, account, id string, now time.Time) *store.Pipeline {
	t.Helper()
	return b.update(t, account, id, func(p *store.Pipeline) error {
		p.Active = p.Latest
		p.State = pipeline.StateScheduled
		if p.FirstActivatedAt.IsZero() {
			p.FirstActivatedAt = now
		}
		p.LastActivatedAt = now
		return nil
	})
}

func (b *testBundle) list(t *testing.T, account string, afterSeq int64, limit int) ([]store.PipelineSummary, bool) {
	t.Helper()
	l, more, err := b.s.PipelineList(b.ctx, account, afterSeq, limit)
	if err != nil {
		t.Fatalf("PipelineList(%s, %d, %d) error: %v", account, afterSeq, limit, err)
	}
	return l, more
}

// listAll pages through an account's pipelines and returns them all.
func (b *testBundle) listAll(t *testing.T, account string) []store.PipelineSummary {
	t.Helper()
	var all []store.PipelineSummary
	var after int64
	for range 10000 {
		page, more := b.list(t, account, after, 3)
		all = append(all, page...)
		if !more {
			return all
		}
		if len(page) == 0 {
			t.Fatalf("PipelineList(%s, %d, 3) returned an empty page with more = true", account, after)
		}
		after = page[len(page)-1].Seq
	}
	t.Fatalf("PipelineList(%s) did not finish paging", account)
	return nil
}

// task returns a queued task of pipeline pid in account's worker group wg.
func task(account, pid, id, wg string, created time.Time) *store.Task {
	return &store.Task{
		ID:          id,
		Account:     account,
		PipelineID:  pid,
		AttemptID:   "@" + id + "_Attempt=1",
		WorkerGroup: wg,
		Objects:     []byte(fmt.Sprintf(`{"%s":{"id":"%s","fields":[{"key":"type","stringValue":"ShellCommandActivity"}]}}`, id, id)),
		CreatedAt:   created,
	}
}

func (b *testBundle) enqueue(t *testing.T, tk *store.Task) {
	t.Helper()
	if err := b.s.TaskEnqueue(b.ctx, tk); err != nil {
		t.Fatalf("TaskEnqueue(%s) error: %v", tk.ID, err)
	}
}

// claim claims the next task for owner, which says it runs on host-of-owner.
func (b *testBundle) claim(t *testing.T, account, wg, owner string, now, until time.Time) *store.Task {
	t.Helper()
	tk, err := b.s.TaskClaim(b.ctx, &store.TaskClaimParams{Account: account, WorkerGroup: wg, Owner: owner, Hostname: "host-of-" + owner,
		LeaseUntil: until, Now: now})
	if err != nil {
		t.Fatalf("TaskClaim(%s, %s) error: %v", account, wg, err)
	}
	return tk
}

// claimID claims the next task and returns its id, or "" when nothing is
// claimable.
func (b *testBundle) claimID(t *testing.T, account, wg, owner string, now, until time.Time) string {
	t.Helper()
	tk, err := b.s.TaskClaim(b.ctx, &store.TaskClaimParams{Account: account, WorkerGroup: wg, Owner: owner, LeaseUntil: until, Now: now})
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatalf("TaskClaim(%s, %s) error: %v", account, wg, err)
	}
	return tk.ID
}

// wantErr fails t unless err matches want (nil meaning success).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s error: %v, want nil", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s error: %v, want %v", what, err, want)
	}
}
