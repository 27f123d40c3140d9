package pipeline_test

import (
	"testing"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/pipeline/pipelinetest"
)

func TestCheckTypesBenchDefinitionClean(t *testing.T) {
	t.Parallel()
	for _, n := range []int{6, 100, 1000} {
		def := &pipeline.Definition{Objects: pipelinetest.Definition(n)}
		if got := pipeline.CheckTypes(def); len(got) != 0 {
			t.Errorf("CheckTypes(pipelinetest.Definition(%d)) = %v, want none", n, got)
		}
	}
}

func BenchmarkCheckTypes(b *testing.B) {
	def := &pipeline.Definition{Objects: pipelinetest.Definition(1000)}
	b.ReportAllocs()
	for b.Loop() {
		pipeline.CheckTypes(def)
	}
}
