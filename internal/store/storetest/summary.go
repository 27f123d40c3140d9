package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// testRunSummary checks that a run summary stored with RunApply becomes
// the pipeline's, survives other updates of the pipeline and a reopen, and
// is replaced by the next one.
func testRunSummary(t *testing.T, opts Options) {
	t.Parallel()
	s, b := setup(t, opts)
	p := b.create(t, createParams(acctA, "df-SUMMARY001", "orders"))
	if got := b.get(t, acctA, p.ID).Summary; got != nil {
		t.Fatalf("Summary of a new pipeline = %+v, want nil", got)
	}
	want := &pipeline.RunSummary{Components: map[string]pipeline.ComponentSummary{
		"Copy": {Health: pipeline.HealthError, HealthUpdated: at(time.Hour), HealthFrom: "@Copy_1",
			LatestRun: at(time.Hour), LatestCompletedRun: at(0), NextRun: at(2 * time.Hour)},
		"In": {LatestRun: at(time.Hour)},
	}}
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Summary: want, Now: t0})
	if diff := cmp.Diff(want, b.get(t, acctA, p.ID).Summary, cmpOpts...); diff != "" {
		t.Errorf("Summary after RunApply mismatch (-want +got):\n%s", diff)
	}
	// A step without a summary leaves it; other updates keep it.
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, State: pipeline.StateScheduled, Now: t0})
	b.update(t, acctA, p.ID, func(p *store.Pipeline) error { p.Description = "changed"; return nil })
	if diff := cmp.Diff(want, b.get(t, acctA, p.ID).Summary, cmpOpts...); diff != "" {
		t.Errorf("Summary after other updates mismatch (-want +got):\n%s", diff)
	}
	if opts.Reopen != nil {
		s = opts.Reopen(t, s)
		b = &testBundle{s: s, ctx: b.ctx}
		if diff := cmp.Diff(want, b.get(t, acctA, p.ID).Summary, cmpOpts...); diff != "" {
			t.Errorf("Summary after reopen mismatch (-want +got):\n%s", diff)
		}
	}
	next := &pipeline.RunSummary{Components: map[string]pipeline.ComponentSummary{"Copy": {Health: pipeline.HealthHealthy}}}
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Summary: next, Now: t0})
	if diff := cmp.Diff(next, b.get(t, acctA, p.ID).Summary, cmpOpts...); diff != "" {
		t.Errorf("Summary after a second RunApply mismatch (-want +got):\n%s", diff)
	}
	// Summaries in quick succession: each is seen at once, and the last
	// is the one a closed store keeps, however lazily it is written.
	for i := range 5 {
		last := &pipeline.RunSummary{Components: map[string]pipeline.ComponentSummary{
			"Copy": {Health: pipeline.HealthHealthy, LatestRun: t0.Add(time.Duration(i) * time.Minute)}}}
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Summary: last, Now: t0})
		if diff := cmp.Diff(last, b.get(t, acctA, p.ID).Summary, cmpOpts...); diff != "" {
			t.Fatalf("Summary %d right after RunApply mismatch (-want +got):\n%s", i, diff)
		}
		next = last
	}
	if opts.Reopen != nil {
		s = opts.Reopen(t, s)
		b = &testBundle{s: s, ctx: b.ctx}
		if diff := cmp.Diff(next, b.get(t, acctA, p.ID).Summary, cmpOpts...); diff != "" {
			t.Errorf("the last of quick summaries after reopen mismatch (-want +got):\n%s", diff)
		}
	}
}
