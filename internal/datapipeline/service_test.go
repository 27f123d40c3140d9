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
	"github.com/culvert/culvert/internal/store"
	"github.com/culvert/culvert/internal/store/sqlite"
)

// These tests drive the operations through a Service over a real SQLite
// file, each subtest with its own store.

var principalB = awsjson.Principal{AccessKeyID: "AKIDB", AccountID: "210987654321"}

type testBundle struct {
	db   *sqlite.DB
	ctx  context.Context // account A (principalA)
	ctxB context.Context // account B (principalB)
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
	return svc, &testBundle{db: db, ctx: ctxAs(principalA), ctxB: ctxAs(principalB)}
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
{"id":"A","name":"Shell A","fields":[{"key":"type","stringValue":"ShellCommandActivity"},{"key":"command","stringValue":"echo a"},{"key":"startDateTime","stringValue":"2024-01-10T00:00:00"},{"key":"runsOn","refValue":"R"}]},
{"id":"B","name":"Shell B","fields":[{"key":"type","stringValue":"ShellCommandActivity"},{"key":"parent","refValue":"P"},{"key":"dependsOn","refValue":"A"},{"key":"startDateTime","stringValue":"2024-02-10T00:00:00"}]},
{"id":"P","name":"Parent","fields":[{"key":"maximumRetries","stringValue":"2"}]},
{"id":"R","name":"Resource","fields":[{"key":"type","stringValue":"Ec2Resource"}]}
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
	if f["@pipelineState"] != "INACTIVE" {
		t.Errorf("after DeactivatePipeline @pipelineState = %q, want INACTIVE", f["@pipelineState"])
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

func TestDefinitionRoundTrip(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	id := create(t, svc, b.ctx, "p", "u")
	// Field order is the user's, repeated keys form lists, and shell text
	// with &, < and > comes back as it was sent.
	doc := `{"pipelineObjects":[` +
		`{"id":"Default","name":"Default","fields":[{"key":"zeta","stringValue":"1"},{"key":"alpha","stringValue":"2"},{"key":"scheduleType","stringValue":"ondemand"}]},` +
		`{"id":"S","name":"Shell","fields":[{"key":"type","stringValue":"ShellCommandActivity"},{"key":"command","stringValue":"a && b > /tmp/x < /dev/null"},` +
		`{"key":"dependsOn","refValue":"Default"},{"key":"dependsOn","refValue":"S2"},{"key":"scriptArgument","stringValue":"x"},{"key":"scriptArgument","stringValue":"ünïcödé \"quoted\""}]},` +
		`{"id":"S2","name":"Second","fields":[{"key":"type","stringValue":"ShellCommandActivity"}]}],` +
		`"parameterObjects":[{"id":"myVar","attributes":[{"key":"type","stringValue":"String"},{"key":"default","stringValue":"d"}]}],` +
		`"parameterValues":[{"id":"myVar","stringValue":"one"},{"id":"myVar","stringValue":"two"}]}`
	out := mustCall(t, svc, b.ctx, "PutPipelineDefinition", `{"pipelineId":%q,%s`, id, doc[1:]).(*datapipeline.PutPipelineDefinitionOutput)
	if out.Errored {
		t.Fatalf("PutPipelineDefinition errored: %+v", out.ValidationErrors)
	}
	if got := getDefinition(t, svc, b.ctx, id, ""); got != doc {
		t.Errorf("GetPipelineDefinition returned\n%s\nwant\n%s", got, doc)
	}
	if got := getDefinition(t, svc, b.ctx, id, "LATEST"); got != doc {
		t.Errorf("GetPipelineDefinition(LATEST) returned\n%s\nwant\n%s", got, doc)
	}
	_, err := call(t, svc, b.ctx, "GetPipelineDefinition", `{"pipelineId":%q,"version":"3"}`, id)
	wantCode(t, err, datapipeline.CodeInvalidRequestException)

	objs, err := svc.DescribeObjects(b.ctx, &datapipeline.DescribeObjectsInput{PipelineID: id, ObjectIDs: []string{"S"}})
	if err != nil {
		t.Fatalf("DescribeObjects: %v", err)
	}
	if len(objs.PipelineObjects) != 1 || !strings.Contains(string(objs.PipelineObjects[0]), `"a && b > /tmp/x < /dev/null"`) {
		t.Errorf("DescribeObjects(S) = %s, want the command as it was sent", objs.PipelineObjects)
	}
}

func TestDefinitionVersions(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	id := create(t, svc, b.ctx, "p", "u")
	empty := `{"pipelineObjects":[]}`
	if got := getDefinition(t, svc, b.ctx, id, ""); got != empty {
		t.Errorf("latest before any put = %s, want %s", got, empty)
	}
	put(t, svc, b.ctx, id, cleanObjects)
	first := definitionDoc(t, cleanObjects)
	if got := getDefinition(t, svc, b.ctx, id, "latest"); got != first {
		t.Errorf("latest = %s, want %s", got, first)
	}
	if got := getDefinition(t, svc, b.ctx, id, "active"); got != empty {
		t.Errorf("active before activation = %s, want %s", got, empty)
	}
	mustCall(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
	if got := getDefinition(t, svc, b.ctx, id, "active"); got != first {
		t.Errorf("active after activation = %s, want %s", got, first)
	}
	put(t, svc, b.ctx, id, otherObjects)
	if got := getDefinition(t, svc, b.ctx, id, "latest"); got != definitionDoc(t, otherObjects) {
		t.Errorf("latest after second put = %s, want %s", got, definitionDoc(t, otherObjects))
	}
	if got := getDefinition(t, svc, b.ctx, id, "active"); got != first {
		t.Errorf("active after second put = %s, want the activated %s", got, first)
	}
}

// manyObjects returns n valid objects.
func manyObjects(n int) string {
	objs := make([]string, n)
	for i := range objs {
		objs[i] = fmt.Sprintf(`{"id":"o%d","name":"o%d","fields":[{"key":"k","stringValue":"v"}]}`, i, i)
	}
	return "[" + strings.Join(objs, ",") + "]"
}

func TestPutPipelineDefinitionFatal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		objects  string
		finished bool
	}{
		{name: "object without id", objects: `[{"name":"n","fields":[{"key":"k","stringValue":"v"}]}]`},
		{name: "object with empty id", objects: `[{"id":"","name":"n","fields":[{"key":"k","stringValue":"v"}]}]`},
		{name: "object without name", objects: `[{"id":"x","fields":[{"key":"k","stringValue":"v"}]}]`},
		{name: "empty stringValue", objects: `[{"id":"x","name":"x","fields":[{"key":"k","stringValue":""}]}]`},
		{name: "empty refValue", objects: `[{"id":"x","name":"x","fields":[{"key":"k","refValue":""}]}]`},
		{name: "field without value", objects: `[{"id":"x","name":"x","fields":[{"key":"k"}]}]`},
		{name: "101 objects", objects: manyObjects(101)},
		{name: "FINISHED pipeline", objects: otherObjects, finished: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			id := create(t, svc, b.ctx, "p", "u")
			put(t, svc, b.ctx, id, cleanObjects)
			before := getDefinition(t, svc, b.ctx, id, "")
			if tc.finished {
				_, err := b.db.PipelineUpdate(b.ctx, principalA.AccountID, id, func(p *store.Pipeline) error {
					p.State = pipeline.StateFinished
					return nil
				})
				if err != nil {
					t.Fatalf("PipelineUpdate: %v", err)
				}
			}
			_, err := call(t, svc, b.ctx, "PutPipelineDefinition", `{"pipelineId":%q,"pipelineObjects":%s}`, id, tc.objects)
			wantCode(t, err, datapipeline.CodeInvalidRequestException)
			if got := getDefinition(t, svc, b.ctx, id, ""); got != before {
				t.Errorf("a rejected put changed the definition to %s", got)
			}
		})
	}
	t.Run("100 objects", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		id := create(t, svc, b.ctx, "p", "u")
		if out := put(t, svc, b.ctx, id, manyObjects(100)); out.Errored {
			t.Errorf("100 objects errored: %+v", out.ValidationErrors)
		}
	})
}

func TestPutPipelineDefinitionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		objects string
		wantID  string // the object the error is reported on
	}{
		{name: "reference to a missing object", wantID: "A",
			objects: `[{"id":"A","name":"A","fields":[{"key":"runsOn","refValue":"Nope"}]}]`},
		{name: "duplicate id", wantID: "A",
			objects: `[{"id":"A","name":"A","fields":[{"key":"k","stringValue":"1"}]},{"id":"A","name":"A2","fields":[{"key":"k","stringValue":"2"}]}]`},
		{name: "@ key", wantID: "A",
			objects: `[{"id":"A","name":"A","fields":[{"key":"@status","stringValue":"RUNNING"}]}]`},
		{name: "parent cycle", wantID: "A",
			objects: `[{"id":"A","name":"A","fields":[{"key":"parent","refValue":"B"}]},{"id":"B","name":"B","fields":[{"key":"parent","refValue":"A"}]}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			id := create(t, svc, b.ctx, "p", "u")

			vout := mustCall(t, svc, b.ctx, "ValidatePipelineDefinition", `{"pipelineId":%q,"pipelineObjects":%s}`, id, tc.objects).(*datapipeline.ValidatePipelineDefinitionOutput)
			if !vout.Errored {
				t.Errorf("ValidatePipelineDefinition errored = false, want true")
			}
			if got := getDefinition(t, svc, b.ctx, id, ""); got != `{"pipelineObjects":[]}` {
				t.Errorf("ValidatePipelineDefinition stored %s", got)
			}

			out := put(t, svc, b.ctx, id, tc.objects)
			if !out.Errored {
				t.Fatalf("PutPipelineDefinition errored = false, want true")
			}
			if !slices.ContainsFunc(out.ValidationErrors, func(e datapipeline.ValidationError) bool { return e.ID == tc.wantID && len(e.Errors) > 0 }) {
				t.Errorf("validationErrors = %+v, want an entry for %s", out.ValidationErrors, tc.wantID)
			}
			if diff := cmp.Diff(vout, (*datapipeline.ValidatePipelineDefinitionOutput)(out)); diff != "" {
				t.Errorf("Validate and Put disagree (-validate +put):\n%s", diff)
			}
			if got := getDefinition(t, svc, b.ctx, id, ""); got != definitionDoc(t, tc.objects) {
				t.Errorf("errored definition not saved: got %s", got)
			}

			_, err := call(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
			wantCode(t, err, datapipeline.CodeInvalidRequestException)
			if got := fieldMap(t, describe(t, svc, b.ctx, id).Fields)["@pipelineState"]; got != "PENDING" {
				t.Errorf("failed activation left state %s", got)
			}

			if out := put(t, svc, b.ctx, id, cleanObjects); out.Errored {
				t.Fatalf("clean definition errored: %+v", out.ValidationErrors)
			}
			mustCall(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
			if got := fieldMap(t, describe(t, svc, b.ctx, id).Fields)["@pipelineState"]; got != "SCHEDULED" {
				t.Errorf("state after activating the clean definition = %s, want SCHEDULED", got)
			}
		})
	}
}

func TestValidatePipelineDefinitionStoresNothing(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	id := create(t, svc, b.ctx, "p", "u")
	put(t, svc, b.ctx, id, cleanObjects)
	before := getDefinition(t, svc, b.ctx, id, "")
	for _, objects := range []string{
		otherObjects,
		`[{"id":"A","name":"A","fields":[{"key":"runsOn","refValue":"Nope"}]}]`,
		`[{"id":"","name":"A","fields":[{"key":"k","stringValue":"v"}]}]`, // fatal on Put: validation output here
		manyObjects(101),
	} {
		out := mustCall(t, svc, b.ctx, "ValidatePipelineDefinition", `{"pipelineId":%q,"pipelineObjects":%s}`, id, objects).(*datapipeline.ValidatePipelineDefinitionOutput)
		if wantErrored := objects != otherObjects; out.Errored != wantErrored {
			t.Errorf("ValidatePipelineDefinition(%.60s…) errored = %v, want %v", objects, out.Errored, wantErrored)
		}
		if out.ValidationErrors == nil || out.ValidationWarnings == nil {
			t.Errorf("validationErrors and validationWarnings must be lists, even empty: %+v", out)
		}
	}
	if got := getDefinition(t, svc, b.ctx, id, ""); got != before {
		t.Errorf("ValidatePipelineDefinition changed the definition to %s", got)
	}
}

// describeObjects returns the objects DescribeObjects returns, decoded.
func describeObjects(t *testing.T, svc *datapipeline.Service, ctx context.Context, id string, objectIDs ...string) []datapipeline.PipelineObject {
	t.Helper()
	out, err := svc.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineID: id, ObjectIDs: objectIDs})
	if err != nil {
		t.Fatalf("DescribeObjects(%v): %v", objectIDs, err)
	}
	if out.HasMoreResults || out.Marker != "" {
		t.Errorf("DescribeObjects(%v) has more results (%q)", objectIDs, out.Marker)
	}
	objs := make([]datapipeline.PipelineObject, len(out.PipelineObjects))
	for i, raw := range out.PipelineObjects {
		if err := json.Unmarshal(raw, &objs[i]); err != nil {
			t.Fatalf("object %d is not valid JSON: %v\n%s", i, err, raw)
		}
	}
	return objs
}

func TestDescribeObjects(t *testing.T) {
	t.Parallel()
	t.Run("components", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		id := create(t, svc, b.ctx, "p", "u")
		put(t, svc, b.ctx, id, cleanObjects)
		put(t, svc, b.ctx, id, cleanObjects) // version 2
		S, R := pipeline.String, pipeline.Ref
		system := func(status string) []datapipeline.Field {
			return []datapipeline.Field{S("@sphere", "COMPONENT"), S("@version", "2"), S("@pipelineId", id), S("@status", status)}
		}
		want := []datapipeline.PipelineObject{
			{ID: "B", Name: "Shell B", Fields: append([]datapipeline.Field{ // explicit parent: no implicit one
				S("type", "ShellCommandActivity"), R("parent", "P"), R("dependsOn", "A"), S("startDateTime", "2024-02-10T00:00:00")}, system("PENDING")...)},
			{ID: "A", Name: "Shell A", Fields: append([]datapipeline.Field{
				S("type", "ShellCommandActivity"), S("command", "echo a"), S("startDateTime", "2024-01-10T00:00:00"), R("runsOn", "R"),
				R("parent", "Default")}, system("PENDING")...)},
			{ID: "Default", Name: "Default", Fields: append([]datapipeline.Field{ // Default has no parent
				S("scheduleType", "ondemand"), S("failureAndRerunMode", "CASCADE")}, system("PENDING")...)},
		}
		got := describeObjects(t, svc, b.ctx, id, "B", "nope", "A", "Default")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DescribeObjects mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("no definition", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		id := create(t, svc, b.ctx, "p", "u")
		if got := describeObjects(t, svc, b.ctx, id, "A"); len(got) != 0 {
			t.Errorf("DescribeObjects without a definition = %v, want none", got)
		}
	})
	t.Run("100 ids", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		id := create(t, svc, b.ctx, "p", "u")
		put(t, svc, b.ctx, id, manyObjects(100))
		var ids []string
		for i := range 100 {
			ids = append(ids, fmt.Sprint("o", i))
		}
		if got := describeObjects(t, svc, b.ctx, id, ids...); len(got) != 100 {
			t.Errorf("DescribeObjects(100 ids) returned %d objects", len(got))
		}
		_, err := svc.DescribeObjects(b.ctx, &datapipeline.DescribeObjectsInput{PipelineID: id, ObjectIDs: append(ids, "o0")})
		if msg := wantCode(t, err, datapipeline.CodeInvalidRequestException); !strings.Contains(msg, "'objectIds'") {
			t.Errorf("message %q does not name objectIds", msg)
		}
	})
}

func TestQueryObjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sphere   string
		query    string // JSON of the query member, "" for none
		want     []string
		wantErr  string // a fragment of the InvalidRequestException message
		paused   []string
		activate bool
	}{
		{name: "no query", want: []string{"Default", "A", "B", "P", "R"}},
		{name: "empty selectors", query: `{"selectors":[]}`, want: []string{"Default", "A", "B", "P", "R"}},
		{name: "EQ", query: `{"selectors":[{"fieldName":"type","operator":{"type":"EQ","values":["ShellCommandActivity"]}}]}`, want: []string{"A", "B"}},
		{name: "EQ name", query: `{"selectors":[{"fieldName":"name","operator":{"type":"EQ","values":["Shell B"]}}]}`, want: []string{"B"}},
		{name: "EQ on a reference matches nothing", query: `{"selectors":[{"fieldName":"runsOn","operator":{"type":"EQ","values":["R"]}}]}`, want: []string{}},
		{name: "EQ @sphere", query: `{"selectors":[{"fieldName":"@sphere","operator":{"type":"EQ","values":["COMPONENT"]}}]}`, want: []string{"Default", "A", "B", "P", "R"}},
		{name: "EQ @status", activate: true, query: `{"selectors":[{"fieldName":"@status","operator":{"type":"EQ","values":["SCHEDULED"]}}]}`, want: []string{"Default", "A", "B", "P", "R"}},
		{name: "EQ @status PAUSED", paused: []string{"B"}, query: `{"selectors":[{"fieldName":"@status","operator":{"type":"EQ","values":["PAUSED"]}}]}`, want: []string{"B"}},
		{name: "REF_EQ explicit", query: `{"selectors":[{"fieldName":"parent","operator":{"type":"REF_EQ","values":["P"]}}]}`, want: []string{"B"}},
		{name: "REF_EQ implicit Default parent", query: `{"selectors":[{"fieldName":"parent","operator":{"type":"REF_EQ","values":["Default"]}}]}`, want: []string{"A", "P", "R"}},
		{name: "LE", query: `{"selectors":[{"fieldName":"startDateTime","operator":{"type":"LE","values":["2024-01-31T00:00:00"]}}]}`, want: []string{"A"}},
		{name: "LE inclusive", query: `{"selectors":[{"fieldName":"startDateTime","operator":{"type":"LE","values":["2024-02-10T00:00:00"]}}]}`, want: []string{"A", "B"}},
		{name: "GE", query: `{"selectors":[{"fieldName":"startDateTime","operator":{"type":"GE","values":["2024-01-31T00:00:00"]}}]}`, want: []string{"B"}},
		{name: "BETWEEN inclusive", query: `{"selectors":[{"fieldName":"startDateTime","operator":{"type":"BETWEEN","values":["2024-01-01T00:00:00","2024-01-10T00:00:00"]}}]}`, want: []string{"A"}},
		{name: "BETWEEN both", query: `{"selectors":[{"fieldName":"startDateTime","operator":{"type":"BETWEEN","values":["2024-01-01T00:00:00","2024-12-31T00:00:00"]}}]}`, want: []string{"A", "B"}},
		{name: "selectors are ANDed", query: `{"selectors":[{"fieldName":"type","operator":{"type":"EQ","values":["ShellCommandActivity"]}},{"fieldName":"startDateTime","operator":{"type":"GE","values":["2024-02-01T00:00:00"]}}]}`, want: []string{"B"}},
		{name: "INSTANCE sphere", sphere: "INSTANCE", want: []string{}},
		{name: "ATTEMPT sphere", sphere: "ATTEMPT", want: []string{}},

		{name: "EQ with two values", query: `{"selectors":[{"fieldName":"type","operator":{"type":"EQ","values":["a","b"]}}]}`, wantErr: "Missing single value for field"},
		{name: "EQ without values", query: `{"selectors":[{"fieldName":"type","operator":{"type":"EQ"}}]}`, wantErr: "Missing single value for field"},
		{name: "REF_EQ with two values", query: `{"selectors":[{"fieldName":"parent","operator":{"type":"REF_EQ","values":["a","b"]}}]}`, wantErr: "Missing single value for field"},
		{name: "LE with two values", query: `{"selectors":[{"fieldName":"startDateTime","operator":{"type":"LE","values":["2024-01-01T00:00:00","2024-01-01T00:00:00"]}}]}`, wantErr: "Missing single value for field"},
		{name: "LE not a date", query: `{"selectors":[{"fieldName":"startDateTime","operator":{"type":"LE","values":["yesterday"]}}]}`, wantErr: "startDateTime"},
		{name: "GE not a date", query: `{"selectors":[{"fieldName":"startDateTime","operator":{"type":"GE","values":["2024-01-01"]}}]}`, wantErr: "startDateTime"},
		{name: "BETWEEN one value", query: `{"selectors":[{"fieldName":"startDateTime","operator":{"type":"BETWEEN","values":["2024-01-01T00:00:00"]}}]}`, wantErr: "BETWEEN"},
		{name: "BETWEEN not a date", query: `{"selectors":[{"fieldName":"startDateTime","operator":{"type":"BETWEEN","values":["2024-01-01T00:00:00","soon"]}}]}`, wantErr: "startDateTime"},
		{name: "unknown operator", query: `{"selectors":[{"fieldName":"type","operator":{"type":"LIKE","values":["a"]}}]}`, wantErr: "operator.type"},
		{name: "no operator", query: `{"selectors":[{"fieldName":"type"}]}`, wantErr: "operator"},
		{name: "no fieldName", query: `{"selectors":[{"operator":{"type":"EQ","values":["a"]}}]}`, wantErr: "fieldName"},
		{name: "unknown sphere", sphere: "PLANET", wantErr: "sphere"},
		{name: "lower-case sphere", sphere: "component", wantErr: "sphere"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			id := create(t, svc, b.ctx, "p", "u")
			put(t, svc, b.ctx, id, cleanObjects)
			if tc.activate {
				mustCall(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
			}
			if tc.paused != nil {
				if _, err := svc.SetStatus(b.ctx, &datapipeline.SetStatusInput{PipelineID: id, ObjectIDs: tc.paused, Status: "PAUSE"}); err != nil {
					t.Fatalf("SetStatus: %v", err)
				}
			}
			sphere := tc.sphere
			if sphere == "" {
				sphere = "COMPONENT"
			}
			body := fmt.Sprintf(`{"pipelineId":%q,"sphere":%q`, id, sphere)
			if tc.query != "" {
				body += `,"query":` + tc.query
			}
			out, err := call(t, svc, b.ctx, "QueryObjects", "%s}", body)
			if tc.wantErr != "" {
				if msg := wantCode(t, err, datapipeline.CodeInvalidRequestException); !strings.Contains(msg, tc.wantErr) {
					t.Errorf("message %q, want it to contain %q", msg, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("QueryObjects(%s}): %v", body, err)
			}
			got := out.(*datapipeline.QueryObjectsOutput)
			if diff := cmp.Diff(tc.want, got.IDs); diff != "" {
				t.Errorf("ids mismatch (-want +got):\n%s", diff)
			}
			if got.HasMoreResults || got.Marker != "" {
				t.Errorf("hasMoreResults %v, marker %q; want a single page", got.HasMoreResults, got.Marker)
			}
		})
	}
}

func TestQueryObjectsPaging(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	id := create(t, svc, b.ctx, "p", "u")
	put(t, svc, b.ctx, id, cleanObjects)
	var (
		pages [][]string
		in    = &datapipeline.QueryObjectsInput{PipelineID: id, Sphere: "COMPONENT", Limit: new(int64(2))}
	)
	for range 5 {
		out, err := svc.QueryObjects(b.ctx, in)
		if err != nil {
			t.Fatalf("QueryObjects(marker %q): %v", in.Marker, err)
		}
		if out.HasMoreResults != (out.Marker != "") {
			t.Errorf("hasMoreResults %v with marker %q; they must agree", out.HasMoreResults, out.Marker)
		}
		pages = append(pages, out.IDs)
		if !out.HasMoreResults {
			break
		}
		in.Marker = out.Marker
	}
	if diff := cmp.Diff([][]string{{"Default", "A"}, {"B", "P"}, {"R"}}, pages); diff != "" {
		t.Errorf("pages mismatch (-want +got):\n%s", diff)
	}

	for _, limit := range []int64{0, -1} {
		_, err := svc.QueryObjects(b.ctx, &datapipeline.QueryObjectsInput{PipelineID: id, Sphere: "COMPONENT", Limit: &limit})
		wantCode(t, err, datapipeline.CodeInvalidRequestException)
	}
	for _, marker := range []string{"garbage", "cDox"} { // "cDox" is a ListPipelines marker ("p:1")
		_, err := svc.QueryObjects(b.ctx, &datapipeline.QueryObjectsInput{PipelineID: id, Sphere: "COMPONENT", Marker: marker})
		wantCode(t, err, datapipeline.CodeInvalidRequestException)
	}
}

func TestSetStatus(t *testing.T) {
	t.Parallel()
	t.Run("pause and resume", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		id := create(t, svc, b.ctx, "p", "u")
		put(t, svc, b.ctx, id, cleanObjects)
		statuses := func() map[string]string {
			m := map[string]string{}
			for _, o := range describeObjects(t, svc, b.ctx, id, "A", "B") {
				f, _ := o.Get("@status")
				m[o.ID] = f.Value()
			}
			return m
		}
		// AWS's own example sends "pause".
		mustCall(t, svc, b.ctx, "SetStatus", `{"pipelineId":%q,"objectIds":["A"],"status":"pause"}`, id)
		if diff := cmp.Diff(map[string]string{"A": "PAUSED", "B": "PENDING"}, statuses()); diff != "" {
			t.Errorf("after PAUSE (-want +got):\n%s", diff)
		}
		mustCall(t, svc, b.ctx, "SetStatus", `{"pipelineId":%q,"objectIds":["A"],"status":"PAUSE"}`, id) // pausing twice is harmless
		mustCall(t, svc, b.ctx, "SetStatus", `{"pipelineId":%q,"objectIds":["A","B"],"status":"Resume"}`, id)
		if diff := cmp.Diff(map[string]string{"A": "PENDING", "B": "PENDING"}, statuses()); diff != "" {
			t.Errorf("after RESUME (-want +got):\n%s", diff)
		}
	})
	tests := []struct {
		name, body string
	}{
		{name: "unknown object", body: `{"pipelineId":%q,"objectIds":["A","Nope"],"status":"PAUSE"}`},
		{name: "component and instance ids mixed", body: `{"pipelineId":%q,"objectIds":["A","@A_2024-01-01T00:00:00"],"status":"PAUSE"}`},
		{name: "instance status on a component", body: `{"pipelineId":%q,"objectIds":["A"],"status":"RERUN"}`},
		{name: "instance that does not exist", body: `{"pipelineId":%q,"objectIds":["@A_2024-01-01T00:00:00"],"status":"TRY_CANCEL"}`},
		{name: "unknown status", body: `{"pipelineId":%q,"objectIds":["A"],"status":"STOP"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			id := create(t, svc, b.ctx, "p", "u")
			put(t, svc, b.ctx, id, cleanObjects)
			_, err := call(t, svc, b.ctx, "SetStatus", tc.body, id)
			wantCode(t, err, datapipeline.CodeInvalidRequestException)
			for _, o := range describeObjects(t, svc, b.ctx, id, "A") {
				if f, _ := o.Get("@status"); f.Value() != "PENDING" {
					t.Errorf("a rejected SetStatus changed A's @status to %s", f.Value())
				}
			}
		})
	}
}

func TestEvaluateExpression(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, objectID, expression string
		noDefinition               bool
		want                       string
		wantErr                    bool
	}{
		{name: "plain text", objectID: "A", expression: "s3://bucket/path with spaces", want: "s3://bucket/path with spaces"},
		{name: "lone hash and braces", objectID: "A", expression: "# {not} an #expression", want: "# {not} an #expression"},
		// Documented as not yet supported: an error is better than text
		// that merely looks evaluated.
		{name: "expression", objectID: "A", expression: "#{@scheduledStartTime}", wantErr: true},
		{name: "unknown object", objectID: "Nope", expression: "x", wantErr: true},
		{name: "no definition", objectID: "A", expression: "x", noDefinition: true, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			id := create(t, svc, b.ctx, "p", "u")
			if !tc.noDefinition {
				put(t, svc, b.ctx, id, cleanObjects)
			}
			out, err := svc.EvaluateExpression(b.ctx, &datapipeline.EvaluateExpressionInput{PipelineID: id, ObjectID: tc.objectID, Expression: tc.expression})
			if tc.wantErr {
				wantCode(t, err, datapipeline.CodeInvalidRequestException)
				return
			}
			if err != nil {
				t.Fatalf("EvaluateExpression: %v", err)
			}
			if out.EvaluatedExpression != tc.want {
				t.Errorf("evaluatedExpression = %q, want %q", out.EvaluatedExpression, tc.want)
			}
		})
	}
}

func TestTaskOps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, op, body string
		wantCode       string
		want           any
	}{
		{name: "progress on unknown task", op: "ReportTaskProgress", body: `{"taskId":"nope"}`, wantCode: datapipeline.CodeTaskNotFoundException},
		{name: "status of unknown task", op: "SetTaskStatus", body: `{"taskId":"nope","taskStatus":"FINISHED"}`, wantCode: datapipeline.CodeTaskNotFoundException},
		{name: "reserved errorId", op: "SetTaskStatus", body: `{"taskId":"nope","taskStatus":"FAILED","errorId":"Service_x"}`, wantCode: datapipeline.CodeInvalidRequestException},
		{name: "heartbeat", op: "ReportTaskRunnerHeartbeat", body: `{"taskrunnerId":"runner-1","workerGroup":"wg","hostname":"host"}`,
			want: &datapipeline.ReportTaskRunnerHeartbeatOutput{Terminate: false}},
		{name: "poll on an empty queue", op: "PollForTask", body: `{"workerGroup":"wg"}`, want: &datapipeline.PollForTaskOutput{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			start := time.Now()
			out, err := call(t, svc, b.ctx, tc.op, "%s", tc.body)
			if tc.wantCode != "" {
				wantCode(t, err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.op, err)
			}
			if diff := cmp.Diff(tc.want, out); diff != "" {
				t.Errorf("output mismatch (-want +got):\n%s", diff)
			}
			if tc.op == "PollForTask" {
				if elapsed := time.Since(start); elapsed < 40*time.Millisecond {
					t.Errorf("empty poll returned after %v, before the 50ms hold time", elapsed)
				}
				if wire := string(mustJSON(t, out)); wire != `{}` {
					t.Errorf("empty poll on the wire = %s, want {}", wire)
				}
			}
		})
	}
}

func TestPollForTaskWakes(t *testing.T) {
	t.Parallel()
	const hold = 10 * time.Second
	svc, b := setup(t, setupOpts{wait: hold})
	id := create(t, svc, b.ctx, "p", "u")

	type result struct {
		out *datapipeline.PollForTaskOutput
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		out, err := svc.PollForTask(b.ctx, &datapipeline.PollForTaskInput{WorkerGroup: "wg", Hostname: "runner-host"})
		done <- result{out, err}
	}()
	time.Sleep(100 * time.Millisecond) // let the poll start waiting

	// Another account's runner on the same worker group name never sees it.
	otherCtx, stopOther := context.WithCancel(b.ctxB)
	defer stopOther()
	otherDone := make(chan result, 1)
	go func() {
		out, err := svc.PollForTask(otherCtx, &datapipeline.PollForTaskInput{WorkerGroup: "wg"})
		otherDone <- result{out, err}
	}()

	objects := `{"A":{"id":"A","name":"A","fields":[]}}`
	err := b.db.TaskEnqueue(b.ctx, &store.Task{
		ID: "task-1", Account: principalA.AccountID, PipelineID: id, AttemptID: "@A_attempt",
		WorkerGroup: "wg", Objects: []byte(objects), CreatedAt: time.Now(),
	})
	if err != nil {
		t.Fatalf("TaskEnqueue: %v", err)
	}

	var r result
	select {
	case r = <-done:
	case <-time.After(2 * time.Second):
		t.Fatalf("PollForTask still waiting 2s after a task was enqueued (hold time %v)", hold)
	}
	if r.err != nil {
		t.Fatalf("PollForTask: %v", r.err)
	}
	if elapsed := time.Since(start); elapsed >= 2*time.Second {
		t.Errorf("PollForTask took %v", elapsed)
	}
	want := &datapipeline.TaskObject{TaskID: "task-1", PipelineID: id, AttemptID: "@A_attempt", Objects: json.RawMessage(objects)}
	if diff := cmp.Diff(want, r.out.TaskObject); diff != "" {
		t.Fatalf("task mismatch (-want +got):\n%s", diff)
	}

	// The task belongs to account A alone.
	if _, err := svc.ReportTaskProgress(b.ctxB, &datapipeline.ReportTaskProgressInput{TaskID: "task-1"}); err == nil {
		t.Errorf("account B reported progress on account A's task")
	} else {
		wantCode(t, err, datapipeline.CodeTaskNotFoundException)
	}

	progress, err := svc.ReportTaskProgress(b.ctx, &datapipeline.ReportTaskProgressInput{TaskID: "task-1"})
	if err != nil {
		t.Fatalf("ReportTaskProgress: %v", err)
	}
	if progress.Canceled {
		t.Errorf("ReportTaskProgress canceled = true, want false")
	}
	if _, err := svc.SetTaskStatus(b.ctx, &datapipeline.SetTaskStatusInput{TaskID: "task-1", TaskStatus: "FINISHED"}); err != nil {
		t.Fatalf("SetTaskStatus(FINISHED): %v", err)
	}
	_, err = svc.SetTaskStatus(b.ctx, &datapipeline.SetTaskStatusInput{TaskID: "task-1", TaskStatus: "FINISHED"})
	wantCode(t, err, datapipeline.CodeTaskNotFoundException)
	_, err = svc.ReportTaskProgress(b.ctx, &datapipeline.ReportTaskProgressInput{TaskID: "task-1"})
	wantCode(t, err, datapipeline.CodeTaskNotFoundException)

	// Stop account B's poll rather than wait out the hold time: a poll
	// ended by its context answers empty.
	select {
	case r := <-otherDone:
		t.Errorf("account B's poll returned early: %+v, %v", r.out, r.err)
	default:
	}
	stopOther()
	select {
	case r := <-otherDone:
		if r.err != nil || r.out == nil || r.out.TaskObject != nil {
			t.Errorf("PollForTask ended by its context = (%+v, %v), want an empty answer", r.out, r.err)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("PollForTask did not return after its context ended")
	}
}
