package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// Definition documents with the bytes a JSON re-encoding would change:
// spacing, key order, escapes and non-ASCII text must all survive.
var (
	doc1 = []byte(`{"objects": [ {"id":"Default","name":"Default","fields":[{"key":"scheduleType","stringValue":"ondemand"}]} ],` +
		"\n\t" + `"parameters":[], "values":[{"id":"myName","stringValue":"caf\u00e9 \"quoted\" \\ 日本"}]}`)
	doc2 = []byte(`{"values":[],"objects":[{"name":"Default","id":"Default","fields":[]},{"id":"A","name":"A","fields":[{"key":"type","stringValue":"ShellCommandActivity"}]}],"parameters":[]}`)
	doc3 = []byte(`{"objects":[]}`)
)

func testPipelineUpdate(t *testing.T, opts Options) {
	t.Run("SeesCurrentValues", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-UPDSEE0001", "orders"))
		b.update(t, acctA, p.ID, func(p *store.Pipeline) error { p.Description = "second"; return nil })
		b.putDefinition(t, acctA, p.ID, doc1, false, at(time.Minute))
		want := b.get(t, acctA, p.ID)
		var seen store.Pipeline
		b.update(t, acctA, p.ID, func(p *store.Pipeline) error { seen = *p; return nil })
		if diff := cmp.Diff(want, &seen, cmpOpts...); diff != "" {
			t.Errorf("PipelineUpdate() fn saw (-want +got):\n%s", diff)
		}
	})

	t.Run("Persists", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			fn   func(p *store.Pipeline)
		}{
			{name: "Description", fn: func(p *store.Pipeline) { p.Description = "new description" }},
			{name: "ClearDescription", fn: func(p *store.Pipeline) { p.Description = "" }},
			{name: "Tags", fn: func(p *store.Pipeline) {
				p.Tags[0].Value = "platform" // in place, before append copies
				p.Tags = append(p.Tags, pipeline.Tag{Key: "owner", Value: "ops"})
			}},
			{name: "ClearTags", fn: func(p *store.Pipeline) { p.Tags = nil }},
			{name: "Paused", fn: func(p *store.Pipeline) { p.Paused = []string{"ActivityB", "ActivityA"} }},
			{name: "State", fn: func(p *store.Pipeline) { p.State = pipeline.StateInactive }},
			{name: "ActivationTimes", fn: func(p *store.Pipeline) {
				p.FirstActivatedAt = at(time.Minute)
				p.LastActivatedAt = at(time.Hour)
				p.LastDeactivatedAt = at(30 * time.Minute)
			}},
			{name: "Activation", fn: func(p *store.Pipeline) {
				p.ActivationStart = at(-48 * time.Hour)
				p.CancelActive = true
			}},
			{name: "Everything", fn: func(p *store.Pipeline) {
				p.Description, p.State = "all", pipeline.StateScheduled
				p.Tags = []pipeline.Tag{{Key: "k", Value: "v"}}
				p.Paused = []string{"X"}
				p.FirstActivatedAt, p.LastActivatedAt, p.LastDeactivatedAt = at(time.Second), at(time.Second), at(2*time.Second)
				p.ActivationStart, p.CancelActive = at(-time.Hour), true
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				_, b := setup(t, opts)
				before := b.create(t, createParams(acctA, "df-UPDPERS001", "orders"))
				want := *before
				want.Tags = append([]pipeline.Tag(nil), before.Tags...)
				tc.fn(&want)
				got := b.update(t, acctA, before.ID, func(p *store.Pipeline) error { tc.fn(p); return nil })
				if diff := cmp.Diff(&want, got, cmpOpts...); diff != "" {
					t.Errorf("PipelineUpdate() result mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(&want, b.get(t, acctA, before.ID), cmpOpts...); diff != "" {
					t.Errorf("PipelineGet() after update mismatch (-want +got):\n%s", diff)
				}
				if before.Tags[0].Value != "data" {
					t.Errorf("earlier snapshot's Tags[0] changed to %q", before.Tags[0].Value)
				}
			})
		}
	})

	t.Run("Definitions", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-UPDDEFS001", "orders"))

		got := b.putDefinition(t, acctA, p.ID, doc1, true, at(time.Minute))
		v1 := got.Latest.Version
		if v1 <= 0 {
			t.Errorf("first version = %d, want > 0", v1)
		}
		if got.Active != nil {
			t.Errorf("Active after first put = version %d, want nil", got.Active.Version)
		}
		got = b.putDefinition(t, acctA, p.ID, doc2, false, at(2*time.Minute))
		if got.Latest.Version != v1+1 {
			t.Errorf("second version = %d, want %d", got.Latest.Version, v1+1)
		}
		got = b.activate(t, acctA, p.ID, at(3*time.Minute))
		if got.Active == nil || got.Active.Version != v1+1 || got.Latest.Version != v1+1 {
			t.Fatalf("after activate: Latest %v, Active %v, want both version %d", got.Latest, got.Active, v1+1)
		}
		got = b.putDefinition(t, acctA, p.ID, doc3, true, at(4*time.Minute))

		// Latest is the third version, Active still the second.
		want := &store.Pipeline{
			Seq: p.Seq, Account: acctA, ID: p.ID, Name: p.Name, UniqueID: p.UniqueID, Description: p.Description,
			Creator: p.Creator, Tags: p.Tags, State: pipeline.StateScheduled, CreatedAt: p.CreatedAt,
			FirstActivatedAt: at(3 * time.Minute), LastActivatedAt: at(3 * time.Minute),
			Latest: &store.Definition{Version: v1 + 2, Doc: doc3, Errored: true, PutAt: at(4 * time.Minute)},
			Active: &store.Definition{Version: v1 + 1, Doc: doc2, Errored: false, PutAt: at(2 * time.Minute)},
		}
		if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
			t.Errorf("PipelineUpdate() mismatch (-want +got):\n%s", diff)
		}
		got = b.get(t, acctA, p.ID)
		if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
			t.Errorf("PipelineGet() mismatch (-want +got):\n%s", diff)
		}
		if !bytes.Equal(got.Latest.Doc, doc3) || !bytes.Equal(got.Active.Doc, doc2) {
			t.Errorf("Doc bytes changed: Latest %q, Active %q", got.Latest.Doc, got.Active.Doc)
		}

		// Activating the new Latest makes both the same version again.
		got = b.activate(t, acctA, p.ID, at(5*time.Minute))
		if got.Active.Version != v1+2 || !bytes.Equal(got.Active.Doc, doc3) || !got.Active.Errored {
			t.Errorf("Active after second activate = (%d, %q, %t), want (%d, %q, true)",
				got.Active.Version, got.Active.Doc, got.Active.Errored, v1+2, doc3)
		}
		// Changing something else keeps both versions as they are.
		got = b.update(t, acctA, p.ID, func(p *store.Pipeline) error { p.Description = "x"; return nil })
		if got.Latest.Version != v1+2 || got.Active.Version != v1+2 || !bytes.Equal(b.get(t, acctA, p.ID).Latest.Doc, doc3) {
			t.Errorf("versions after unrelated update = (%d, %d), want (%d, %d)", got.Latest.Version, got.Active.Version, v1+2, v1+2)
		}
		// And the next put continues the numbering.
		got = b.putDefinition(t, acctA, p.ID, doc1, false, at(6*time.Minute))
		if got.Latest.Version != v1+3 || !bytes.Equal(got.Latest.Doc, doc1) {
			t.Errorf("fourth version = (%d, %q), want (%d, %q)", got.Latest.Version, got.Latest.Doc, v1+3, doc1)
		}
	})

	t.Run("LatestBackToActive", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-ROLLBACK01", "orders"))
		b.putDefinition(t, acctA, p.ID, []byte(`{"v":1}`), false, t0)
		active := b.activate(t, acctA, p.ID, t0).Active
		b.putDefinition(t, acctA, p.ID, []byte(`{"v":2}`), true, at(time.Minute))
		// Putting the active version back as latest reuses it as it is: it
		// keeps its number and bytes, and no new version appears.
		got := b.update(t, acctA, p.ID, func(p *store.Pipeline) error {
			p.Latest = p.Active
			return nil
		})
		if got.Latest.Version != active.Version || string(got.Latest.Doc) != `{"v":1}` || got.Active.Version != active.Version {
			t.Fatalf("after rollback Latest = v%d %s, Active = v%d; want both v%d {\"v\":1}",
				got.Latest.Version, got.Latest.Doc, got.Active.Version, active.Version)
		}
		next := b.putDefinition(t, acctA, p.ID, []byte(`{"v":3}`), false, at(2*time.Minute))
		if next.Latest.Version <= active.Version+1 {
			t.Errorf("next version = %d, want above every version issued so far (> %d)", next.Latest.Version, active.Version+1)
		}
	})

	t.Run("DefinitionsPerPipeline", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-UPDPERP001", "orders"))
		q := b.create(t, createParams(acctA, "df-UPDPERP002", "billing"))
		b.putDefinition(t, acctA, p.ID, doc1, false, t0)
		b.putDefinition(t, acctA, p.ID, doc2, false, t0)
		b.putDefinition(t, acctA, q.ID, doc3, false, t0)
		if pv, qv := b.get(t, acctA, p.ID).Latest, b.get(t, acctA, q.ID).Latest; !bytes.Equal(pv.Doc, doc2) || !bytes.Equal(qv.Doc, doc3) {
			t.Errorf("Latest docs = (%q, %q), want (%q, %q)", pv.Doc, qv.Doc, doc2, doc3)
		}
	})

	t.Run("EmptyDoc", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-UPDEMPTY01", "orders"))
		for i, doc := range [][]byte{nil, {}} {
			got := b.putDefinition(t, acctA, p.ID, doc, false, t0)
			if got.Latest == nil || len(got.Latest.Doc) != 0 {
				t.Errorf("put %d: Latest = %v, want a version with an empty Doc", i, got.Latest)
			}
		}
		// The store still works afterwards.
		b.create(t, createParams(acctA, "df-UPDEMPTY02", "billing"))
	})

	t.Run("FnError", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-UPDFAIL001", "orders"))
		b.putDefinition(t, acctA, p.ID, doc1, false, t0)
		b.update(t, acctA, p.ID, func(p *store.Pipeline) error { p.Paused = []string{"A", "B"}; return nil })
		want := b.get(t, acctA, p.ID)
		_, err := b.s.PipelineUpdate(b.ctx, acctA, p.ID, func(p *store.Pipeline) error {
			p.Tags[0].Value = "must not be stored" // in place: fn has a copy
			p.Paused[0] = "must not be stored"
			p.Description = "must not be stored"
			p.Tags = append(p.Tags, pipeline.Tag{Key: "x", Value: "y"})
			p.State = pipeline.StateFinished
			p.Latest = &store.Definition{Doc: doc2, PutAt: at(time.Minute)}
			p.Active = p.Latest
			return fmt.Errorf("wrapped: %w", errFn)
		})
		if !errors.Is(err, errFn) {
			t.Errorf("PipelineUpdate() error = %v, want %v", err, errFn)
		}
		got := b.get(t, acctA, p.ID)
		if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
			t.Errorf("PipelineGet() after failed update mismatch (-want +got):\n%s", diff)
		}
		// want may share its slices with the store's snapshot, so check the
		// values fn changed in place against literals too.
		if got.Tags[0].Value != "data" || len(got.Paused) != 2 || got.Paused[0] != "A" {
			t.Errorf("after failed update: Tags[0].Value = %q, Paused = %q, want %q and [A B]", got.Tags[0].Value, got.Paused, "data")
		}
	})

	t.Run("IdentityIsFixed", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-UPDIDEN001", "orders"))
		other := b.create(t, createParams(acctA, "df-UPDIDEN002", "billing"))
		got := b.update(t, acctA, p.ID, func(q *store.Pipeline) error {
			q.ID, q.Account, q.Name, q.UniqueID = other.ID, acctB, "renamed", "token-renamed"
			q.Creator, q.CreatedAt, q.Seq = "AKIAOTHER", at(time.Hour), other.Seq+100
			q.Description = "changed"
			return nil
		})
		want := *p
		want.Description = "changed"
		if diff := cmp.Diff(&want, got, cmpOpts...); diff != "" {
			t.Errorf("PipelineUpdate() mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(&want, b.get(t, acctA, p.ID), cmpOpts...); diff != "" {
			t.Errorf("PipelineGet() mismatch (-want +got):\n%s", diff)
		}
		if got := b.get(t, acctA, other.ID); got.Description != other.Description {
			t.Errorf("other pipeline's Description = %q, want %q", got.Description, other.Description)
		}
		_, err := b.s.PipelineGet(b.ctx, acctB, p.ID)
		wantErr(t, "PipelineGet(acctB)", err, store.ErrNotFound)
		// The idempotency key is still the original one.
		again, created, err := b.s.PipelineCreate(b.ctx, createParams(acctA, "df-UPDIDEN003", "orders"))
		if err != nil || created || again.ID != p.ID {
			t.Errorf("PipelineCreate(original key) = (%s, %t, %v), want (%s, false, nil)", idOf(again), created, err, p.ID)
		}
		list, _ := b.list(t, acctA, 0, 100)
		wantList := []store.PipelineSummary{{Seq: p.Seq, ID: p.ID, Name: p.Name}, {Seq: other.Seq, ID: other.ID, Name: other.Name}}
		if diff := cmp.Diff(wantList, list); diff != "" {
			t.Errorf("PipelineList() mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-UPDERRS001", "orders"))
		gone := b.create(t, createParams(acctA, "df-UPDERRS002", "gone"))
		if err := b.s.PipelineDelete(b.ctx, acctA, gone.ID, t0); err != nil {
			t.Fatalf("PipelineDelete() error: %v", err)
		}
		tests := []struct {
			name    string
			account string
			id      string
			want    error
		}{
			{name: "Unknown", account: acctA, id: "df-UNKNOWN001", want: store.ErrNotFound},
			{name: "OtherAccount", account: acctB, id: p.ID, want: store.ErrNotFound},
			{name: "Deleted", account: acctA, id: gone.ID, want: store.ErrDeleted},
			{name: "DeletedOtherAccount", account: acctB, id: gone.ID, want: store.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				called := false
				_, err := b.s.PipelineUpdate(b.ctx, tc.account, tc.id, func(p *store.Pipeline) error {
					called = true
					p.Description = "hijacked"
					return nil
				})
				wantErr(t, "PipelineUpdate()", err, tc.want)
				if called {
					t.Errorf("PipelineUpdate() called fn")
				}
			})
		}
		if got := b.get(t, acctA, p.ID).Description; got != p.Description {
			t.Errorf("Description = %q, want %q", got, p.Description)
		}
	})

	t.Run("NoLostUpdates", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-UPDCONC001", "orders"))
		p0 := b.get(t, acctA, p.ID)
		const n = 50
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = b.s.PipelineUpdate(b.ctx, acctA, p.ID, func(p *store.Pipeline) error {
					p.Tags = append(p.Tags, pipeline.Tag{Key: fmt.Sprintf("k%02d", i), Value: "v"})
					return nil
				})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("PipelineUpdate() %d error: %v", i, err)
			}
		}
		var want []string
		for _, tag := range p0.Tags {
			want = append(want, tag.Key)
		}
		for i := range n {
			want = append(want, fmt.Sprintf("k%02d", i))
		}
		var got []string
		for _, tag := range b.get(t, acctA, p.ID).Tags {
			got = append(got, tag.Key)
		}
		sort.Strings(want)
		sort.Strings(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("tags after %d concurrent updates mismatch (-want +got):\n%s", n, diff)
		}
	})

	t.Run("ConcurrentDefinitions", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-UPDCDEF001", "orders"))
		const n = 20
		var wg sync.WaitGroup
		versions := make([]int64, n)
		for i := range n {
			wg.Go(func() {
				got, err := b.s.PipelineUpdate(b.ctx, acctA, p.ID, func(p *store.Pipeline) error {
					p.Latest = &store.Definition{Doc: fmt.Appendf(nil, `{"n":%d}`, i), PutAt: t0}
					return nil
				})
				if err != nil {
					t.Errorf("PipelineUpdate() %d error: %v", i, err)
					return
				}
				versions[i] = got.Latest.Version
			})
		}
		wg.Wait()
		sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
		for i := 1; i < n; i++ {
			if versions[i] != versions[i-1]+1 {
				t.Fatalf("versions of %d concurrent puts = %v, want %d consecutive numbers", n, versions, n)
			}
		}
		if got := b.get(t, acctA, p.ID).Latest.Version; got != versions[n-1] {
			t.Errorf("Latest.Version = %d, want %d", got, versions[n-1])
		}
	})
}
