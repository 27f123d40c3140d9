package awsjson

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// botocoreScript drives a real botocore Data Pipeline client against the
// URL in argv[1] and prints what botocore made of each response.
const botocoreScript = `
import json, sys
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

client = botocore.session.get_session().create_client(
    "datapipeline", region_name="us-east-1", endpoint_url=sys.argv[1],
    aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
    config=Config(retries={"total_max_attempts": 1}))

def call(name, **kw):
    try:
        out = getattr(client, name)(**kw)
        meta = out.pop("ResponseMetadata")
        return {"ok": out, "status": meta["HTTPStatusCode"], "requestId": meta.get("RequestId", "")}
    except ClientError as e:
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                "requestId": e.response["ResponseMetadata"].get("RequestId", "")}

print(json.dumps([
    call("list_pipelines"),
    call("delete_pipeline", pipelineId="df-1"),
    call("describe_pipelines", pipelineIds=["df-missing"]),
    call("describe_pipelines", pipelineIds=["df-broken"]),
]))
`

// TestBotocore checks the wire format against an installed botocore, when
// there is one: success output, the empty body of an op without output,
// API errors, the generic internal error, and the request id in
// ResponseMetadata. It is skipped in -short mode and where python3 or
// botocore is missing.
func TestBotocore(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("slow: starts python")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	if err := exec.Command(python, "-c", "import botocore").Run(); err != nil {
		t.Skip("botocore not installed")
	}

	type pipelineIDName struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	type listOutput struct {
		PipelineIDList []pipelineIDName `json:"pipelineIdList"`
		HasMoreResults bool             `json:"hasMoreResults"`
	}
	type describeInput struct {
		PipelineIDs []string `json:"pipelineIds"`
	}
	h := &Handler{
		Target: "DataPipeline",
		Logger: slog.New(slog.DiscardHandler),
		Ops: map[string]Op{
			"DeletePipeline": Handle(func(context.Context, *struct{}) (*struct{}, error) { return nil, nil }),
			"DescribePipelines": Handle(func(_ context.Context, in *describeInput) (*struct{}, error) {
				if in.PipelineIDs[0] == "df-missing" {
					return nil, &testAPIError{"PipelineNotFoundException", "Pipeline not found: df-missing", 400}
				}
				return nil, os.ErrPermission
			}),
			"ListPipelines": Handle(func(context.Context, *struct{}) (*listOutput, error) {
				return &listOutput{PipelineIDList: []pipelineIDName{{ID: "df-1", Name: "a <&> b"}}}, nil
			}),
		},
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	cmd := exec.Command(python, "-c", botocoreScript, srv.URL)
	cmd.Env = append(os.Environ(),
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("botocore script: %v\n%s", err, stderr)
	}
	type result struct {
		OK        map[string]any `json:"ok"`
		Code      string         `json:"code"`
		Message   string         `json:"message"`
		Status    int            `json:"status"`
		RequestID string         `json:"requestId"`
	}
	var got []result
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("botocore output %q: %v", out, err)
	}
	for i, r := range got {
		if !requestIDPattern.MatchString(r.RequestID) {
			t.Errorf("call %d: botocore RequestId = %q", i, r.RequestID)
		}
		got[i].RequestID = ""
	}
	want := []result{
		{OK: map[string]any{"pipelineIdList": []any{map[string]any{"id": "df-1", "name": "a <&> b"}}, "hasMoreResults": false}, Status: 200},
		{OK: map[string]any{}, Status: 200},
		{Code: "PipelineNotFoundException", Message: "Pipeline not found: df-missing", Status: 400},
		{Code: "InternalServiceError", Message: "An internal service error occurred.", Status: 500},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("botocore results mismatch (-want +got):\n%s", diff)
	}
}

// TestBotocoreErrorEnvelope checks the error envelope the way botocore's
// JSON protocol parser reads it (botocore/parsers.py,
// BaseJSONParser._do_error_parse): it loads the body as JSON, takes the
// code from "__type" — dropping anything after a ':' and anything up to
// and including the last '#', so "com.amazonaws.datapipeline#X" also
// works — and the text from "message" (falling back to "Message"). The
// request id comes from the x-amzn-requestid header into
// ResponseMetadata.RequestId. aws-sdk-go-v2 reads the same fields but
// prefers the X-Amzn-ErrorType header for the code when present, which is
// why the handler sends that header with the same value.
func TestBotocoreErrorEnvelope(t *testing.T) {
	t.Parallel()
	botocoreParse := func(status int, body []byte) (code, msg string) {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return "", string(body)
		}
		msg, _ = m["message"].(string)
		if msg == "" {
			msg, _ = m["Message"].(string)
		}
		code, ok := m["__type"].(string)
		if !ok {
			code = fmt.Sprint(status)
		}
		code, _, _ = strings.Cut(code, ":")
		if i := strings.LastIndexByte(code, '#'); i >= 0 {
			code = code[i+1:]
		}
		return code, msg
	}
	tests := []struct {
		req      request
		wantCode string
		wantMsg  string
	}{
		{request{target: "DataPipeline.Foo"}, "UnknownOperationException", "Unrecognized operation: DataPipeline.Foo"},
		{request{target: "DataPipeline.Echo", body: "{"}, "SerializationException", "invalid JSON at offset 1: unexpected end of input"},
		{request{target: "DataPipeline.Fail", body: `{"kind":"api"}`}, "PipelineNotFoundException", "Pipeline df-1 not found"},
		{request{target: "DataPipeline.Fail", body: `{}`}, "InternalServiceError", "An internal service error occurred."},
	}
	for _, tc := range tests {
		h, _ := setup(t)
		got, hdr := do(t, h, tc.req)
		code, msg := botocoreParse(got.Status, []byte(got.Body))
		if code != tc.wantCode || msg != tc.wantMsg {
			t.Errorf("%s: botocore would see (%q, %q), want (%q, %q)", tc.req.target, code, msg, tc.wantCode, tc.wantMsg)
		}
		if got.ErrorType != code {
			t.Errorf("%s: X-Amzn-ErrorType = %q, body __type = %q", tc.req.target, got.ErrorType, code)
		}
		if hdr.Get("x-amzn-requestid") == "" {
			t.Errorf("%s: no x-amzn-requestid for ResponseMetadata", tc.req.target)
		}
	}
}
