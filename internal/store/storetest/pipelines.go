package storetest

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

func testPipelineCreate(t *testing.T, opts Options) {
	t.Run("Creates", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		params := createParams(acctA, "df-CREATE0001", "orders")
		got := b.create(t, params)
		want := &store.Pipeline{
			Seq: got.Seq, Account: acctA, ID: "df-CREATE0001", Name: "orders", UniqueID: "token-orders",
			Description: "the orders pipeline", Creator: "AKIA" + acctA, Tags: params.Tags,
			State: pipeline.StatePending, CreatedAt: t0,
		}
		if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
			t.Errorf("PipelineCreate() mismatch (-want +got):\n%s", diff)
		}
		if got.Seq <= 0 {
			t.Errorf("PipelineCreate() Seq = %d, want > 0", got.Seq)
		}
		if diff := cmp.Diff(want, b.get(t, acctA, "df-CREATE0001"), cmpOpts...); diff != "" {
			t.Errorf("PipelineGet() after create mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("DoesNotAliasParams", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		params := createParams(acctA, "df-ALIAS00001", "orders")
		b.create(t, params)
		params.Tags[0].Value = "changed by caller"
		if got := b.get(t, acctA, "df-ALIAS00001").Tags[0].Value; got != "data" {
			t.Errorf("Tags[0].Value after caller changed its params = %q, want %q", got, "data")
		}
	})

	t.Run("Idempotent", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		first := b.create(t, createParams(acctA, "df-IDEM000001", "orders"))

		again := createParams(acctA, "df-IDEM000002", "orders")
		again.Description = "a different description"
		again.Tags = nil
		got, created, err := b.s.PipelineCreate(b.ctx, again)
		if err != nil {
			t.Fatalf("repeated PipelineCreate() error: %v", err)
		}
		if created {
			t.Errorf("repeated PipelineCreate() created = true, want false")
		}
		if diff := cmp.Diff(first, got, cmpOpts...); diff != "" {
			t.Errorf("repeated PipelineCreate() mismatch (-want +got):\n%s", diff)
		}
		_, err = b.s.PipelineGet(b.ctx, acctA, "df-IDEM000002")
		wantErr(t, "PipelineGet(unused id)", err, store.ErrNotFound)

		// The pipeline it returns is the current one, not the first snapshot.
		b.update(t, acctA, first.ID, func(p *store.Pipeline) error { p.Description = "updated"; return nil })
		got, created, err = b.s.PipelineCreate(b.ctx, again)
		if err != nil || created || got.ID != first.ID || got.Description != "updated" {
			t.Errorf("PipelineCreate() after update = (%s, %q, %t, %v), want (%s, %q, false, nil)",
				idOf(got), descOf(got), created, err, first.ID, "updated")
		}
	})

	t.Run("IdempotencyKey", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name        string
			account     string
			pname       string
			uniqueID    string
			wantCreated bool
		}{
			{name: "SameKey", account: acctA, pname: "orders", uniqueID: "token-orders", wantCreated: false},
			{name: "OtherAccount", account: acctB, pname: "orders", uniqueID: "token-orders", wantCreated: true},
			{name: "OtherName", account: acctA, pname: "orders2", uniqueID: "token-orders", wantCreated: true},
			{name: "OtherUniqueID", account: acctA, pname: "orders", uniqueID: "token-other", wantCreated: true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				_, b := setup(t, opts)
				first := b.create(t, createParams(acctA, "df-KEY0000001", "orders"))
				p := createParams(tc.account, "df-KEY0000002", tc.pname)
				p.UniqueID = tc.uniqueID
				got, created, err := b.s.PipelineCreate(b.ctx, p)
				if err != nil {
					t.Fatalf("PipelineCreate() error: %v", err)
				}
				if created != tc.wantCreated {
					t.Errorf("PipelineCreate() created = %t, want %t", created, tc.wantCreated)
				}
				wantID := first.ID
				if tc.wantCreated {
					wantID = "df-KEY0000002"
				}
				if got.ID != wantID || got.Account != tc.account {
					t.Errorf("PipelineCreate() = (%s, %s), want (%s, %s)", got.Account, got.ID, tc.account, wantID)
				}
			})
		}
	})

	t.Run("ConflictOnTakenID", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name    string
			account string
			deleted bool
		}{
			{name: "SameAccount", account: acctA},
			{name: "OtherAccount", account: acctB},
			{name: "DeletedPipeline", account: acctA, deleted: true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				_, b := setup(t, opts)
				first := b.create(t, createParams(acctA, "df-TAKEN00001", "orders"))
				if tc.deleted {
					if err := b.s.PipelineDelete(b.ctx, acctA, first.ID, at(time.Minute)); err != nil {
						t.Fatalf("PipelineDelete() error: %v", err)
					}
				}
				_, _, err := b.s.PipelineCreate(b.ctx, createParams(tc.account, first.ID, "billing"))
				wantErr(t, "PipelineCreate(taken id)", err, store.ErrConflict)
				_, err = b.s.PipelineGet(b.ctx, tc.account, first.ID)
				switch {
				case tc.deleted:
					wantErr(t, "PipelineGet()", err, store.ErrDeleted)
				case tc.account == acctA:
					wantErr(t, "PipelineGet()", err, nil)
				default:
					wantErr(t, "PipelineGet(other account)", err, store.ErrNotFound)
				}
			})
		}
	})

	t.Run("AfterDeleteCreatesNew", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		first := b.create(t, createParams(acctA, "df-REUSE00001", "orders"))
		if err := b.s.PipelineDelete(b.ctx, acctA, first.ID, at(time.Minute)); err != nil {
			t.Fatalf("PipelineDelete() error: %v", err)
		}
		p := createParams(acctA, "df-REUSE00002", "orders")
		p.Now = at(2 * time.Minute)
		second := b.create(t, p)
		if second.ID != "df-REUSE00002" || second.Seq <= first.Seq || !second.CreatedAt.Equal(p.Now) {
			t.Errorf("PipelineCreate() after delete = (%s, seq %d, %v), want (df-REUSE00002, seq > %d, %v)",
				second.ID, second.Seq, second.CreatedAt, first.Seq, p.Now)
		}
		_, err := b.s.PipelineGet(b.ctx, acctA, first.ID)
		wantErr(t, "PipelineGet(deleted)", err, store.ErrDeleted)
	})

	t.Run("SeqIncreases", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		var last int64
		for i := range 8 {
			account := acctA
			if i%3 == 1 {
				account = acctB
			}
			p := b.create(t, createParams(account, fmt.Sprintf("df-SEQ%08d", i), fmt.Sprintf("p%d", i)))
			if p.Seq <= last {
				t.Errorf("pipeline %d: Seq = %d, want > %d", i, p.Seq, last)
			}
			last = p.Seq
		}
	})
}

func idOf(p *store.Pipeline) string {
	if p == nil {
		return "<nil>"
	}
	return p.ID
}

func descOf(p *store.Pipeline) string {
	if p == nil {
		return "<nil>"
	}
	return p.Description
}

func testPipelineGet(t *testing.T, opts Options) {
	t.Parallel()
	_, b := setup(t, opts)
	live := b.create(t, createParams(acctA, "df-GETLIVE001", "live"))
	gone := b.create(t, createParams(acctA, "df-GETGONE001", "gone"))
	if err := b.s.PipelineDelete(b.ctx, acctA, gone.ID, at(time.Minute)); err != nil {
		t.Fatalf("PipelineDelete() error: %v", err)
	}
	tests := []struct {
		name    string
		account string
		id      string
		want    error
	}{
		{name: "Live", account: acctA, id: live.ID},
		{name: "Unknown", account: acctA, id: "df-UNKNOWN001", want: store.ErrNotFound},
		{name: "OtherAccount", account: acctB, id: live.ID, want: store.ErrNotFound},
		{name: "Deleted", account: acctA, id: gone.ID, want: store.ErrDeleted},
		{name: "DeletedOtherAccount", account: acctB, id: gone.ID, want: store.ErrNotFound},
		{name: "EmptyID", account: acctA, id: "", want: store.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := b.s.PipelineGet(b.ctx, tc.account, tc.id)
			wantErr(t, "PipelineGet()", err, tc.want)
			if tc.want == nil {
				if diff := cmp.Diff(live, got, cmpOpts...); diff != "" {
					t.Errorf("PipelineGet() mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func testPipelineList(t *testing.T, opts Options) {
	t.Parallel()
	_, b := setup(t, opts)
	var wantA, wantB []store.PipelineSummary
	for i := range 7 {
		p := b.create(t, createParams(acctA, fmt.Sprintf("df-LISTA%07d", i), fmt.Sprintf("a%d", i)))
		wantA = append(wantA, store.PipelineSummary{Seq: p.Seq, ID: p.ID, Name: p.Name})
		if i%2 == 0 {
			q := b.create(t, createParams(acctB, fmt.Sprintf("df-LISTB%07d", i), fmt.Sprintf("b%d", i)))
			wantB = append(wantB, store.PipelineSummary{Seq: q.Seq, ID: q.ID, Name: q.Name})
		}
	}
	// Delete the second and the last of account A.
	for _, i := range []int{1, 6} {
		if err := b.s.PipelineDelete(b.ctx, acctA, wantA[i].ID, at(time.Minute)); err != nil {
			t.Fatalf("PipelineDelete() error: %v", err)
		}
	}
	deletedSeq := wantA[1].Seq
	wantA = append(wantA[:1:1], wantA[2:6]...)

	t.Run("All", func(t *testing.T) {
		for _, tc := range []struct {
			account string
			want    []store.PipelineSummary
		}{{acctA, wantA}, {acctB, wantB}, {"333333333333", nil}} {
			got, more := b.list(t, tc.account, 0, 100)
			if diff := cmp.Diff(tc.want, got, cmpOpts...); diff != "" {
				t.Errorf("PipelineList(%s) mismatch (-want +got):\n%s", tc.account, diff)
			}
			if more {
				t.Errorf("PipelineList(%s) more = true, want false", tc.account)
			}
		}
	})

	t.Run("Paging", func(t *testing.T) {
		for _, limit := range []int{1, 2, 3, 4, 5, 6} {
			t.Run(fmt.Sprintf("Limit%d", limit), func(t *testing.T) {
				var got []store.PipelineSummary
				var after int64
				var pages []bool
				for range len(wantA) + 1 {
					page, more := b.list(t, acctA, after, limit)
					if len(page) > limit {
						t.Fatalf("PipelineList(limit %d) returned %d pipelines", limit, len(page))
					}
					got = append(got, page...)
					pages = append(pages, more)
					if !more {
						break
					}
					after = page[len(page)-1].Seq
				}
				if diff := cmp.Diff(wantA, got, cmpOpts...); diff != "" {
					t.Errorf("paged PipelineList() mismatch (-want +got):\n%s", diff)
				}
				// Every page but the last says more follow; a full last page
				// does not.
				nPages := (len(wantA) + limit - 1) / limit
				wantPages := make([]bool, nPages)
				for i := range nPages - 1 {
					wantPages[i] = true
				}
				if diff := cmp.Diff(wantPages, pages); diff != "" {
					t.Errorf("PipelineList() more flags mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("AfterSeq", func(t *testing.T) {
		tests := []struct {
			name     string
			afterSeq int64
			want     []store.PipelineSummary
		}{
			{name: "Zero", afterSeq: 0, want: wantA},
			{name: "First", afterSeq: wantA[0].Seq, want: wantA[1:]},
			{name: "DeletedPipelinesSeq", afterSeq: deletedSeq, want: wantA[1:]},
			{name: "OtherAccountsSeq", afterSeq: wantB[1].Seq, want: seqAfter(wantA, wantB[1].Seq)},
			{name: "Last", afterSeq: wantA[len(wantA)-1].Seq, want: nil},
			{name: "Beyond", afterSeq: 1 << 62, want: nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, more := b.list(t, acctA, tc.afterSeq, 100)
				if diff := cmp.Diff(tc.want, got, cmpOpts...); diff != "" {
					t.Errorf("PipelineList(after %d) mismatch (-want +got):\n%s", tc.afterSeq, diff)
				}
				if more {
					t.Errorf("PipelineList(after %d) more = true, want false", tc.afterSeq)
				}
			})
		}
	})
}

func seqAfter(l []store.PipelineSummary, seq int64) []store.PipelineSummary {
	var out []store.PipelineSummary
	for _, p := range l {
		if p.Seq > seq {
			out = append(out, p)
		}
	}
	return out
}

func testPipelineDelete(t *testing.T, opts Options) {
	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-DELETE0001", "orders"))
		steps := []struct {
			name    string
			account string
			id      string
			want    error
		}{
			{name: "Unknown", account: acctA, id: "df-UNKNOWN001", want: store.ErrNotFound},
			{name: "OtherAccount", account: acctB, id: p.ID, want: store.ErrNotFound},
			{name: "Delete", account: acctA, id: p.ID},
			{name: "Again", account: acctA, id: p.ID, want: store.ErrDeleted},
			{name: "OtherAccountAfterDelete", account: acctB, id: p.ID, want: store.ErrNotFound},
		}
		// Steps run in order: each depends on the ones before.
		for _, st := range steps {
			err := b.s.PipelineDelete(b.ctx, st.account, st.id, at(time.Minute))
			wantErr(t, "PipelineDelete() step "+st.name, err, st.want)
		}
		_, err := b.s.PipelineUpdate(b.ctx, acctA, p.ID, func(*store.Pipeline) error { return nil })
		wantErr(t, "PipelineUpdate(deleted)", err, store.ErrDeleted)
		got, _ := b.list(t, acctA, 0, 100)
		if len(got) != 0 {
			t.Errorf("PipelineList() after delete = %v, want empty", got)
		}
	})

	t.Run("RemovesTasks", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-DELTASK001", "orders"))
		keep := b.create(t, createParams(acctA, "df-DELTASK002", "billing"))
		b.enqueue(t, task(acctA, p.ID, "task-claimed", "wg", t0))
		b.enqueue(t, task(acctA, p.ID, "task-queued", "wg", t0))
		b.enqueue(t, task(acctA, keep.ID, "task-kept", "wg", t0))
		if id := b.claimID(t, acctA, "wg", "host-1", t0, at(time.Hour)); id != "task-claimed" {
			t.Fatalf("TaskClaim() = %q, want task-claimed", id)
		}
		if err := b.s.PipelineDelete(b.ctx, acctA, p.ID, at(time.Minute)); err != nil {
			t.Fatalf("PipelineDelete() error: %v", err)
		}
		_, err := b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "task-claimed", LeaseUntil: at(2 * time.Hour), Now: at(2 * time.Minute)})
		wantErr(t, "TaskProgress(task of deleted pipeline)", err, store.ErrNotFound)
		_, err = b.s.TaskComplete(b.ctx, &store.TaskCompleteParams{Account: acctA, ID: "task-claimed", Status: store.TaskFinished, Now: at(2 * time.Minute)})
		wantErr(t, "TaskComplete(task of deleted pipeline)", err, store.ErrNotFound)
		// The queued task of the deleted pipeline is gone; the other
		// pipeline's task is untouched.
		if id := b.claimID(t, acctA, "wg", "host-1", at(2*time.Minute), at(time.Hour)); id != "task-kept" {
			t.Errorf("TaskClaim() after delete = %q, want task-kept", id)
		}
		// The deleted pipeline's claimed task is not reaped: only task-kept is.
		if n, err := b.s.TaskReap(b.ctx, at(3*time.Hour)); err != nil || n != 1 {
			t.Errorf("TaskReap() after every lease expired = (%d, %v), want (1, nil)", n, err)
		}
		err = b.s.TaskEnqueue(b.ctx, task(acctA, p.ID, "task-late", "wg", at(time.Hour)))
		wantErr(t, "TaskEnqueue(deleted pipeline)", err, store.ErrNotFound)
	})
}

func testDefinitionDerive(t *testing.T, opts Options) {
	t.Parallel()
	_, b := setup(t, opts)
	p := b.create(t, createParams(acctA, "df-DERIVE0001", "orders"))
	b.putDefinition(t, acctA, p.ID, []byte(`{"objects":[]}`), false, t0)
	d := b.get(t, acctA, p.ID).Latest

	var calls atomic.Int64
	results := make([]any, 32)
	start := make(chan struct{})
	done := make(chan struct{})
	for i := range results {
		go func() {
			defer func() { done <- struct{}{} }()
			<-start
			results[i] = d.Derive(func(doc []byte) any {
				calls.Add(1)
				for range 100 {
					runtime.Gosched() // widen the race window: let the others call Derive meanwhile
				}
				return &struct{ n int }{len(doc)}
			})
		}()
	}
	close(start)
	for range results {
		<-done
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("Derive() build called %d times, want 1", n)
	}
	for i, r := range results {
		if r != results[0] {
			t.Errorf("Derive() result %d = %p, want the first result %p", i, r, results[0])
		}
	}
}

// errFn is the error the PipelineUpdate callbacks fail with.
var errFn = errors.New("storetest: callback failed")
