package sqlite

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/store"
)

func reportOps(b *testing.B, ops int64, start time.Time) {
	b.ReportMetric(float64(ops)/time.Since(start).Seconds(), "ops/s")
}

// BenchmarkPipelineCreate runs 32 callers per CPU, the way many API
// requests arrive at once, which is what group commit is for.
func BenchmarkPipelineCreate(b *testing.B) {
	d := openTemp(b)
	b.SetParallelism(32)
	commits := d.c.commits.Load()
	ctx := b.Context()
	var n atomic.Int64
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			id := fmt.Sprintf("df-%012d", i)
			if _, _, err := d.PipelineCreate(ctx, &store.PipelineCreateParams{
				Account: "123456789012", ID: id, Name: id, UniqueID: id, Description: "benchmark pipeline",
				Creator: "AKIAEXAMPLE", Now: time.Now(),
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	reportOps(b, n.Load(), start)
	b.ReportMetric(float64(n.Load())/float64(max(1, d.c.commits.Load()-commits)), "writes/commit")
}

// benchDoc is a definition document of 100 objects, about 20 KB, shaped
// like the body of a GetPipelineDefinition response.
func benchDoc(b *testing.B) []byte {
	type field struct {
		Key         string `json:"key"`
		StringValue string `json:"stringValue,omitempty"`
		RefValue    string `json:"refValue,omitempty"`
	}
	type object struct {
		ID     string  `json:"id"`
		Name   string  `json:"name"`
		Fields []field `json:"fields"`
	}
	objects := make([]object, 100)
	for i := range objects {
		id := fmt.Sprintf("Activity%03d", i)
		objects[i] = object{ID: id, Name: id, Fields: []field{
			{Key: "type", StringValue: "ShellCommandActivity"},
			{Key: "command", StringValue: fmt.Sprintf("echo %d", i)},
			{Key: "runsOn", RefValue: "Ec2Instance"},
			{Key: "schedule", RefValue: "Hourly"},
		}}
	}
	doc, err := json.Marshal(map[string]any{"pipelineObjects": objects, "parameterObjects": []any{}, "parameterValues": []any{}})
	if err != nil {
		b.Fatal(err)
	}
	return doc
}

func BenchmarkPipelineUpdateDefinition(b *testing.B) {
	d := openTemp(b)
	ctx := b.Context()
	doc := benchDoc(b)
	b.SetBytes(int64(len(doc)))
	if _, _, err := d.PipelineCreate(ctx, &store.PipelineCreateParams{
		Account: "123456789012", ID: "df-bench", Name: "bench", UniqueID: "bench", Now: time.Now(),
	}); err != nil {
		b.Fatal(err)
	}
	var ops int64
	start := time.Now()
	for b.Loop() {
		if _, err := d.PipelineUpdate(ctx, "123456789012", "df-bench", func(p *store.Pipeline) error {
			p.Latest = &store.Definition{Doc: doc, PutAt: time.Now()}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		ops++
	}
	reportOps(b, ops, start)
}
