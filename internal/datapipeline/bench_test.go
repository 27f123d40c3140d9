package datapipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/queue"
	"github.com/culvert/culvert/internal/store/sqlite"
)

// benchObjects returns a realistic definition of n objects (n ≥ 6), shaped
// like bench/load's: a Default, Schedules, Ec2Resources, and S3DataNodes in
// and out of ShellCommandActivities, 5–6 fields each, every reference
// resolving. At n = 100 its PutPipelineDefinition body is about 27 KB.
func benchObjects(n int) []PipelineObject {
	schedules := max(2, n/25)
	resources := max(1, n*15/100)
	rest := n - 1 - schedules - resources
	nodes := (rest + 1) / 2
	activities := rest - nodes

	objs := make([]PipelineObject, 0, n)
	add := func(id, name string, fields ...Field) {
		objs = append(objs, PipelineObject{ID: id, Name: name, Fields: fields})
	}
	str, ref := pipeline.String, pipeline.Ref
	schedule := func(i int) string { return fmt.Sprintf("Sched%d", i%schedules) }
	resource := func(i int) string { return fmt.Sprintf("Ec2_%02d", i%resources) }
	node := func(i int) string { return fmt.Sprintf("Node%02d", i%nodes) }

	add("Default", "Default",
		str("scheduleType", "cron"),
		str("failureAndRerunMode", "CASCADE"),
		str("role", "DataPipelineDefaultRole"),
		str("resourceRole", "DataPipelineDefaultResourceRole"),
		str("pipelineLogUri", "s3://bench-logs/"),
		ref("schedule", schedule(0)),
	)
	for i := range schedules {
		add(schedule(i), fmt.Sprintf("every %dh", 6*(i+1)),
			str("type", "Schedule"),
			str("period", fmt.Sprintf("%d hours", 6*(i+1))),
			str("startDateTime", "2024-01-01T00:00:00"),
			str("occurrences", "90"),
			ref("parent", "Default"),
		)
	}
	for i := range resources {
		add(resource(i), fmt.Sprintf("worker %d", i),
			str("type", "Ec2Resource"),
			str("instanceType", "m5.large"),
			str("terminateAfter", "2 Hours"),
			str("subnetId", fmt.Sprintf("subnet-%04d", i)),
			ref("schedule", schedule(i)),
		)
	}
	for i := range nodes {
		add(node(i), fmt.Sprintf("part %d", i),
			str("type", "S3DataNode"),
			str("directoryPath", fmt.Sprintf("s3://bench/in/%02d", i)),
			str("compression", "gzip"),
			ref("schedule", schedule(i)),
			ref("parent", "Default"),
		)
	}
	for i := range activities {
		fields := []Field{
			str("type", "ShellCommandActivity"),
			str("command", fmt.Sprintf("./etl.sh %d", i)),
			ref("input", node(i)),
			ref("output", node(i+1)),
			ref("runsOn", resource(i)),
		}
		if i > 0 {
			fields = append(fields, ref("dependsOn", fmt.Sprintf("Act%02d", i-1)))
		}
		add(fmt.Sprintf("Act%02d", i), fmt.Sprintf("etl %d", i), fields...)
	}
	return objs
}

// benchBody is the PutPipelineDefinition body for n benchmark objects.
func benchBody(tb testing.TB, pipelineID string, n int) []byte {
	tb.Helper()
	b, err := json.Marshal(&PutPipelineDefinitionInput{PipelineID: pipelineID, PipelineObjects: benchObjects(n)})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkPutPipelineDefinition measures the operation as the handler
// runs it, after the scanner: decode, validate, encode and store, against
// a real SQLite store.
func BenchmarkPutPipelineDefinition(b *testing.B) {
	ctx := awsjson.WithPrincipal(context.Background(), awsjson.Principal{AccessKeyID: "AKID", AccountID: "123456789012"})
	logger := slog.New(slog.DiscardHandler)
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(b.TempDir(), "culvert.db"), Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	q, err := queue.New(queue.Config{}, db)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := New(Config{Logger: logger}, db, q)
	if err != nil {
		b.Fatal(err)
	}
	out, err := svc.CreatePipeline(ctx, &CreatePipelineInput{Name: "bench", UniqueID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	body := benchBody(b, out.PipelineID, 100)
	op := svc.Ops()["PutPipelineDefinition"]
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := op(ctx, body)
		if err != nil {
			b.Fatal(err)
		}
		if res.(*PutPipelineDefinitionOutput).Errored {
			b.Fatal("benchmark definition has errors")
		}
	}
}

// BenchmarkDefinitionCodec compares the stages PutPipelineDefinition
// spends its CPU on: decoding the body, checking the model constraints,
// and encoding the stored document.
func BenchmarkDefinitionCodec(b *testing.B) {
	body := benchBody(b, "df-0123456789ABCDEFGHI", 100)
	var in PutPipelineDefinitionInput
	if err := json.Unmarshal(body, &in); err != nil {
		b.Fatal(err)
	}
	def := &pipeline.Definition{Objects: in.PipelineObjects}
	b.Run("decode/json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var in PutPipelineDefinitionInput
			if err := json.Unmarshal(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/hand", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var in PutPipelineDefinitionInput
			if err := in.UnmarshalAWSJSON(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("validate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := in.validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshal(def); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			appendDefinition(nil, def)
		}
	})
}
