package datapipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/datapipeline"
	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/queue"
	"github.com/culvert/culvert/internal/scheduler"
	"github.com/culvert/culvert/internal/store/sqlite"
)

// These tests drive the operations through a Service over a real SQLite
// file, each subtest with its own store.

var principalB = awsjson.Principal{AccessKeyID: "AKIDB", AccountID: "210987654321"}

type testBundle struct {
	db   *sqlite.DB
	ctx  context.Context // account A (principalA)
	ctxB context.Context // account B (principalB)
	now  func() time.Time
	loop *scheduler.Loop // made by schedule on first use
}

// schedule runs one pass of the scheduler over the store, as the leader
// of a running server does after every change.
func (b *testBundle) schedule(t *testing.T) {
	t.Helper()
	if b.loop == nil {
		l, err := scheduler.NewLoop(scheduler.LoopConfig{Store: b.db, Now: b.now, Logger: discardLogger})
		if err != nil {
			t.Fatal(err)
		}
		b.loop = l
	}
	b.loop.Pass(context.Background())
}

type setupOpts struct {
	wait       time.Duration    // PollForTask hold; default 50ms
	now        func() time.Time // default time.Now
	maxObjects int              // objects per definition; default AWS's 100
}

func setup(t *testing.T, opts ...setupOpts) (*datapipeline.Service, *testBundle) {
	t.Helper()
	var o setupOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.wait == 0 {
		o.wait = 50 * time.Millisecond
	}
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "culvert.db"), Logger: discardLogger})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	q, err := queue.New(queue.Config{Wait: o.wait}, db)
	if err != nil {
		t.Fatalf("queue.New: %v", err)
	}
	svc, err := datapipeline.New(datapipeline.Config{Now: o.now, Logger: discardLogger,
		Limits: pipeline.Limits{MaxObjects: o.maxObjects}}, db, q)
	if err != nil {
		t.Fatalf("datapipeline.New: %v", err)
	}
	now := o.now
	if now == nil {
		now = time.Now
	}
	return svc, &testBundle{db: db, ctx: ctxAs(principalA), ctxB: ctxAs(principalB), now: now}
}

// call runs an operation on a raw JSON body, the way the HTTP handler
// does; body is a format string.
func call(t *testing.T, svc *datapipeline.Service, ctx context.Context, op, body string, args ...any) (any, error) {
	t.Helper()
	fn := svc.Ops()[op]
	if fn == nil {
		t.Fatalf("no operation %s", op)
	}
	return fn(ctx, []byte(fmt.Sprintf(body, args...)))
}

// mustCall is call for requests that must succeed.
func mustCall(t *testing.T, svc *datapipeline.Service, ctx context.Context, op, body string, args ...any) any {
	t.Helper()
	out, err := call(t, svc, ctx, op, body, args...)
	if err != nil {
		t.Fatalf("%s(%s) error: %v", op, fmt.Sprintf(body, args...), err)
	}
	return out
}

// wantCode fails unless err is a *datapipeline.Error with the code, and
// returns its message.
func wantCode(t *testing.T, err error, code string) string {
	t.Helper()
	var e *datapipeline.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
	return e.Message
}

func create(t *testing.T, svc *datapipeline.Service, ctx context.Context, name, uniqueID string) string {
	t.Helper()
	out, err := svc.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: name, UniqueID: uniqueID})
	if err != nil {
		t.Fatalf("CreatePipeline(%s, %s) error: %v", name, uniqueID, err)
	}
	return out.PipelineID
}

func put(t *testing.T, svc *datapipeline.Service, ctx context.Context, id, objects string) *datapipeline.PutPipelineDefinitionOutput {
	t.Helper()
	return mustCall(t, svc, ctx, "PutPipelineDefinition", `{"pipelineId":%q,"pipelineObjects":%s}`, id, objects).(*datapipeline.PutPipelineDefinitionOutput)
}

func getDefinition(t *testing.T, svc *datapipeline.Service, ctx context.Context, id, version string) string {
	t.Helper()
	out, err := svc.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineID: id, Version: version})
	if err != nil {
		t.Fatalf("GetPipelineDefinition(%s, %q) error: %v", id, version, err)
	}
	return string(out.RawJSON())
}

func describe(t *testing.T, svc *datapipeline.Service, ctx context.Context, id string) datapipeline.PipelineDescription {
	t.Helper()
	out, err := svc.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIDs: []string{id}})
	if err != nil {
		t.Fatalf("DescribePipelines(%s) error: %v", id, err)
	}
	if len(out.PipelineDescriptionList) != 1 {
		t.Fatalf("DescribePipelines(%s) returned %d descriptions", id, len(out.PipelineDescriptionList))
	}
	return out.PipelineDescriptionList[0]
}

// fieldMap returns the string fields of a description by key; it fails on
// repeated keys, which a pipeline description never has.
func fieldMap(t *testing.T, fs []datapipeline.Field) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, f := range fs {
		if _, dup := m[f.Key]; dup {
			t.Errorf("field %s repeated", f.Key)
		}
		m[f.Key] = f.Value()
	}
	return m
}

// cleanObjects is a definition without errors: Default, two activities
// (B with an explicit parent), the parent P and a resource R.
const cleanObjects = `[
{"id":"Default","name":"Default","fields":[{"key":"scheduleType","stringValue":"ondemand"},{"key":"failureAndRerunMode","stringValue":"CASCADE"}]},
{"id":"A","name":"Shell A","fields":[{"key":"type","stringValue":"ShellCommandActivity"},{"key":"command","stringValue":"echo a"},{"key":"myDate","stringValue":"2024-01-10T00:00:00"},{"key":"runsOn","refValue":"R"}]},
{"id":"B","name":"Shell B","fields":[{"key":"type","stringValue":"ShellCommandActivity"},{"key":"parent","refValue":"P"},{"key":"dependsOn","refValue":"A"},{"key":"myDate","stringValue":"2024-02-10T00:00:00"}]},
{"id":"P","name":"Parent","fields":[{"key":"maximumRetries","stringValue":"2"},{"key":"command","stringValue":"echo b"},{"key":"workerGroup","stringValue":"wg"}]},
{"id":"R","name":"Resource","fields":[{"key":"type","stringValue":"Ec2Resource"},{"key":"role","stringValue":"DataPipelineDefaultRole"},{"key":"resourceRole","stringValue":"DataPipelineDefaultResourceRole"},{"key":"terminateAfter","stringValue":"1 hour"}]}
]`

// otherObjects is a second clean definition, to tell versions apart.
const otherObjects = `[{"id":"Default","name":"Default","fields":[{"key":"scheduleType","stringValue":"cron"}]}]`

// compact returns the compact form of a JSON text.
func compact(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON in test: %v\n%s", err, s)
	}
	// Re-encoding would sort nothing (arrays) but would reorder object
	// members, so strip whitespace instead.
	var b strings.Builder
	inString, escaped := false, false
	for _, r := range s {
		switch {
		case inString:
			b.WriteRune(r)
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case r == '"':
				inString = false
			}
		case r == '"':
			inString = true
			b.WriteRune(r)
		case r == ' ' || r == '\n' || r == '\t' || r == '\r':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func definitionDoc(t *testing.T, objects string) string {
	t.Helper()
	return `{"pipelineObjects":` + compact(t, objects) + `}`
}

var pipelineIDPattern = regexp.MustCompile(`^df-[0-9A-Z]{19}$`)

func TestCreatePipelineIdempotency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		deleteFirst  bool
		secondCtxB   bool
		secondUnique string
		wantSame     bool
	}{
		{name: "same name and uniqueId returns the same pipeline", secondUnique: "u1", wantSame: true},
		{name: "another uniqueId creates a new pipeline", secondUnique: "u2"},
		{name: "same pair in another account is another pipeline", secondCtxB: true, secondUnique: "u1"},
		{name: "same pair after DeletePipeline creates a new pipeline", deleteFirst: true, secondUnique: "u1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			first := create(t, svc, b.ctx, "p", "u1")
			if tc.deleteFirst {
				mustCall(t, svc, b.ctx, "DeletePipeline", `{"pipelineId":%q}`, first)
			}
			ctx := b.ctx
			if tc.secondCtxB {
				ctx = b.ctxB
			}
			second := create(t, svc, ctx, "p", tc.secondUnique)
			for _, id := range []string{first, second} {
				if !pipelineIDPattern.MatchString(id) {
					t.Errorf("pipeline id %q does not match %s", id, pipelineIDPattern)
				}
			}
			if got := first == second; got != tc.wantSame {
				t.Errorf("first %s, second %s: same = %v, want %v", first, second, got, tc.wantSame)
			}
		})
	}
}

func TestDescribePipelinesLifecycle(t *testing.T) {
	t.Parallel()
	created := time.Date(2024, 5, 6, 7, 8, 9, 500, time.UTC)
	svc, b := setup(t, setupOpts{now: func() time.Time { return created }})
	out, err := svc.CreatePipeline(b.ctx, &datapipeline.CreatePipelineInput{
		Name: "nightly", UniqueID: "tok-1", Description: "the nightly job",
		Tags: []datapipeline.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: ""}},
	})
	if err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	id := out.PipelineID

	d := describe(t, svc, b.ctx, id)
	wantFields := map[string]string{
		"@pipelineState":  "PENDING",
		"@creationTime":   "2024-05-06T07:08:09",
		"@sphere":         "PIPELINE",
		"@id":             id,
		"name":            "nightly",
		"description":     "the nightly job",
		"uniqueId":        "tok-1",
		"@accountId":      principalA.AccountID,
		"@userId":         principalA.AccountID,
		"pipelineCreator": principalA.AccountID, // see the report: AWS shows the creating IAM identity
	}
	if diff := cmp.Diff(wantFields, fieldMap(t, d.Fields)); diff != "" {
		t.Errorf("PENDING fields mismatch (-want +got):\n%s", diff)
	}
	if d.PipelineID != id || d.Name != "nightly" || d.Description != "the nightly job" {
		t.Errorf("top level = (%s, %s, %s), want (%s, nightly, the nightly job)", d.PipelineID, d.Name, d.Description, id)
	}
	if diff := cmp.Diff([]datapipeline.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: ""}}, d.Tags); diff != "" {
		t.Errorf("tags mismatch (-want +got):\n%s", diff)
	}

	put(t, svc, b.ctx, id, cleanObjects)
	mustCall(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
	f := fieldMap(t, describe(t, svc, b.ctx, id).Fields)
	if f["@pipelineState"] != "SCHEDULED" {
		t.Errorf("after ActivatePipeline @pipelineState = %q, want SCHEDULED", f["@pipelineState"])
	}
	if f["@firstActivationTime"] != "2024-05-06T07:08:09" || f["@version"] != "1" {
		t.Errorf("after ActivatePipeline @firstActivationTime = %q, @version = %q", f["@firstActivationTime"], f["@version"])
	}

	mustCall(t, svc, b.ctx, "DeactivatePipeline", `{"pipelineId":%q}`, id)
	f = fieldMap(t, describe(t, svc, b.ctx, id).Fields)
	if f["@pipelineState"] != "DEACTIVATING" {
		t.Errorf("after DeactivatePipeline @pipelineState = %q, want DEACTIVATING until the scheduler has run", f["@pipelineState"])
	}
	b.schedule(t)
	f = fieldMap(t, describe(t, svc, b.ctx, id).Fields)
	if f["@pipelineState"] != "INACTIVE" {
		t.Errorf("after DeactivatePipeline and a scheduler pass @pipelineState = %q, want INACTIVE", f["@pipelineState"])
	}
	mustCall(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
	if got := fieldMap(t, describe(t, svc, b.ctx, id).Fields)["@pipelineState"]; got != "SCHEDULED" {
		t.Errorf("after reactivation @pipelineState = %q, want SCHEDULED", got)
	}
}

func TestDescribePipelines(t *testing.T) {
	t.Parallel()
	t.Run("tags and description absent", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		id := create(t, svc, b.ctx, "p", "u")
		out := mustCall(t, svc, b.ctx, "DescribePipelines", `{"pipelineIds":[%q]}`, id)
		wire := string(mustJSON(t, out))
		if !strings.Contains(wire, `"tags":[]`) {
			t.Errorf("wire output %s, want \"tags\":[] for a pipeline without tags", wire)
		}
		if strings.Contains(wire, `"description"`) {
			t.Errorf("wire output %s has a description though none was given", wire)
		}
	})
	t.Run("several ids in request order", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		var ids []string
		for i := range 25 {
			ids = append(ids, create(t, svc, b.ctx, fmt.Sprint("p", i), "u"))
		}
		slices.Reverse(ids)
		out, err := svc.DescribePipelines(b.ctx, &datapipeline.DescribePipelinesInput{PipelineIDs: ids})
		if err != nil {
			t.Fatalf("DescribePipelines(25 ids): %v", err)
		}
		var got []string
		for _, d := range out.PipelineDescriptionList {
			got = append(got, d.PipelineID)
		}
		if diff := cmp.Diff(ids, got); diff != "" {
			t.Errorf("ids mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("more than 25 ids", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		id := create(t, svc, b.ctx, "p", "u")
		_, err := svc.DescribePipelines(b.ctx, &datapipeline.DescribePipelinesInput{PipelineIDs: slices.Repeat([]string{id}, 26)})
		if msg := wantCode(t, err, datapipeline.CodeInvalidRequestException); !strings.Contains(msg, "'pipelineIds'") {
			t.Errorf("message %q does not name pipelineIds", msg)
		}
	})
	t.Run("one unknown id fails the call", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		id := create(t, svc, b.ctx, "p", "u")
		_, err := call(t, svc, b.ctx, "DescribePipelines", `{"pipelineIds":[%q,"df-0000000000000000000"]}`, id)
		if msg := wantCode(t, err, datapipeline.CodePipelineNotFoundException); !strings.Contains(msg, "df-0000000000000000000") {
			t.Errorf("message %q does not name the unknown id", msg)
		}
	})
}

// pipelineOps are the pipeline-scoped operations with a valid body for
// pipeline %[1]q.
var pipelineOps = []struct {
	op, body string
}{
	{"ActivatePipeline", `{"pipelineId":%[1]q}`},
	{"AddTags", `{"pipelineId":%[1]q,"tags":[{"key":"k","value":"v"}]}`},
	{"DeactivatePipeline", `{"pipelineId":%[1]q}`},
	{"DeletePipeline", `{"pipelineId":%[1]q}`},
	{"DescribeObjects", `{"pipelineId":%[1]q,"objectIds":["A"]}`},
	{"DescribePipelines", `{"pipelineIds":[%[1]q]}`},
	{"EvaluateExpression", `{"pipelineId":%[1]q,"objectId":"A","expression":"hello"}`},
	{"GetPipelineDefinition", `{"pipelineId":%[1]q}`},
	{"PutPipelineDefinition", `{"pipelineId":%[1]q,"pipelineObjects":` + otherObjects + `}`},
	{"QueryObjects", `{"pipelineId":%[1]q,"sphere":"COMPONENT"}`},
	{"RemoveTags", `{"pipelineId":%[1]q,"tagKeys":["k"]}`},
	{"SetStatus", `{"pipelineId":%[1]q,"objectIds":["A"],"status":"PAUSE"}`},
	{"ValidatePipelineDefinition", `{"pipelineId":%[1]q,"pipelineObjects":` + otherObjects + `}`},
}

func TestTenancy(t *testing.T) {
	t.Parallel()
	for _, tc := range pipelineOps {
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			id := create(t, svc, b.ctx, "p", "u")
			put(t, svc, b.ctx, id, cleanObjects)
			before := getDefinition(t, svc, b.ctx, id, "")

			_, err := call(t, svc, b.ctxB, tc.op, tc.body, id)
			wantCode(t, err, datapipeline.CodePipelineNotFoundException)

			// Account A's pipeline is untouched.
			if got := getDefinition(t, svc, b.ctx, id, ""); got != before {
				t.Errorf("definition changed by account B's %s: %s", tc.op, got)
			}
			if f := fieldMap(t, describe(t, svc, b.ctx, id).Fields); f["@pipelineState"] != "PENDING" {
				t.Errorf("state changed by account B's %s: %s", tc.op, f["@pipelineState"])
			}
			listB := mustCall(t, svc, b.ctxB, "ListPipelines", `{}`).(*datapipeline.ListPipelinesOutput)
			if len(listB.PipelineIDList) != 0 {
				t.Errorf("ListPipelines of account B = %v, want none", listB.PipelineIDList)
			}
			listA := mustCall(t, svc, b.ctx, "ListPipelines", `{}`).(*datapipeline.ListPipelinesOutput)
			if len(listA.PipelineIDList) != 1 || listA.PipelineIDList[0].ID != id {
				t.Errorf("ListPipelines of account A = %v, want [%s]", listA.PipelineIDList, id)
			}
		})
	}
}

func TestDeletedPipeline(t *testing.T) {
	t.Parallel()
	for _, tc := range pipelineOps {
		want := datapipeline.CodePipelineDeletedException
		if tc.op == "DeletePipeline" {
			// The model lists no PipelineDeletedException for DeletePipeline.
			want = datapipeline.CodePipelineNotFoundException
		}
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			id := create(t, svc, b.ctx, "p", "u")
			put(t, svc, b.ctx, id, cleanObjects)
			mustCall(t, svc, b.ctx, "DeletePipeline", `{"pipelineId":%q}`, id)

			_, err := call(t, svc, b.ctx, tc.op, tc.body, id)
			wantCode(t, err, want)

			list := mustCall(t, svc, b.ctx, "ListPipelines", `{}`).(*datapipeline.ListPipelinesOutput)
			if len(list.PipelineIDList) != 0 {
				t.Errorf("ListPipelines after delete = %v, want none", list.PipelineIDList)
			}
		})
	}
}

func TestListPipelinesPaging(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	var want []datapipeline.PipelineIDName
	for i := range 60 {
		name := fmt.Sprintf("p%02d", i)
		want = append(want, datapipeline.PipelineIDName{ID: create(t, svc, b.ctx, name, "u"), Name: name})
	}
	create(t, svc, b.ctxB, "other account", "u")

	var (
		got   []datapipeline.PipelineIDName
		sizes []int
		input = &datapipeline.ListPipelinesInput{}
	)
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("ListPipelines does not stop paging")
		}
		out, err := svc.ListPipelines(b.ctx, input)
		if err != nil {
			t.Fatalf("ListPipelines(marker %q): %v", input.Marker, err)
		}
		if out.HasMoreResults != (out.Marker != "") {
			t.Errorf("page %d: hasMoreResults %v with marker %q; they must agree", page, out.HasMoreResults, out.Marker)
		}
		got = append(got, out.PipelineIDList...)
		sizes = append(sizes, len(out.PipelineIDList))
		if !out.HasMoreResults {
			break
		}
		input = &datapipeline.ListPipelinesInput{Marker: out.Marker}
	}
	if diff := cmp.Diff([]int{25, 25, 10}, sizes); diff != "" {
		t.Errorf("page sizes mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pipelines mismatch (-want +got):\n%s", diff)
	}

	for _, marker := range []string{"garbage", "cDotMQ" /* "p:-1" */, "ZDoxMA" /* a DescribeObjects marker, "d:10" */, "!!!"} {
		_, err := svc.ListPipelines(b.ctx, &datapipeline.ListPipelinesInput{Marker: marker})
		wantCode(t, err, datapipeline.CodeInvalidRequestException)
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	tags := func(kv ...string) []datapipeline.Tag {
		var out []datapipeline.Tag
		for i := 0; i < len(kv); i += 2 {
			out = append(out, datapipeline.Tag{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	ten := func() []datapipeline.Tag {
		var out []datapipeline.Tag
		for i := range 10 {
			out = append(out, datapipeline.Tag{Key: fmt.Sprint("k", i), Value: "v"})
		}
		return out
	}
	tests := []struct {
		name    string
		initial []datapipeline.Tag
		add     []datapipeline.Tag
		remove  []string
		wantErr bool
		want    []datapipeline.Tag
	}{
		{name: "add", initial: tags("a", "1"), add: tags("b", "2"), want: tags("a", "1", "b", "2")},
		{name: "add updates an existing key", initial: tags("a", "1", "b", "2"), add: tags("a", "9"), want: tags("a", "9", "b", "2")},
		{name: "update at the limit", initial: ten(), add: tags("k3", "new"), want: func() []datapipeline.Tag { t := ten(); t[3].Value = "new"; return t }()},
		{name: "11th tag", initial: ten(), add: tags("k10", "v"), wantErr: true, want: ten()},
		{name: "remove", initial: tags("a", "1", "b", "2", "c", "3"), remove: []string{"b"}, want: tags("a", "1", "c", "3")},
		{name: "remove absent key", initial: tags("a", "1"), remove: []string{"zzz"}, want: tags("a", "1")},
		{name: "remove all", initial: tags("a", "1"), remove: []string{"a"}, want: []datapipeline.Tag{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			out, err := svc.CreatePipeline(b.ctx, &datapipeline.CreatePipelineInput{Name: "p", UniqueID: "u", Tags: tc.initial})
			if err != nil {
				t.Fatalf("CreatePipeline: %v", err)
			}
			id := out.PipelineID
			if tc.add != nil {
				_, err = svc.AddTags(b.ctx, &datapipeline.AddTagsInput{PipelineID: id, Tags: tc.add})
			} else {
				_, err = svc.RemoveTags(b.ctx, &datapipeline.RemoveTagsInput{PipelineID: id, TagKeys: tc.remove})
			}
			if tc.wantErr {
				wantCode(t, err, datapipeline.CodeInvalidRequestException)
			} else if err != nil {
				t.Fatalf("error: %v", err)
			}
			if diff := cmp.Diff(tc.want, describe(t, svc, b.ctx, id).Tags); diff != "" {
				t.Errorf("tags mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
