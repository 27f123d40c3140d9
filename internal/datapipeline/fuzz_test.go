package datapipeline_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/datapipeline"
	"github.com/culvert/culvert/internal/store"
)

// pipelinePlaceholder in a fuzz body is replaced by the id of a real
// pipeline with a definition, so mutations reach past "pipeline not found"
// into the definition, object and status code. It is the id the model's
// valid bodies use.
const pipelinePlaceholder = "df-X"

// fuzzSeeds are hostile bodies tried on every operation.
var fuzzSeeds = []string{
	``, ` `, `{}`, `null`, `[]`, `"s"`, `1`, `{} x`, `{`, `{"pipelineId":}`,
	`{"pipelineId":1}`, `{"pipelineId":null}`, `{"pipelineId":true}`, `{"pipelineId":{}}`, `{"pipelineId":[]}`,
	`{"pipelineId":"df-X","pipelineId":"df-Y"}`, `{"pipelineId":"df-X","PipelineId":"df-Y"}`, `{"PIPELINEID":"df-X"}`,
	"{\"pipelineId\":\"\xff\xfe\"}", "{\"name\":\"\xc0\x80\",\"uniqueId\":\"u\"}", `{"pipelineId":"\ud800"}`, `{"pipelineId":"\u0000"}`,
	`{"pipelineIds":"df-X"}`, `{"pipelineIds":[null]}`, `{"pipelineIds":[1,2]}`, `{"pipelineIds":[[]]}`,
	`{"objectIds":{"a":1}}`, `{"tags":[{"key":null,"value":null}]}`, `{"tags":[null]}`, `{"tagKeys":[null,""]}`,
	`{"limit":1e400}`, `{"limit":-9223372036854775809}`, `{"limit":1.5}`, `{"limit":"1"}`, `{"limit":0}`, `{"limit":9223372036854775807}`,
	`{"startTimestamp":"now"}`, `{"startTimestamp":1e300}`, `{"startTimestamp":-1e20}`, `{"cancelActive":"yes"}`, `{"evaluateExpressions":1}`,
	`{"marker":"cDotMQ"}`, `{"marker":"cDo5MjIzMzcyMDM2ODU0Nzc1ODA3"}`, `{"marker":"ZDo5MjIzMzcyMDM2ODU0Nzc1ODA3"}`, `{"marker":"cTo5MjIzMzcyMDM2ODU0Nzc1ODA3"}`,
	strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70),
	`{"query":{"selectors":[{"operator":{"values":` + strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70) + `}}]}}`,
	`{"objectIds":[` + strings.TrimSuffix(strings.Repeat(`"A",`, 5000), ",") + `]}`,
	`{"pipelineObjects":[` + strings.TrimSuffix(strings.Repeat(`{},`, 2000), ",") + `]}`,
	`{"pipelineObjects":[{"id":"a","name":"a","fields":` + `[` + strings.TrimSuffix(strings.Repeat(`{"key":"k","stringValue":"v"},`, 3000), ",") + `]}]}`,
	`{"fields":[{"key":"k","stringValue":"v","refValue":"r"},{"key":""},{}]}`,
}

// fuzzOpSeeds are bodies that reach deep into particular operations on
// the placeholder pipeline, whose definition is cleanObjects.
var fuzzOpSeeds = map[string][]string{
	"ActivatePipeline": {
		`{"pipelineId":"df-X","parameterValues":[{"id":"myVar","stringValue":"v"}],"startTimestamp":1700000000.123}`,
	},
	"DescribeObjects": {
		`{"pipelineId":"df-X","objectIds":["A","B","Default","P","R","nope"],"evaluateExpressions":true}`,
		`{"pipelineId":"df-X","objectIds":["A"],"marker":"ZDox"}`,
	},
	"EvaluateExpression": {
		`{"pipelineId":"df-X","objectId":"A","expression":"#{node.name}"}`,
		`{"pipelineId":"df-X","objectId":"A","expression":"plain"}`,
		`{"pipelineId":"df-X","objectId":"B","expression":"#{parent.maximumRetries * 2} #{dependsOn.runsOn.type}"}`,
		`{"pipelineId":"df-X","objectId":"A","expression":"#{format(plusDays(startDateTime, 1), 'YYYY-MM-dd')} #{@pipelineId}"}`,
		`{"pipelineId":"df-X","objectId":"A","expression":"#{format(@scheduledStartTime,'YYYY')}"}`,
		`{"pipelineId":"df-X","objectId":"A","expression":"a\n#{1 +}"}`,
		`{"pipelineId":"df-X","objectId":"R","expression":"#{*myPassword}#{name + @id}#{1/0}"}`,
	},
	"PollForTask": {`{"workerGroup":"wg","hostname":"h","instanceIdentity":{"document":"d","signature":"s"}}`},
	"PutPipelineDefinition": {
		`{"pipelineId":"df-X","pipelineObjects":` + cleanObjects + `}`,
		`{"pipelineId":"df-X","pipelineObjects":[{"id":"A","name":"A","fields":[{"key":"parent","refValue":"A"},{"key":"@x","stringValue":"y"}]},{"id":"A","name":"B","fields":[]}],` +
			`"parameterObjects":[{"id":"p","attributes":[]},{"id":"p","attributes":[{"key":"k","stringValue":"v"}]}],"parameterValues":[{"id":"p","stringValue":"v"}]}`,
	},
	"QueryObjects": {
		`{"pipelineId":"df-X","sphere":"COMPONENT","query":{"selectors":[{"fieldName":"parent","operator":{"type":"REF_EQ","values":["Default"]}}]},"limit":1}`,
		`{"pipelineId":"df-X","sphere":"COMPONENT","query":{"selectors":[{"fieldName":"myDate","operator":{"type":"BETWEEN","values":["2024-12-01T00:00:00","2023-01-01T00:00:00"]}}]}}`,
		`{"pipelineId":"df-X","sphere":"COMPONENT","query":{"selectors":[{"fieldName":"myDate","operator":{"type":"LE","values":["2024-01-31T00:00:00"]}},{"fieldName":"type","operator":{"type":"EQ","values":["ShellCommandActivity"]}}]}}`,
		`{"pipelineId":"df-X","sphere":"COMPONENT","marker":"cTox","limit":2}`,
	},
	"ReportTaskProgress": {`{"taskId":"fuzz-task-1","fields":[{"key":"k","stringValue":"v"}]}`},
	"SetStatus": {
		`{"pipelineId":"df-X","objectIds":["A","B"],"status":"pause"}`,
		`{"pipelineId":"df-X","objectIds":["@A_1"],"status":"TRY_CANCEL"}`,
	},
	"SetTaskStatus": {`{"taskId":"fuzz-task-1","taskStatus":"FAILED","errorId":"E","errorMessage":"m","errorStackTrace":"s"}`},
}

// FuzzOps sends arbitrary bodies to every operation, through the HTTP
// handler and directly: the request path must never panic, and nothing a
// client sends may be answered with a 500.
func FuzzOps(f *testing.F) {
	svc, db := newModelService(f, time.Millisecond)
	ops := svc.Ops()
	names := slices.Sorted(maps.Keys(ops))
	ctx := ctxAs(principalA)
	h := &awsjson.Handler{
		Target: "DataPipeline",
		Ops:    ops,
		Verify: func(*http.Request, []byte) (awsjson.Principal, error) { return principalA, nil },
		Logger: discardLogger,
	}

	// The placeholder pipeline: recreated with its definition whenever a
	// fuzzed DeletePipeline removes it.
	var (
		mu         sync.Mutex
		pipelineID string
	)
	realPipeline := func(t testing.TB) string {
		mu.Lock()
		defer mu.Unlock()
		out, err := svc.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: "fuzz", UniqueID: "fuzz"})
		if err != nil {
			t.Fatalf("CreatePipeline: %v", err)
		}
		if out.PipelineID != pipelineID {
			pipelineID = out.PipelineID
			body := fmt.Sprintf(`{"pipelineId":%q,"pipelineObjects":%s}`, pipelineID, cleanObjects)
			if _, err := ops["PutPipelineDefinition"](ctx, []byte(body)); err != nil {
				t.Fatalf("PutPipelineDefinition: %v", err)
			}
			for i := range 3 {
				err := db.TaskEnqueue(ctx, &store.Task{
					ID: fmt.Sprintf("fuzz-task-%d", i+1), Account: principalA.AccountID, PipelineID: pipelineID,
					AttemptID: "@A_attempt", WorkerGroup: "wg", Objects: []byte(`{}`), CreatedAt: time.Now(),
				})
				if err != nil {
					t.Fatalf("TaskEnqueue: %v", err)
				}
			}
		}
		return pipelineID
	}

	bodies := modelBodies()
	if bodies == nil {
		f.Log("botocore is not available: seeding without the model's valid bodies")
	}
	for i, name := range names {
		for _, b := range bodies[name] {
			f.Add(uint8(i), b)
		}
		for _, b := range fuzzOpSeeds[name] {
			f.Add(uint8(i), []byte(b))
		}
		for _, b := range fuzzSeeds {
			f.Add(uint8(i), []byte(b))
		}
	}

	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte) {
		name := names[int(opIndex)%len(names)]
		body = bytes.ReplaceAll(body, []byte(pipelinePlaceholder), []byte(realPipeline(t)))

		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "DataPipeline."+name)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		rec := httptest.NewRecorder()
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("handler for %s panicked on %q: %v\n%s", name, body, p, debug.Stack())
				}
			}()
			h.ServeHTTP(rec, req)
		}()
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d to %q: %s", name, rec.Code, body, rec.Body)
		}

		// Directly, without the handler's scanner in front: whatever
		// encoding/json accepts must still be handled without a panic or
		// an internal error.
		var err error
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("%s panicked on %q: %v\n%s", name, body, p, debug.Stack())
				}
			}()
			_, err = ops[name](ctx, body)
		}()
		var apiErr awsjson.APIError
		if err != nil && (!errors.As(err, &apiErr) || apiErr.HTTPStatus() >= 500) {
			t.Fatalf("%s returned an internal error for %q: %v", name, body, err)
		}
	})
}
