package datapipeline_test

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

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/datapipeline"
	"github.com/culvert/culvert/internal/pipeline"
)

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
				S("type", "ShellCommandActivity"), R("parent", "P"), R("dependsOn", "A"), S("myDate", "2024-02-10T00:00:00")}, system("PENDING")...)},
			{ID: "A", Name: "Shell A", Fields: append([]datapipeline.Field{
				S("type", "ShellCommandActivity"), S("command", "echo a"), S("myDate", "2024-01-10T00:00:00"), R("runsOn", "R"),
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
		{name: "LE", query: `{"selectors":[{"fieldName":"myDate","operator":{"type":"LE","values":["2024-01-31T00:00:00"]}}]}`, want: []string{"A"}},
		{name: "LE inclusive", query: `{"selectors":[{"fieldName":"myDate","operator":{"type":"LE","values":["2024-02-10T00:00:00"]}}]}`, want: []string{"A", "B"}},
		{name: "GE", query: `{"selectors":[{"fieldName":"myDate","operator":{"type":"GE","values":["2024-01-31T00:00:00"]}}]}`, want: []string{"B"}},
		{name: "BETWEEN inclusive", query: `{"selectors":[{"fieldName":"myDate","operator":{"type":"BETWEEN","values":["2024-01-01T00:00:00","2024-01-10T00:00:00"]}}]}`, want: []string{"A"}},
		{name: "BETWEEN both", query: `{"selectors":[{"fieldName":"myDate","operator":{"type":"BETWEEN","values":["2024-01-01T00:00:00","2024-12-31T00:00:00"]}}]}`, want: []string{"A", "B"}},
		{name: "selectors are ANDed", query: `{"selectors":[{"fieldName":"type","operator":{"type":"EQ","values":["ShellCommandActivity"]}},{"fieldName":"myDate","operator":{"type":"GE","values":["2024-02-01T00:00:00"]}}]}`, want: []string{"B"}},
		{name: "INSTANCE sphere", sphere: "INSTANCE", want: []string{}},
		{name: "ATTEMPT sphere", sphere: "ATTEMPT", want: []string{}},

		{name: "EQ with two values", query: `{"selectors":[{"fieldName":"type","operator":{"type":"EQ","values":["a","b"]}}]}`, wantErr: "Missing single value for field"},
		{name: "EQ without values", query: `{"selectors":[{"fieldName":"type","operator":{"type":"EQ"}}]}`, wantErr: "Missing single value for field"},
		{name: "REF_EQ with two values", query: `{"selectors":[{"fieldName":"parent","operator":{"type":"REF_EQ","values":["a","b"]}}]}`, wantErr: "Missing single value for field"},
		{name: "LE with two values", query: `{"selectors":[{"fieldName":"myDate","operator":{"type":"LE","values":["2024-01-01T00:00:00","2024-01-01T00:00:00"]}}]}`, wantErr: "Missing single value for field"},
		{name: "LE not a date", query: `{"selectors":[{"fieldName":"myDate","operator":{"type":"LE","values":["yesterday"]}}]}`, wantErr: "myDate"},
		{name: "GE not a date", query: `{"selectors":[{"fieldName":"myDate","operator":{"type":"GE","values":["2024-01-01"]}}]}`, wantErr: "myDate"},
		{name: "BETWEEN one value", query: `{"selectors":[{"fieldName":"myDate","operator":{"type":"BETWEEN","values":["2024-01-01T00:00:00"]}}]}`, wantErr: "BETWEEN"},
		{name: "BETWEEN not a date", query: `{"selectors":[{"fieldName":"myDate","operator":{"type":"BETWEEN","values":["2024-01-01T00:00:00","soon"]}}]}`, wantErr: "myDate"},
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

// exprDefinition is a complete definition whose fields use parameters of
// each type, inheritance through Default and an explicit parent,
// references, nested expressions and a runtime field.
const exprDefinition = `{"pipelineId":%q,
"pipelineObjects":[
 {"id":"Default","name":"Default","fields":[
  {"key":"scheduleType","stringValue":"ondemand"},{"key":"failureAndRerunMode","stringValue":"CASCADE"},
  {"key":"role","stringValue":"DataPipelineDefaultRole"},{"key":"resourceRole","stringValue":"DataPipelineDefaultResourceRole"},
  {"key":"pipelineLogUri","stringValue":"#{myBucket}/logs/#{@pipelineId}/"}]},
 {"id":"BaseNode","name":"base","fields":[
  {"key":"type","stringValue":"S3DataNode"},{"key":"directoryPath","stringValue":"#{myBucket}/data/#{name}"}]},
 {"id":"In","name":"input","fields":[
  {"key":"type","stringValue":"S3DataNode"},{"key":"parent","refValue":"BaseNode"}]},
 {"id":"Act","name":"act","fields":[
  {"key":"type","stringValue":"ShellCommandActivity"},{"key":"workerGroup","stringValue":"wg"},
  {"key":"command","stringValue":"echo #{myCount * 2} #{input.directoryPath}"},
  {"key":"scriptArgument","stringValue":"#{myNames}"},
  {"key":"myStamp","stringValue":"#{format(@scheduledStartTime,'YYYY-MM-dd')}"},
  {"key":"input","refValue":"In"}]},
 {"id":"Sched","name":"Schedule","fields":[
  {"key":"type","stringValue":"Schedule"},{"key":"period","stringValue":"1 day"},
  {"key":"startDateTime","stringValue":"2012-12-12T00:00:00"},{"key":"endDateTime","stringValue":"2012-12-21T18:00:00"}]}],
"parameterObjects":[
 {"id":"myBucket","attributes":[{"key":"type","stringValue":"String"},{"key":"default","stringValue":"s3://bucket"}]},
 {"id":"myCount","attributes":[{"key":"type","stringValue":"Integer"},{"key":"default","stringValue":"3"}]},
 {"id":"myRatio","attributes":[{"key":"type","stringValue":"Double"},{"key":"default","stringValue":"0.5"}]},
 {"id":"myNames","attributes":[{"key":"type","stringValue":"String"},{"key":"isArray","stringValue":"true"}]}],
"parameterValues":[
 {"id":"myCount","stringValue":"5"},{"id":"myNames","stringValue":"a"},{"id":"myNames","stringValue":"b"}]}`

// TestEvaluateExpression pins docs/assumptions/0009: expressions are
// evaluated against the latest definition with its parameters, inherited
// fields and the component's system fields; what cannot be evaluated is an
// InvalidRequestException that says where and why.
func TestEvaluateExpression(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, objectID, expression string
		noDefinition               bool
		want                       string   // {id} stands for the pipeline id
		wantErr                    []string // fragments of the InvalidRequestException message
	}{
		{name: "plain text", objectID: "Act", expression: "s3://bucket/path with spaces", want: "s3://bucket/path with spaces"},
		{name: "lone hash and braces", objectID: "Act", expression: "# {not} an #expression", want: "# {not} an #expression"},
		{name: "AWS example", objectID: "Sched", expression: "Transform started at #{startDateTime} and finished at #{endDateTime}",
			want: "Transform started at 2012-12-12T00:00:00 and finished at 2012-12-21T18:00:00"},
		{name: "parameter default", objectID: "Act", expression: "#{myBucket}/x", want: "s3://bucket/x"},
		{name: "supplied Integer parameter", objectID: "Act", expression: "#{myCount + 1} #{myCount / 2}", want: "6 2"},
		{name: "Double parameter", objectID: "Act", expression: "#{myRatio * 4}", want: "2.0"},
		{name: "array parameter", objectID: "Act", expression: "#{myNames}", want: "a,b"},
		{name: "inherited from Default", objectID: "Act", expression: "#{scheduleType}", want: "ondemand"},
		{name: "inherited from parent, in the heir's context", objectID: "In", expression: "#{directoryPath}", want: "s3://bucket/data/input"},
		{name: "dotted reference", objectID: "Act", expression: "#{input.directoryPath}", want: "s3://bucket/data/input"},
		{name: "nested expressions", objectID: "Act", expression: "#{command}", want: "echo 10 s3://bucket/data/input"},
		{name: "system fields", objectID: "In", expression: "#{pipelineLogUri} #{@sphere} #{@version}", want: "s3://bucket/logs/{id}/ COMPONENT 1"},
		{name: "no such reference", objectID: "In", expression: "#{parent.@id} #{input.name}", wantErr: []string{"'input' is neither a field of 'In'"}},
		{name: "explicit and implicit parent", objectID: "In", expression: "#{parent.@id} #{parent.parent.name}", want: "BaseNode Default"},
		{name: "date functions on a string field", objectID: "Sched", expression: "#{format(plusDays(startDateTime, 1), 'YYYY-MM-dd')}", want: "2012-12-13"},

		{name: "runtime field on a component", objectID: "Act", expression: "#{format(@scheduledStartTime,'YYYY')}",
			wantErr: []string{"object 'Act'", "line 1 col 10", "'@scheduledStartTime' is a runtime field of instances", "@Act_YYYY-MM-DDTHH:MM:SS"}},
		{name: "field using a runtime field", objectID: "Act", expression: "stamp #{myStamp}", wantErr: []string{"line 1 col 9", "#{myStamp}, line 1 col 9", "in field 'myStamp' of 'Act', #{format(@scheduledStartTime,'YYYY-MM-dd')}, line 1 col 10"}},
		{name: "syntax error", objectID: "Act", expression: "ok\n#{1 +}", wantErr: []string{"line 2 col 6: unexpected"}},
		{name: "unknown name", objectID: "Act", expression: "#{myNope}", wantErr: []string{"line 1 col 3: myNope: 'myNope' is neither a field of 'Act'"}},
		{name: "unknown function", objectID: "Act", expression: "#{nope(1)}", wantErr: []string{"line 1 col 3"}},
		{name: "unknown object", objectID: "Nope", expression: "x", wantErr: []string{"'Nope' does not exist"}},
		{name: "instance id", objectID: "@Act_2024-01-01T00:00:00", expression: "#{@scheduledStartTime}", wantErr: []string{"does not exist"}},
		{name: "no definition", objectID: "Act", expression: "x", noDefinition: true, wantErr: []string{"does not exist"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			id := create(t, svc, b.ctx, "p", "u")
			if !tc.noDefinition {
				mustCall(t, svc, b.ctx, "PutPipelineDefinition", exprDefinition, id)
			}
			out, err := svc.EvaluateExpression(b.ctx, &datapipeline.EvaluateExpressionInput{PipelineID: id, ObjectID: tc.objectID, Expression: tc.expression})
			if tc.wantErr != nil {
				msg := wantCode(t, err, datapipeline.CodeInvalidRequestException)
				for _, frag := range tc.wantErr {
					if !strings.Contains(msg, frag) {
						t.Errorf("message %q does not contain %q", msg, frag)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("EvaluateExpression: %v", err)
			}
			if want := strings.ReplaceAll(tc.want, "{id}", id); out.EvaluatedExpression != want {
				t.Errorf("evaluatedExpression = %q, want %q", out.EvaluatedExpression, want)
			}
		})
	}
}

// TestEvaluateExpressionSecrets pins docs/assumptions/0009 on secrets: the
// owner of a pipeline gets the values of *-parameters and secret fields
// evaluated, as GetPipelineDefinition returns them, but no message, and so
// no log line, ever holds them.
func TestEvaluateExpressionSecrets(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-Secret"
	svc, b := setup(t)
	id := create(t, svc, b.ctx, "p", "u")
	mustCall(t, svc, b.ctx, "PutPipelineDefinition", `{"pipelineId":%q,"pipelineObjects":[
		{"id":"Default","name":"Default","fields":[{"key":"scheduleType","stringValue":"ondemand"}]},
		{"id":"Db","name":"Db","fields":[{"key":"type","stringValue":"RdsDatabase"},{"key":"rdsInstanceId","stringValue":"db-1"},
			{"key":"username","stringValue":"u"},{"key":"*password","stringValue":"#{*myPassword}"}]}],
		"parameterObjects":[{"id":"*myPassword","attributes":[{"key":"type","stringValue":"String"}]}],
		"parameterValues":[{"id":"*myPassword","stringValue":%q}]}`, id, secret)

	var logs bytes.Buffer
	h := &awsjson.Handler{
		Target: "DataPipeline",
		Ops:    svc.Ops(),
		Verify: func(*http.Request, []byte) (awsjson.Principal, error) { return principalA, nil },
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	send := func(expression string) (int, string) {
		body, _ := json.Marshal(map[string]string{"pipelineId": id, "objectId": "Db", "expression": expression})
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "DataPipeline.EvaluateExpression")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	if code, body := send("#{*myPassword}|#{password}"); code != http.StatusOK || !strings.Contains(body, secret+"|"+secret) {
		t.Errorf("EvaluateExpression(secrets) = %d %s, want both values", code, body)
	}
	for _, expression := range []string{"#{day(*myPassword)}", "#{day(password)}", "#{plusDays(*password, 1)}"} {
		code, body := send(expression)
		if code != http.StatusBadRequest || !strings.Contains(body, "InvalidRequestException") {
			t.Errorf("EvaluateExpression(%s) = %d %s, want InvalidRequestException", expression, code, body)
		}
		if strings.Contains(body, secret) {
			t.Errorf("EvaluateExpression(%s) error reveals the secret: %s", expression, body)
		}
	}
	if !strings.Contains(logs.String(), "EvaluateExpression") {
		t.Fatalf("the client errors were not logged at Debug:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the log holds a secret value:\n%s", logs.String())
	}
}
