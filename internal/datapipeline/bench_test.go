package datapipeline

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/pipeline/pipelinetest"
	"github.com/culvert/culvert/internal/queue"
	"github.com/culvert/culvert/internal/store/sqlite"
)

// benchBody is the PutPipelineDefinition body for n benchmark objects.
func benchBody(tb testing.TB, pipelineID string, n int) []byte {
	tb.Helper()
	b, err := json.Marshal(&PutPipelineDefinitionInput{PipelineID: pipelineID, PipelineObjects: pipelinetest.Definition(n)})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkPutPipelineDefinition measures the operation as the handler
// runs it, after the scanner: decode, validate, encode and store, against
// a real SQLite store.
func BenchmarkPutPipelineDefinition(b *testing.B) {
	ctx, svc, pipelineID := benchService(b)
	body := benchBody(b, pipelineID, 100)
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

// benchService returns a Service over a real SQLite store with one
// pipeline, and a context authenticated for its account.
func benchService(b *testing.B) (context.Context, *Service, string) {
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
	return ctx, svc, out.PipelineID
}

// BenchmarkDescribeObjects measures DescribeObjects of 25 components of the
// 100-object benchmark definition, as bench/load calls it: without
// evaluateExpressions, with it on objects that hold no expression, and with
// it on objects whose fields hold expressions.
func BenchmarkDescribeObjects(b *testing.B) {
	ctx, svc, pipelineID := benchService(b)
	objs := pipelinetest.Definition(100)
	var ids []string
	for _, o := range objs[len(objs)-25:] {
		ids = append(ids, o.ID)
	}
	put := func(objs []pipeline.Object) {
		b.Helper()
		out, err := svc.PutPipelineDefinition(ctx, &PutPipelineDefinitionInput{PipelineID: pipelineID, PipelineObjects: objs})
		if err != nil {
			b.Fatal(err)
		}
		if out.Errored {
			b.Fatal("benchmark definition has errors")
		}
	}
	run := func(b *testing.B, evaluate bool) {
		in := &DescribeObjectsInput{PipelineID: pipelineID, ObjectIDs: ids, EvaluateExpressions: evaluate}
		b.ReportAllocs()
		for b.Loop() {
			out, err := svc.DescribeObjects(ctx, in)
			if err != nil {
				b.Fatal(err)
			}
			if len(out.PipelineObjects) != len(ids) {
				b.Fatalf("%d objects, want %d", len(out.PipelineObjects), len(ids))
			}
		}
	}
	put(objs)
	b.Run("plain", func(b *testing.B) { run(b, false) })
	b.Run("evaluate/none", func(b *testing.B) { run(b, true) })

	// Every activity's command and every node's path use expressions,
	// through references and inheritance.
	objs[0].Fields = append(objs[0].Fields, pipeline.String("myRoot", "s3://bench/#{@pipelineId}"))
	for i := range objs {
		for j, f := range objs[i].Fields {
			switch f.Key {
			case "directoryPath":
				objs[i].Fields[j] = pipeline.String(f.Key, "#{myRoot}/in/#{name}")
			case "command":
				objs[i].Fields[j] = pipeline.String(f.Key, *f.StringValue+" #{input.directoryPath} #{output.directoryPath}")
			}
		}
	}
	put(objs)
	b.Run("evaluate/expr", func(b *testing.B) { run(b, true) })
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
