package datapipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/culvert/culvert/internal/datapipeline"
)

// logsBundle is a pipeline whose one attempt a runner has claimed.
type logsBundle struct {
	*testBundle
	svc                 *datapipeline.Service
	id, attempt, taskID string
}

func setupLogs(t *testing.T) *logsBundle {
	t.Helper()
	svc, b := setup(t)
	id := create(t, svc, b.ctx, "logs", "logs")
	put(t, svc, b.ctx, id, `[
		{"id": "Default", "name": "Default", "fields": [{"key": "scheduleType", "stringValue": "ondemand"},
			{"key": "workerGroup", "stringValue": "wg-logs"}]},
		{"id": "Work", "name": "Work", "fields": [{"key": "type", "stringValue": "ShellCommandActivity"},
			{"key": "command", "stringValue": "true"}]}]`)
	mustCall(t, svc, b.ctx, "ActivatePipeline", `{"pipelineId":%q}`, id)
	b.schedule(t)
	out := mustCall(t, svc, b.ctx, "PollForTask", `{"workerGroup":"wg-logs","hostname":"runner-7.example"}`).(*datapipeline.PollForTaskOutput)
	if out.TaskObject == nil {
		t.Fatal("PollForTask: no task")
	}
	b.schedule(t) // the attempt is RUNNING
	return &logsBundle{testBundle: b, svc: svc, id: id, attempt: out.TaskObject.AttemptID, taskID: out.TaskObject.TaskID}
}

// progress reports progress with the given fields (a JSON list).
func (lb *logsBundle) progress(t *testing.T, fields string) error {
	t.Helper()
	_, err := call(t, lb.svc, lb.ctx, "ReportTaskProgress", `{"taskId":%q,"fields":%s}`, lb.taskID, fields)
	return err
}

// attemptFields returns the attempt as DescribeObjects shows it.
func (lb *logsBundle) attemptFields(t *testing.T) map[string]string {
	t.Helper()
	out := mustCall(t, lb.svc, lb.ctx, "DescribeObjects", `{"pipelineId":%q,"objectIds":[%q]}`, lb.id, lb.attempt).(*datapipeline.DescribeObjectsOutput)
	objs := decodeObjects(t, out)
	if len(objs) != 1 {
		t.Fatalf("DescribeObjects(%s) = %d objects, want 1", lb.attempt, len(objs))
	}
	return fieldMap(t, objs[0].Fields)
}

// TestReportTaskProgressLogLocation pins which @logLocation values a
// progress report may carry (docs/assumptions/0022-attempt-logs.md): an
// s3:// URI with a bucket, a file:// URI of an absolute path or an
// absolute path, at most 2048 characters, once; anything else is an
// InvalidRequestException saying what is wrong, and changes nothing.
// Other fields are accepted and ignored.
func TestReportTaskProgressLogLocation(t *testing.T) {
	t.Parallel()
	lb := setupLogs(t)
	long := "/" + strings.Repeat("é", 2047)
	accepted := []string{
		"s3://logs-bucket/df-1/Work/@Work_1/@Work_1_Attempt=1/",
		"S3://logs-bucket",
		"file:///var/lib/culvert/logs/df-1",
		"file://localhost/var/log",
		"/var/lib/culvert/logs/df-1/Work/@Work_2026-01-01T00:00:00/@Work_2026-01-01T00:00:00_Attempt=1",
		"/a/b..c/.../d",
		long,
	}
	for _, loc := range accepted {
		if err := lb.progress(t, `[{"key":"@logLocation","stringValue":`+jsonString(loc)+`}]`); err != nil {
			t.Errorf("@logLocation %.60q refused: %v", loc, err)
			continue
		}
		if got := lb.attemptFields(t)["@logLocation"]; got != loc {
			t.Errorf("after reporting %.60q the attempt shows @logLocation %.60q", loc, got)
		}
	}
	last := long

	refused := []struct {
		name, fields, want string
	}{
		{"relative path", `[{"key":"@logLocation","stringValue":"logs/attempt-1"}]`, "is not a log location"},
		{"empty", `[{"key":"@logLocation","stringValue":""}]`, "is not a log location"},
		{"other scheme", `[{"key":"@logLocation","stringValue":"https://logs.example/a"}]`, "s3://bucket/prefix, file:///absolute/path or an absolute path"},
		{"s3 without bucket", `[{"key":"@logLocation","stringValue":"s3:///key"}]`, "is not a log location"},
		{"file with a host", `[{"key":"@logLocation","stringValue":"file://runner-7/var/log"}]`, "is not a log location"},
		{"climbing path", `[{"key":"@logLocation","stringValue":"/var/log/../../etc"}]`, "without .. elements"},
		{"climbing file URI", `[{"key":"@logLocation","stringValue":"file:///var/log/.."}]`, "without .. elements"},
		{"too long", `[{"key":"@logLocation","stringValue":` + jsonString(long+"x") + `}]`, "2049 characters long; at most 2048"},
		{"a reference", `[{"key":"@logLocation","refValue":"Logs"}]`, "must be a stringValue"},
		{"twice", `[{"key":"@logLocation","stringValue":"/a"},{"key":"@logLocation","stringValue":"/b"}]`, "at most one @logLocation"},
	}
	for _, tc := range refused {
		err := lb.progress(t, tc.fields)
		if msg := wantCode(t, err, datapipeline.CodeInvalidRequestException); !strings.Contains(msg, tc.want) || !strings.Contains(msg, "@logLocation") {
			t.Errorf("%s: message %q, want it to name @logLocation and say %q", tc.name, msg, tc.want)
		}
	}
	if got := lb.attemptFields(t)["@logLocation"]; got != last {
		t.Errorf("after refused reports the attempt shows @logLocation %.60q, want the last accepted one", got)
	}

	// Fields culvert does not know are accepted and ignored, as AWS's
	// percentComplete example; a report without @logLocation keeps the
	// one before.
	if err := lb.progress(t, `[{"key":"percentComplete","stringValue":"50"},{"key":"note","refValue":"x"}]`); err != nil {
		t.Errorf("progress with other fields: %v", err)
	}
	if got := lb.attemptFields(t)["@logLocation"]; got != last {
		t.Errorf("after a report without one the attempt shows @logLocation %.60q, want the one before", got)
	}
}

// TestAttemptShowsLogLocation checks that the attempt shows the reported
// @logLocation while it runs and after it ends: in DescribeObjects, to
// QueryObjects' selectors and to expressions.
func TestAttemptShowsLogLocation(t *testing.T) {
	t.Parallel()
	lb := setupLogs(t)
	const loc = "s3://logs-bucket/df/Work/attempt-1/"
	if _, ok := lb.attemptFields(t)["@logLocation"]; ok {
		t.Fatal("the attempt shows @logLocation before its runner reported one")
	}
	if err := lb.progress(t, `[{"key":"@logLocation","stringValue":"`+loc+`"}]`); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		if got := lb.attemptFields(t)["@logLocation"]; got != loc {
			t.Errorf("%s: DescribeObjects @logLocation = %q, want %q", when, got, loc)
		}
		q := mustCall(t, lb.svc, lb.ctx, "QueryObjects", `{"pipelineId":%q,"sphere":"ATTEMPT","query":{"selectors":[
			{"fieldName":"@logLocation","operator":{"type":"EQ","values":[%q]}}]}}`, lb.id, loc).(*datapipeline.QueryObjectsOutput)
		if len(q.IDs) != 1 || q.IDs[0] != lb.attempt {
			t.Errorf("%s: QueryObjects(@logLocation EQ %s) = %v, want [%s]", when, loc, q.IDs, lb.attempt)
		}
		ev := mustCall(t, lb.svc, lb.ctx, "EvaluateExpression", `{"pipelineId":%q,"objectId":%q,"expression":"logs at #{@logLocation}"}`,
			lb.id, lb.attempt).(*datapipeline.EvaluateExpressionOutput)
		if want := "logs at " + loc; ev.EvaluatedExpression != want {
			t.Errorf("%s: EvaluateExpression = %q, want %q", when, ev.EvaluatedExpression, want)
		}
	}
	check("running")
	mustCall(t, lb.svc, lb.ctx, "SetTaskStatus", `{"taskId":%q,"taskStatus":"FINISHED"}`, lb.taskID)
	b := lb.testBundle
	b.schedule(t)
	if got := lb.attemptFields(t)["@status"]; got != "FINISHED" {
		t.Fatalf("attempt @status = %q, want FINISHED", got)
	}
	check("finished")
}

// TestAttemptLogsRefusals checks the answers of the logs operations that
// come before any file is read: the caller's account only, an attempt
// that exists, a name inside the location, and a location reported.
func TestAttemptLogsRefusals(t *testing.T) {
	t.Parallel()
	lb := setupLogs(t)
	list := func(ctx context.Context, pipelineID, attemptID string) error {
		_, err := lb.svc.ListAttemptLogs(ctx, &datapipeline.ListAttemptLogsInput{PipelineID: pipelineID, AttemptID: attemptID})
		return err
	}
	get := func(ctx context.Context, pipelineID, attemptID, name string) error {
		_, err := lb.svc.GetAttemptLog(ctx, &datapipeline.GetAttemptLogInput{PipelineID: pipelineID, AttemptID: attemptID, Name: name})
		return err
	}
	for _, err := range []error{list(lb.ctx, lb.id, lb.attempt), get(lb.ctx, lb.id, lb.attempt, "stdout")} {
		if msg := wantCode(t, err, datapipeline.CodeResourceNotFoundException); !strings.Contains(msg, "no logs yet") || !strings.Contains(msg, lb.attempt) {
			t.Errorf("before a @logLocation: message %q, want it to say the attempt has no logs yet", msg)
		}
	}
	var e *datapipeline.Error
	if err := list(lb.ctx, lb.id, lb.attempt); !errors.As(err, &e) || e.HTTPStatus() != 404 {
		t.Errorf("no logs yet: status %v, want 404", err)
	}
	// An instance's id, as list-runs shows it, means its latest attempt.
	instance := strings.TrimSuffix(lb.attempt, "_Attempt=1")
	if msg := wantCode(t, get(lb.ctx, lb.id, instance, "stdout"), datapipeline.CodeResourceNotFoundException); !strings.Contains(msg, "Attempt "+lb.attempt+" (RUNNING) has no logs yet") {
		t.Errorf("GetAttemptLog(instance %s): message %q, want it about attempt %s", instance, msg, lb.attempt)
	}
	if err := lb.progress(t, `[{"key":"@logLocation","stringValue":"/var/log/culvert"}]`); err != nil {
		t.Fatal(err)
	}
	// Another account learns nothing, not even that the pipeline exists.
	wantCode(t, list(lb.ctxB, lb.id, lb.attempt), datapipeline.CodePipelineNotFoundException)
	wantCode(t, get(lb.ctxB, lb.id, lb.attempt, "stdout"), datapipeline.CodePipelineNotFoundException)
	wantCode(t, list(lb.ctx, "df-NOSUCHPIPE1", lb.attempt), datapipeline.CodePipelineNotFoundException)
	if msg := wantCode(t, list(lb.ctx, lb.id, "@Work_2001-01-01T00:00:00_Attempt=1"), datapipeline.CodeResourceNotFoundException); !strings.Contains(msg, "has no attempt") {
		t.Errorf("unknown attempt: message %q", msg)
	}

	for _, name := range []string{"../../etc/passwd", "/etc/passwd", "sub/../../x", "a//b", ".", `..\x`, "a\x00b", ""} {
		if msg := wantCode(t, get(lb.ctx, lb.id, lb.attempt, name), datapipeline.CodeInvalidRequestException); !strings.Contains(msg, "inside the attempt's log location") {
			t.Errorf("name %q: message %q", name, msg)
		}
	}
	wantCode(t, list(lb.ctx, "", lb.attempt), datapipeline.CodeInvalidRequestException)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}
