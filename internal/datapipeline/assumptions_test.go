package datapipeline_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/datapipeline"
	"github.com/culvert/culvert/internal/pipeline"
)

// TestActivatePipeline pins docs/assumptions/0006: what activation needs,
// what parameter values given to it do, and how deactivation treats
// pipelines that are not running.
func TestActivatePipeline(t *testing.T) {
	t.Parallel()

	t.Run("NoDefinition", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		id := create(t, svc, b.ctx, "p", "u")
		_, err := call(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
		if msg := wantCode(t, err, datapipeline.CodeInvalidRequestException); !strings.Contains(msg, "no definition") {
			t.Errorf("message = %q, want it to say the pipeline has no definition", msg)
		}
		if got := getDefinition(t, svc, b.ctx, id, "active"); got != `{"pipelineObjects":[]}` {
			t.Errorf("active definition before activation = %s, want an empty object list", got)
		}
	})

	t.Run("ParameterValuesWin", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		id := create(t, svc, b.ctx, "p", "u")
		mustCall(t, svc, b.ctx, "PutPipelineDefinition", `{"pipelineId":%q,"pipelineObjects":%s,
			"parameterObjects":[{"id":"myName","attributes":[{"key":"type","stringValue":"String"}]}],
			"parameterValues":[{"id":"myName","stringValue":"stored"}]}`, id, cleanObjects)
		mustCall(t, svc, b.ctx, "ActivatePipeline",
			`{"pipelineId":%q,"parameterValues":[{"id":"myName","stringValue":"given"}]}`, id)
		for _, version := range []string{"latest", "active"} {
			got := getDefinition(t, svc, b.ctx, id, version)
			if !strings.Contains(got, `"parameterValues":[{"id":"myName","stringValue":"given"}]`) {
				t.Errorf("%s definition = %s, want the activation's parameter value", version, got)
			}
		}
	})

	t.Run("RequiredParameterGivenAtActivation", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		id := create(t, svc, b.ctx, "p", "u")
		const objects = `[{"id":"Default","name":"Default","fields":[{"key":"scheduleType","stringValue":"ondemand"}]},
			{"id":"A","name":"A","fields":[{"key":"type","stringValue":"ShellCommandActivity"},
			{"key":"command","stringValue":"echo #{myGreeting} #{myName}"},{"key":"workerGroup","stringValue":"wg"}]}]`
		out := mustCall(t, svc, b.ctx, "PutPipelineDefinition", `{"pipelineId":%q,"pipelineObjects":%s,
			"parameterObjects":[{"id":"myGreeting","attributes":[{"key":"type","stringValue":"String"}]},
				{"id":"myName","attributes":[{"key":"type","stringValue":"String"}]}],
			"parameterValues":[{"id":"myName","stringValue":"stored"}]}`, id, objects).(*datapipeline.PutPipelineDefinitionOutput)
		if !out.Errored || len(out.ValidationErrors) != 1 || out.ValidationErrors[0].ID != "myGreeting" {
			t.Fatalf("Put without a value for a required parameter: errored=%v %+v, want one error on myGreeting",
				out.Errored, out.ValidationErrors)
		}
		_, err := call(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
		if msg := wantCode(t, err, datapipeline.CodeInvalidRequestException); !strings.Contains(msg, "myGreeting") {
			t.Errorf("activation without the value: message %q, want it to name myGreeting", msg)
		}
		mustCall(t, svc, b.ctx, "ActivatePipeline",
			`{"pipelineId":%q,"parameterValues":[{"id":"myGreeting","stringValue":"hello"}]}`, id)
		// The stored value of myName is kept: activation's values win per
		// parameter, not wholesale.
		want := `"parameterValues":[{"id":"myName","stringValue":"stored"},{"id":"myGreeting","stringValue":"hello"}]`
		for _, version := range []string{"latest", "active"} {
			if got := getDefinition(t, svc, b.ctx, id, version); !strings.Contains(got, want) {
				t.Errorf("%s definition = %s, want %s", version, got, want)
			}
		}
		if got := fieldMap(t, describe(t, svc, b.ctx, id).Fields)["@pipelineState"]; got != "SCHEDULED" {
			t.Errorf("@pipelineState = %q, want SCHEDULED", got)
		}
	})

	t.Run("DeactivateStates", func(t *testing.T) {
		t.Parallel()
		svc, b := setup(t)
		id := create(t, svc, b.ctx, "p", "u")
		_, err := call(t, svc, b.ctx, "DeactivatePipeline", `{"pipelineId":%q}`, id)
		wantCode(t, err, datapipeline.CodeInvalidRequestException)

		put(t, svc, b.ctx, id, cleanObjects)
		mustCall(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
		mustCall(t, svc, b.ctx, "DeactivatePipeline", `{"pipelineId":%q}`, id)
		mustCall(t, svc, b.ctx, "DeactivatePipeline", `{"pipelineId":%q,"cancelActive":false}`, id)
		b.schedule(t)
		if got := fieldMap(t, describe(t, svc, b.ctx, id).Fields)["@pipelineState"]; got != "INACTIVE" {
			t.Errorf("@pipelineState after two deactivations = %q, want INACTIVE", got)
		}
		mustCall(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
		if got := fieldMap(t, describe(t, svc, b.ctx, id).Fields)["@pipelineState"]; got != "SCHEDULED" {
			t.Errorf("@pipelineState after reactivation = %q, want SCHEDULED", got)
		}
	})
}

// TestDescribeObjectsEvaluate pins docs/assumptions/0002 and 0009: with
// evaluateExpressions, each field value holding an expression is replaced
// by its value (a list repeats the key), type is left verbatim, a value
// that cannot be evaluated on a component is kept as written, and objects
// without expressions come back exactly as without the flag.
func TestDescribeObjectsEvaluate(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	id := create(t, svc, b.ctx, "p", "u")
	mustCall(t, svc, b.ctx, "PutPipelineDefinition", exprDefinition, id)
	S, R := pipeline.String, pipeline.Ref
	system := []datapipeline.Field{S("@sphere", "COMPONENT"), S("@version", "1"), S("@pipelineId", id), S("@status", "PENDING")}
	evaluated := []datapipeline.PipelineObject{
		{ID: "Act", Name: "act", Fields: append([]datapipeline.Field{
			S("type", "ShellCommandActivity"), S("workerGroup", "wg"),
			S("command", "echo 10 s3://bucket/data/input"),
			S("scriptArgument", "a"), S("scriptArgument", "b"),
			S("myStamp", "#{format(@scheduledStartTime,'YYYY-MM-dd')}"), // a component has no @scheduledStartTime
			R("input", "In"), R("parent", "Default")}, system...)},
		{ID: "In", Name: "input", Fields: append([]datapipeline.Field{ // inherits its expression: nothing to evaluate
			S("type", "S3DataNode"), R("parent", "BaseNode")}, system...)},
		{ID: "BaseNode", Name: "base", Fields: append([]datapipeline.Field{
			S("type", "S3DataNode"), S("directoryPath", "s3://bucket/data/base"), R("parent", "Default")}, system...)},
		{ID: "Default", Name: "Default", Fields: append([]datapipeline.Field{
			S("scheduleType", "ondemand"), S("failureAndRerunMode", "CASCADE"),
			S("role", "DataPipelineDefaultRole"), S("resourceRole", "DataPipelineDefaultResourceRole"),
			S("pipelineLogUri", "s3://bucket/logs/"+id+"/")}, system...)},
	}
	ids := []string{"Act", "In", "nope", "BaseNode", "Default"}
	out := mustCall(t, svc, b.ctx, "DescribeObjects", `{"pipelineId":%q,"objectIds":%s,"evaluateExpressions":true}`, id, jsonList(ids))
	if diff := cmp.Diff(evaluated, decodeObjects(t, out)); diff != "" {
		t.Errorf("DescribeObjects(evaluateExpressions) mismatch (-want +got):\n%s", diff)
	}

	// Without the flag every value is as stored; objects without
	// expressions are the same bytes either way.
	plain := describeObjects(t, svc, b.ctx, id, ids...)
	if f, _ := plain[0].Get("command"); f.Value() != "echo #{myCount * 2} #{input.directoryPath}" {
		t.Errorf("Act's command without evaluateExpressions = %q, want it as stored", f.Value())
	}
	raw := out.(*datapipeline.DescribeObjectsOutput).PipelineObjects
	plainOut := mustCall(t, svc, b.ctx, "DescribeObjects", `{"pipelineId":%q,"objectIds":%s}`, id, jsonList(ids)).(*datapipeline.DescribeObjectsOutput)
	if got, want := string(raw[1]), string(plainOut.PipelineObjects[1]); got != want {
		t.Errorf("In with evaluateExpressions = %s, want %s as without", got, want)
	}
}

// decodeObjects decodes the objects of a DescribeObjects output.
func decodeObjects(t *testing.T, out any) []datapipeline.PipelineObject {
	t.Helper()
	raw := out.(*datapipeline.DescribeObjectsOutput).PipelineObjects
	objs := make([]datapipeline.PipelineObject, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &objs[i]); err != nil {
			t.Fatalf("object %d is not valid JSON: %v\n%s", i, err, r)
		}
	}
	return objs
}

func jsonList(s []string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestQueryObjectsLimitCap pins docs/assumptions/0007: a page holds at most
// 1000 ids, whatever limit asks for, and a marker leads to the rest.
func TestQueryObjectsLimitCap(t *testing.T) {
	t.Parallel()
	var objs strings.Builder
	objs.WriteString("[")
	for i := range 1001 {
		if i > 0 {
			objs.WriteString(",")
		}
		fmt.Fprintf(&objs, `{"id":"O%d","name":"O%d","fields":[]}`, i, i)
	}
	objs.WriteString("]")
	svc, b := setup(t, setupOpts{maxObjects: 2000})
	id := create(t, svc, b.ctx, "p", "u")
	put(t, svc, b.ctx, id, objs.String())
	out := mustCall(t, svc, b.ctx, "QueryObjects", `{"pipelineId":%q,"sphere":"COMPONENT","limit":5000}`, id).(*datapipeline.QueryObjectsOutput)
	if len(out.IDs) != 1000 || !out.HasMoreResults || out.Marker == "" {
		t.Fatalf("QueryObjects(limit 5000) = %d ids, more=%v, marker=%q; want 1000, true, a marker", len(out.IDs), out.HasMoreResults, out.Marker)
	}
	out = mustCall(t, svc, b.ctx, "QueryObjects", `{"pipelineId":%q,"sphere":"COMPONENT","limit":5000,"marker":%q}`, id, out.Marker).(*datapipeline.QueryObjectsOutput)
	if len(out.IDs) != 1 || out.IDs[0] != "O1000" || out.HasMoreResults {
		t.Errorf("second page = %v, more=%v; want [O1000], false", out.IDs, out.HasMoreResults)
	}
}
