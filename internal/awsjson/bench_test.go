package awsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Shapes resembling PutPipelineDefinitionInput, for benchmarking the
// decode that the scanner precedes.
type benchField struct {
	Key         string `json:"key"`
	StringValue string `json:"stringValue,omitempty"`
	RefValue    string `json:"refValue,omitempty"`
}

type benchObject struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Fields []benchField `json:"fields"`
}

type benchPutInput struct {
	PipelineID      string        `json:"pipelineId"`
	PipelineObjects []benchObject `json:"pipelineObjects"`
}

// putDefinitionBody returns a PutPipelineDefinition-like body with n
// objects (about 200 bytes each).
func putDefinitionBody(n int) []byte {
	in := benchPutInput{PipelineID: "df-0123456789ABCDEFGHIJ"}
	for i := range n {
		in.PipelineObjects = append(in.PipelineObjects, benchObject{
			ID:   fmt.Sprintf("ShellActivity%d", i),
			Name: fmt.Sprintf("Shell activity number %d", i),
			Fields: []benchField{
				{Key: "type", StringValue: "ShellCommandActivity"},
				{Key: "command", StringValue: "echo 'hello' > ${OUTPUT1_STAGING_DIR}/out.txt"},
				{Key: "runsOn", RefValue: "Ec2Instance"},
				{Key: "schedule", RefValue: "DefaultSchedule"},
			},
		})
	}
	b, err := json.Marshal(in)
	if err != nil {
		panic(err)
	}
	return b
}

func TestPutDefinitionBodyValid(t *testing.T) {
	t.Parallel()
	body := putDefinitionBody(100)
	if err := validate(body, DefaultMaxDepth); err != nil {
		t.Fatal(err)
	}
	if n := len(body); n < 15<<10 || n > 30<<10 {
		t.Errorf("benchmark body is %d bytes, want about 20KB", n)
	}
}

func BenchmarkScan(b *testing.B) {
	body := putDefinitionBody(100)
	b.Run("scanner", func(b *testing.B) {
		var s scanner
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := s.scan(body, DefaultMaxDepth); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if !json.Valid(body) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var in benchPutInput
			if err := json.Unmarshal(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// resettableBody is a request body that can be rewound between
// iterations without allocating.
type resettableBody struct{ bytes.Reader }

func (*resettableBody) Close() error { return nil }

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// counts the handler's allocations rather than httptest's.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

type describeInput struct {
	PipelineIDs []string `json:"pipelineIds"`
}

type describeOutput struct {
	PipelineDescriptionList []benchObject `json:"pipelineDescriptionList"`
}

func BenchmarkServeHTTP(b *testing.B) {
	h := &Handler{
		Target: "DataPipeline",
		Ops: map[string]Op{
			"DescribePipelines": Handle(func(_ context.Context, in *describeInput) (*describeOutput, error) {
				return &describeOutput{PipelineDescriptionList: []benchObject{{
					ID:     in.PipelineIDs[0],
					Name:   "my-pipeline",
					Fields: []benchField{{Key: "@pipelineState", StringValue: "SCHEDULED"}},
				}}}, nil
			}),
		},
		Verify: func(*http.Request, []byte) (Principal, error) {
			return Principal{AccessKeyID: "AKIDEXAMPLE", AccountID: "123456789012"}, nil
		},
		Logger: slog.New(slog.DiscardHandler),
	}
	check := func(b *testing.B, w *discardWriter) {
		if w.status != 200 && w.status != 0 { // 0: this goroutine got no iterations
			b.Fatalf("status %d", w.status)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		check(b, serveEach(h, b.Loop))
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) { check(b, serveEach(h, pb.Next)) })
	})
}

// describeBody is the request body of the DescribePipelines benchmarks.
var describeBody = []byte(`{"pipelineIds":["df-0123456789ABCDEFGHIJ"]}`)

// serveEach serves one DescribePipelines request through h while next
// reports true, reusing the request and refilling its body, and returns
// the writer of the last response.
func serveEach(h http.Handler, next func() bool) *discardWriter {
	rb := &resettableBody{}
	r := httptest.NewRequest("POST", "/", nil)
	r.Body = rb
	r.ContentLength = int64(len(describeBody))
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("X-Amz-Target", "DataPipeline.DescribePipelines")
	w := &discardWriter{h: http.Header{}}
	for next() {
		rb.Reset(describeBody)
		clear(w.h)
		h.ServeHTTP(w, r)
	}
	return w
}

// BenchmarkServeHTTPError measures the error path, which hostile clients
// can drive as hard as the success path.
func BenchmarkServeHTTPError(b *testing.B) {
	h := &Handler{Target: "DataPipeline", Logger: slog.New(slog.DiscardHandler)}
	r := httptest.NewRequest("POST", "/", nil)
	rb := &resettableBody{}
	r.Body = rb
	r.Header.Set("X-Amz-Target", "DataPipeline.Nope")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rb.Reset([]byte(`{}`))
		clear(w.h)
		h.ServeHTTP(w, r)
	}
	if w.status != 400 || !strings.Contains(w.h.Get("X-Amzn-ErrorType"), "UnknownOperation") {
		b.Fatalf("status %d", w.status)
	}
}
