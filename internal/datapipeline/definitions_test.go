package datapipeline_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/datapipeline"
	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

func TestDefinitionRoundTrip(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	id := create(t, svc, b.ctx, "p", "u")
	// Field order is the user's, repeated keys form lists, and shell text
	// with &, < and > comes back as it was sent.
	doc := `{"pipelineObjects":[` +
		`{"id":"Default","name":"Default","fields":[{"key":"zeta","stringValue":"1"},{"key":"alpha","stringValue":"2"},{"key":"scheduleType","stringValue":"ondemand"}]},` +
		`{"id":"S","name":"Shell","fields":[{"key":"type","stringValue":"ShellCommandActivity"},{"key":"command","stringValue":"a && b > /tmp/x < /dev/null"},` +
		`{"key":"workerGroup","stringValue":"wg"},{"key":"dependsOn","refValue":"S2"},{"key":"dependsOn","refValue":"S3"},{"key":"scriptArgument","stringValue":"x"},{"key":"scriptArgument","stringValue":"ünïcödé \"quoted\""}]},` +
		`{"id":"S2","name":"Second","fields":[{"key":"type","stringValue":"ShellCommandActivity"},{"key":"command","stringValue":"true"},{"key":"workerGroup","stringValue":"wg"}]},` +
		`{"id":"S3","name":"Third","fields":[{"key":"type","stringValue":"ShellCommandActivity"},{"key":"command","stringValue":"true"},{"key":"workerGroup","stringValue":"wg"}]}],` +
		`"parameterObjects":[{"id":"myVar","attributes":[{"key":"type","stringValue":"String"},{"key":"isArray","stringValue":"true"},{"key":"default","stringValue":"d"}]}],` +
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
		// Data formats need no other field and no schedule.
		objs[i] = fmt.Sprintf(`{"id":"o%d","name":"o%d","fields":[{"key":"type","stringValue":"CSV"}]}`, i, i)
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
