package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// testContext checks that a method whose ctx has ended returns promptly,
// with ctx.Err() or with success (a write may still have been applied), and
// that the store keeps working afterwards.
func testContext(t *testing.T, opts Options) {
	ops := []struct {
		name string
		call func(ctx context.Context, s store.Store) error
		// verify, if set, checks the effect of a call that succeeded.
		verify func(t *testing.T, b *testBundle)
	}{
		{
			name: "PipelineCreate",
			call: func(ctx context.Context, s store.Store) error {
				_, _, err := s.PipelineCreate(ctx, createParams(acctA, "df-CTXNEW0001", "new"))
				return err
			},
			verify: func(t *testing.T, b *testBundle) { b.get(t, acctA, "df-CTXNEW0001") },
		},
		{
			name: "PipelineCreateExisting",
			call: func(ctx context.Context, s store.Store) error {
				_, _, err := s.PipelineCreate(ctx, createParams(acctA, "df-CTXNEW0002", "orders"))
				return err
			},
		},
		{
			name: "PipelineUpdate",
			call: func(ctx context.Context, s store.Store) error {
				_, err := s.PipelineUpdate(ctx, acctA, "df-CTX0000001", func(p *store.Pipeline) error {
					p.Description = "updated"
					p.Latest = &store.Definition{Doc: doc1, PutAt: t0}
					return nil
				})
				return err
			},
			verify: func(t *testing.T, b *testBundle) {
				if p := b.get(t, acctA, "df-CTX0000001"); p.Description != "updated" || p.Latest == nil {
					t.Errorf("PipelineGet() after update = (%q, %v), want (updated, a definition)", p.Description, p.Latest)
				}
			},
		},
		{
			name: "PipelineDelete",
			call: func(ctx context.Context, s store.Store) error {
				return s.PipelineDelete(ctx, acctA, "df-CTX0000001", t0)
			},
			verify: func(t *testing.T, b *testBundle) {
				_, err := b.s.PipelineGet(b.ctx, acctA, "df-CTX0000001")
				wantErr(t, "PipelineGet() after delete", err, store.ErrDeleted)
			},
		},
		{
			name: "TaskEnqueue",
			call: func(ctx context.Context, s store.Store) error {
				return s.TaskEnqueue(ctx, task(acctA, "df-CTX0000001", "task-new", "wg-new", t0))
			},
			verify: func(t *testing.T, b *testBundle) {
				if id := b.claimID(t, acctA, "wg-new", "h", t0, at(time.Hour)); id != "task-new" {
					t.Errorf("TaskClaim() after enqueue = %q, want task-new", id)
				}
			},
		},
		{
			name: "TaskClaim",
			call: func(ctx context.Context, s store.Store) error {
				_, err := s.TaskClaim(ctx, &store.TaskClaimParams{Account: acctA, WorkerGroup: "wg", Owner: "h", LeaseUntil: at(time.Hour), Now: t0})
				return err
			},
		},
		{
			name: "TaskProgress",
			call: func(ctx context.Context, s store.Store) error {
				_, err := s.TaskProgress(ctx, &store.TaskProgressParams{Account: acctA, ID: "task-claimed", LeaseUntil: at(time.Hour), Now: t0})
				return err
			},
		},
		{
			name: "TaskComplete",
			call: func(ctx context.Context, s store.Store) error {
				_, err := s.TaskComplete(ctx, &store.TaskCompleteParams{Account: acctA, ID: "task-claimed", Status: store.TaskFinished, Now: t0})
				return err
			},
			verify: func(t *testing.T, b *testBundle) {
				_, err := b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "task-claimed", LeaseUntil: at(time.Hour), Now: t0})
				wantErr(t, "TaskProgress() after complete", err, store.ErrNotFound)
			},
		},
		{
			name: "RunnerHeartbeat",
			call: func(ctx context.Context, s store.Store) error {
				return s.RunnerHeartbeat(ctx, &store.RunnerHeartbeatParams{Account: acctA, RunnerID: "r", WorkerGroup: "wg", Hostname: "h", Now: t0})
			},
		},
		{
			name: "RunApply",
			call: func(ctx context.Context, s store.Store) error {
				return s.RunApply(ctx, &store.RunChanges{Account: acctA, PipelineID: "df-CTX0000001",
					Instances: []*pipeline.Instance{fullInstance("@A_1", t0)}, Tasks: []*store.Task{task(acctA, "df-CTX0000001", "task-run", "wg-run", t0)}, Now: t0})
			},
			verify: func(t *testing.T, b *testBundle) {
				if st := b.load(t, acctA, "df-CTX0000001"); len(st.Instances) != 1 {
					t.Errorf("RunLoad() after RunApply has %d instances, want 1", len(st.Instances))
				}
				if id := b.claimID(t, acctA, "wg-run", "h", t0, at(time.Hour)); id != "task-run" {
					t.Errorf("TaskClaim() after RunApply = %q, want task-run", id)
				}
			},
		},
		{
			name: "RunCommandAdd",
			call: func(ctx context.Context, s store.Store) error {
				return s.RunCommandAdd(ctx, &store.RunCommand{Account: acctA, PipelineID: "df-CTX0000001", ObjectIDs: []string{"@A_1"}, Status: "RERUN", CreatedAt: t0})
			},
			verify: func(t *testing.T, b *testBundle) {
				if st := b.load(t, acctA, "df-CTX0000001"); len(st.Commands) != 1 {
					t.Errorf("RunLoad() after RunCommandAdd has %d commands, want 1", len(st.Commands))
				}
			},
		},
		{
			name: "TaskReap",
			call: func(ctx context.Context, s store.Store) error {
				_, err := s.TaskReap(ctx, at(2*time.Hour))
				return err
			},
		},
		{
			name: "RunLoad",
			call: func(ctx context.Context, s store.Store) error {
				_, err := s.RunLoad(ctx, acctA, "df-CTX0000001")
				return err
			},
		},
		{
			name: "TaskChanges",
			call: func(ctx context.Context, s store.Store) error {
				_, _, err := s.TaskChanges(ctx, 0, 10)
				return err
			},
		},
		{
			name: "TaskNextAvailable",
			call: func(ctx context.Context, s store.Store) error {
				_, err := s.TaskNextAvailable(ctx, t0)
				return err
			},
		},
		{
			name: "PipelinesRunning",
			call: func(ctx context.Context, s store.Store) error {
				_, err := s.PipelinesRunning(ctx)
				return err
			},
		},
		{
			name: "PipelineGet",
			call: func(ctx context.Context, s store.Store) error {
				_, err := s.PipelineGet(ctx, acctA, "df-CTX0000001")
				return err
			},
		},
		{
			name: "PipelineList",
			call: func(ctx context.Context, s store.Store) error {
				_, _, err := s.PipelineList(ctx, acctA, 0, 10)
				return err
			},
		},
	}
	ctxs := []struct {
		name string
		make func(parent context.Context) (context.Context, context.CancelFunc)
	}{
		{name: "Canceled", make: func(parent context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(parent)
			cancel()
			return ctx, cancel
		}},
		{name: "ShortDeadline", make: func(parent context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(parent, time.Microsecond)
		}},
	}
	for _, op := range ops {
		for _, c := range ctxs {
			t.Run(op.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				s, b := setup(t, opts)
				b.create(t, createParams(acctA, "df-CTX0000001", "orders"))
				b.enqueue(t, task(acctA, "df-CTX0000001", "task-claimed", "wg", t0))
				b.claim(t, acctA, "wg", "h", t0, at(time.Hour))
				b.enqueue(t, task(acctA, "df-CTX0000001", "task-queued", "wg", t0))

				ctx, cancel := c.make(b.ctx)
				defer cancel()
				done := make(chan error, 1)
				go func() { done <- op.call(ctx, s) }()
				var err error
				select {
				case err = <-done:
				case <-time.After(10 * time.Second):
					t.Fatalf("%s with an ended ctx did not return within 10s", op.name)
				}
				if err != nil && !errors.Is(err, ctx.Err()) {
					t.Errorf("%s with an ended ctx error = %v, want nil or %v", op.name, err, ctx.Err())
				}
				if err == nil && op.verify != nil {
					op.verify(t, b)
				}
				// The store still works.
				b.create(t, createParams(acctA, "df-CTXAFTER01", "after"))
				b.get(t, acctA, "df-CTXAFTER01")
			})
		}
	}
}
