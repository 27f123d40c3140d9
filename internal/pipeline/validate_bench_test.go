package pipeline_test

import (
	"testing"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/pipeline/pipelinetest"
)

// benchNow is before pipelinetest's schedules start, so its cascade
// failure mode is no backfill.
var benchNow = time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC)

// TestValidateBenchDefinitionClean pins that the shared realistic
// definition is complete: it validates without errors or warnings, and the
// only thing a later clock adds is the cascade backfill warning.
func TestValidateBenchDefinitionClean(t *testing.T) {
	t.Parallel()
	for _, n := range []int{6, 100, 1000} {
		def := &pipeline.Definition{Objects: pipelinetest.Definition(n)}
		opt := pipeline.Options{Limits: pipeline.Limits{MaxObjects: n}, Now: benchNow}
		res := pipeline.Validate(def, opt)
		if len(res.Errors) != 0 || len(res.Warnings) != 0 {
			t.Errorf("Validate(pipelinetest.Definition(%d)) = errors %v warnings %v, want none", n, res.Errors, res.Warnings)
		}
		opt.Now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		res = pipeline.Validate(def, opt)
		if len(res.Errors) != 0 {
			t.Errorf("Validate(pipelinetest.Definition(%d)) in 2026 = errors %v, want none", n, res.Errors)
		}
		for _, w := range res.Warnings {
			for _, m := range w.Warnings {
				if want := w.ID + " has 'failureAndRerunMode' field set to 'cascade'"; len(m) < len(want) || m[:len(want)] != want {
					t.Errorf("Validate(pipelinetest.Definition(%d)) in 2026: warning %s: %s, want only backfill warnings", n, w.ID, m)
				}
			}
		}
	}
}

// BenchmarkValidate1000 validates a realistic 1,000-object definition.
func BenchmarkValidate1000(b *testing.B) {
	def := &pipeline.Definition{Objects: pipelinetest.Definition(1000)}
	opt := pipeline.Options{Limits: pipeline.Limits{MaxObjects: 1000}, Now: benchNow}
	b.ReportAllocs()
	for b.Loop() {
		pipeline.Validate(def, opt)
	}
}

// BenchmarkValidate1000Active is BenchmarkValidate1000 as a put to an
// activated pipeline: the definition is compared with itself as active.
func BenchmarkValidate1000Active(b *testing.B) {
	def := &pipeline.Definition{Objects: pipelinetest.Definition(1000)}
	opt := pipeline.Options{Limits: pipeline.Limits{MaxObjects: 1000}, Now: benchNow, Active: def}
	b.ReportAllocs()
	for b.Loop() {
		pipeline.Validate(def, opt)
	}
}
