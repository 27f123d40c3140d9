package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// testUnsynced checks what a caller under store.Unsynced (the scheduler)
// relies on: its writes are seen by every later reader, they wake the
// waiters of their topics, and they are durable across a restart once
// the store is closed; its reads see writes not yet waited for.
func testUnsynced(t *testing.T, opts Options) {
	t.Parallel()
	s, b := setup(t, opts)
	uctx := store.Unsynced(b.ctx)
	p := b.create(t, createParams(acctA, "df-UNSYNC0001", "orders"))
	wake, cancel := s.Notifier().Subscribe(store.TaskTopic(acctA, "wg"))
	defer cancel()

	tk := task(acctA, p.ID, "t-unsynced", "wg", t0)
	in := bareInstance("@A_1", "A", t0)
	if err := s.RunApply(uctx, &store.RunChanges{Account: acctA, PipelineID: p.ID, Tasks: []*store.Task{tk},
		Instances: []*pipeline.Instance{in}, Now: t0}); err != nil {
		t.Fatalf("RunApply(Unsynced) error: %v", err)
	}
	// Another unsynced read sees it at once, and so does a synced one
	// (which may wait for it to be durable).
	for _, r := range []struct {
		name string
		ctx  context.Context
	}{{"unsynced", uctx}, {"synced", b.ctx}} {
		st, err := s.RunLoad(r.ctx, acctA, p.ID)
		if err != nil {
			t.Fatalf("RunLoad(%s) error: %v", r.name, err)
		}
		if len(st.Instances) != 1 || st.Instances[0].ID != in.ID || len(st.Tasks) != 1 || st.Tasks[0].ID != tk.ID {
			t.Errorf("RunLoad(%s) after an unsynced RunApply = %d instances, %d tasks, want the step's 1 and 1", r.name, len(st.Instances), len(st.Tasks))
		}
	}
	if !received(wake, wakeTimeout) {
		t.Errorf("no wake-up on the worker group within %v of an unsynced RunApply", wakeTimeout)
	}
	if claimed := b.claim(t, acctA, "wg", "h", t0, at(time.Minute)); claimed.ID != tk.ID {
		t.Errorf("claimed %s, want %s", claimed.ID, tk.ID)
	}

	// An unsynced write is durable once the store is closed.
	if err := s.RunApply(uctx, &store.RunChanges{Account: acctA, PipelineID: p.ID,
		Instances: []*pipeline.Instance{bareInstance("@A_2", "A", at(time.Hour))}, Now: t0}); err != nil {
		t.Fatalf("RunApply(Unsynced) error: %v", err)
	}
	if opts.Reopen == nil {
		return
	}
	s = opts.Reopen(t, s)
	st, err := s.RunLoad(b.ctx, acctA, p.ID)
	if err != nil {
		t.Fatalf("RunLoad() after reopening: %v", err)
	}
	if len(st.Instances) != 2 {
		t.Errorf("after reopening: %d instances, want the 2 written unsynced", len(st.Instances))
	}
}
