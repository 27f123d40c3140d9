package awsjson

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestServeHTTPWire pins the wire behaviour of every protocol outcome.
func TestServeHTTPWire(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"a":`, 8) + "1" + strings.Repeat("}", 8)
	tooDeep := `{"a":` + strings.Repeat("[", 8) + strings.Repeat("]", 8) + "}"
	big := `{"name":"` + strings.Repeat("x", 1024) + `"}`
	tests := []struct {
		name   string
		req    request
		want   response
		ranOps []string // ops that must have run; all others must not
	}{
		{
			name:   "success",
			req:    request{target: "DataPipeline.Echo", body: `{"name":"p","pipelineIds":["df-1","df-2"],"limit":3,"nested":{"key":"k"}}`},
			want:   okResponse(`{"input":{"pipelineIds":["df-1","df-2"],"name":"p","limit":3,"nested":{"key":"k"},"startTimestamp":null},"principal":"/","requestId":"ID"}`),
			ranOps: []string{"Echo"},
		},
		{
			name:   "alt target prefix accepted",
			req:    request{target: "DataPipeline_20121129.Echo", body: `{"name":"p"}`},
			want:   okResponse(`{"input":{"pipelineIds":null,"name":"p","limit":0,"nested":null,"startTimestamp":null},"principal":"/","requestId":"ID"}`),
			ranOps: []string{"Echo"},
		},
		{
			name:   "empty body decodes as empty object",
			req:    request{target: "DataPipeline.Echo", body: ""},
			want:   okResponse(`{"input":{"pipelineIds":null,"name":"","limit":0,"nested":null,"startTimestamp":null},"principal":"/","requestId":"ID"}`),
			ranOps: []string{"Echo"},
		},
		{
			name:   "whitespace body decodes as empty object",
			req:    request{target: "DataPipeline.Echo", body: " \r\n\t"},
			want:   okResponse(`{"input":{"pipelineIds":null,"name":"","limit":0,"nested":null,"startTimestamp":null},"principal":"/","requestId":"ID"}`),
			ranOps: []string{"Echo"},
		},
		{
			name:   "unknown members ignored",
			req:    request{target: "DataPipeline.Echo", body: `{"name":"p","extra":{"deep":[1,2,{"x":null}]},"other":true}`},
			want:   okResponse(`{"input":{"pipelineIds":null,"name":"p","limit":0,"nested":null,"startTimestamp":null},"principal":"/","requestId":"ID"}`),
			ranOps: []string{"Echo"},
		},
		{
			name:   "timestamp member",
			req:    request{target: "DataPipeline.Echo", body: `{"startTimestamp":1700000000.123}`},
			want:   okResponse(`{"input":{"pipelineIds":null,"name":"","limit":0,"nested":null,"startTimestamp":1700000000.123},"principal":"/","requestId":"ID"}`),
			ranOps: []string{"Echo"},
		},
		{
			name:   "nil output is an empty 200",
			req:    request{target: "DataPipeline.Delete", body: `{}`},
			want:   okResponse(""),
			ranOps: []string{"Delete"},
		},
		{
			name:   "typed nil output from a raw op is an empty 200",
			req:    request{target: "DataPipeline.TypedNil", body: `{}`},
			want:   okResponse(""),
			ranOps: []string{"TypedNil"},
		},
		{
			name:   "empty struct output is {}",
			req:    request{target: "DataPipeline.Fail", body: `{"kind":"empty"}`},
			want:   okResponse(`{}`),
			ranOps: []string{"Fail"},
		},
		{
			name:   "raw JSON written verbatim",
			req:    request{target: "DataPipeline.Raw", body: `{}`},
			want:   okResponse(`{"cached":"<&>"}`),
			ranOps: []string{"Raw"},
		},
		{
			name:   "raw JSON output without a body is encoded",
			req:    request{target: "DataPipeline.RawNil", body: `{}`},
			want:   okResponse(`{"kind":"<encoded>"}`),
			ranOps: []string{"RawNil"},
		},
		{
			name:   "no HTML escaping",
			req:    request{target: "DataPipeline.HTML", body: `{}`},
			want:   okResponse(`{"kind":"<a&b>"}`),
			ranOps: []string{"HTML"},
		},
		{
			name: "missing target",
			req:  request{target: "-", body: `{}`},
			want: errResponse(400, "UnknownOperationException", "Missing X-Amz-Target header"),
		},
		{
			name: "empty target",
			req:  request{target: "", body: `{}`},
			want: errResponse(400, "UnknownOperationException", "Missing X-Amz-Target header"),
		},
		{
			name: "unknown operation",
			req:  request{target: "DataPipeline.Foo", body: `{}`},
			want: errResponse(400, "UnknownOperationException", "Unrecognized operation: DataPipeline.Foo"),
		},
		{
			name: "target without dot",
			req:  request{target: "DataPipelineEcho", body: `{}`},
			want: errResponse(400, "UnknownOperationException", "Unrecognized operation: DataPipelineEcho"),
		},
		{
			name: "wrong prefix",
			req:  request{target: "DynamoDB_20120810.Echo", body: `{}`},
			want: errResponse(400, "UnknownOperationException", "Unrecognized operation: DynamoDB_20120810.Echo"),
		},
		{
			name: "split on last dot",
			req:  request{target: "DataPipeline.Echo.Echo", body: `{}`},
			want: errResponse(400, "UnknownOperationException", "Unrecognized operation: DataPipeline.Echo.Echo"),
		},
		{
			name: "empty prefix",
			req:  request{target: ".Echo", body: `{}`},
			want: errResponse(400, "UnknownOperationException", "Unrecognized operation: .Echo"),
		},
		{
			name: "empty operation",
			req:  request{target: "DataPipeline.", body: `{}`},
			want: errResponse(400, "UnknownOperationException", "Unrecognized operation: DataPipeline."),
		},
		{
			name: "GET is 404",
			req:  request{method: "GET", target: "DataPipeline.Echo"},
			want: errResponse(404, "UnknownOperationException", "No operation at GET /: AWS JSON requests are POST /"),
		},
		{
			name: "other path is 404",
			req:  request{path: "/foo", target: "DataPipeline.Echo", body: `{}`},
			want: errResponse(404, "UnknownOperationException", "No operation at POST /foo: AWS JSON requests are POST /"),
		},
		{
			name: "query string ignored",
			req:  request{path: "/?x=1", target: "DataPipeline.Delete", body: `{}`},
			want: okResponse(""), ranOps: []string{"Delete"},
		},
		{
			name: "body too large, length known",
			req:  request{target: "DataPipeline.Echo", body: big},
			want: errResponse(413, "RequestEntityTooLargeException", "Request body exceeds 1024 bytes"),
		},
		{
			name: "body too large, chunked",
			req:  request{target: "DataPipeline.Echo", body: big, chunked: true},
			want: errResponse(413, "RequestEntityTooLargeException", "Request body exceeds 1024 bytes"),
		},
		{
			name:   "body at limit, chunked",
			req:    request{target: "DataPipeline.Delete", body: `{"x":"` + strings.Repeat("y", 1024-8) + `"}`, chunked: true},
			want:   okResponse(""),
			ranOps: []string{"Delete"},
		},
		{
			name: "invalid JSON",
			req:  request{target: "DataPipeline.Echo", body: `{"name":}`},
			want: errResponse(400, "SerializationException", "invalid JSON at offset 8: invalid character '}' looking for beginning of value"),
		},
		{
			name: "truncated JSON",
			req:  request{target: "DataPipeline.Echo", body: `{"name":"p"`},
			want: errResponse(400, "SerializationException", "invalid JSON at offset 11: unexpected end of input"),
		},
		{
			name: "top-level array",
			req:  request{target: "DataPipeline.Echo", body: `["name"]`},
			want: errResponse(400, "SerializationException", "invalid JSON at offset 0: top-level value must be an object"),
		},
		{
			name: "top-level null",
			req:  request{target: "DataPipeline.Echo", body: `null`},
			want: errResponse(400, "SerializationException", "invalid JSON at offset 0: top-level value must be an object"),
		},
		{
			name: "wrong member type",
			req:  request{target: "DataPipeline.Echo", body: `{"pipelineIds":"df-1"}`},
			want: errResponse(400, "SerializationException", "Unexpected value type in payload at 'pipelineIds'"),
		},
		{
			name: "wrong nested member type",
			req:  request{target: "DataPipeline.Echo", body: `{"nested":{"key":7}}`},
			want: errResponse(400, "SerializationException", "Unexpected value type in payload at 'nested.key'"),
		},
		{
			name: "number too big for member",
			req:  request{target: "DataPipeline.Echo", body: `{"limit":1e400}`},
			want: errResponse(400, "SerializationException", "Unexpected value type in payload at 'limit'"),
		},
		{
			name: "timestamp of wrong type",
			req:  request{target: "DataPipeline.Echo", body: `{"startTimestamp":"2024-01-01"}`},
			want: errResponse(400, "SerializationException", "Unexpected value type in payload at 'startTimestamp'"),
		},
		{
			name: "duplicate top-level member",
			req:  request{target: "DataPipeline.Echo", body: `{"name":"a","name":"b"}`},
			want: errResponse(400, "SerializationException", `duplicate member "name" at offset 12`),
		},
		{
			name: "duplicate nested member",
			req:  request{target: "DataPipeline.Echo", body: `{"nested":{"key":"a", "key":"b"}}`},
			want: errResponse(400, "SerializationException", `duplicate member "key" at offset 22`),
		},
		{
			name: "duplicate member differing in case",
			req:  request{target: "DataPipeline.Echo", body: `{"name":"a","Name":"b"}`},
			want: errResponse(400, "SerializationException", `duplicate member "Name" at offset 12 (same as "name" ignoring case)`),
		},
		{
			name: "duplicate member spelled with an escape",
			req:  request{target: "DataPipeline.Echo", body: `{"name":"a","n\u0061me":"b"}`},
			want: errResponse(400, "SerializationException", `duplicate member "name" at offset 12`),
		},
		{
			name:   "same member name in sibling objects",
			req:    request{target: "DataPipeline.Echo", body: `{"x":[{"key":1},{"key":2}],"key":3}`},
			want:   okResponse(`{"input":{"pipelineIds":null,"name":"","limit":0,"nested":null,"startTimestamp":null},"principal":"/","requestId":"ID"}`),
			ranOps: []string{"Echo"},
		},
		{
			name: "invalid UTF-8 in a string",
			req:  request{target: "DataPipeline.Echo", body: "{\"name\":\"ab\xffc\"}"},
			want: errResponse(400, "SerializationException", "invalid UTF-8 at offset 11"),
		},
		{
			name: "invalid UTF-8 in a member name",
			req:  request{target: "DataPipeline.Echo", body: "{\"na\xc0\xafme\":1}"},
			want: errResponse(400, "SerializationException", "invalid UTF-8 at offset 4"),
		},
		{
			name: "lone surrogate escape",
			req:  request{target: "DataPipeline.Echo", body: `{"name":"\ud800"}`},
			want: errResponse(400, "SerializationException", `invalid JSON at offset 9: unpaired UTF-16 surrogate escape \uD800`),
		},
		{
			name:   "nesting at the limit",
			req:    request{target: "DataPipeline.Delete", body: deep},
			want:   okResponse(""),
			ranOps: []string{"Delete"},
		},
		{
			name: "nesting over the limit",
			req:  request{target: "DataPipeline.Echo", body: tooDeep},
			want: errResponse(400, "SerializationException", "JSON nested deeper than 8 levels at offset 12"),
		},
		{
			name:   "API error passes through",
			req:    request{target: "DataPipeline.Fail", body: `{"kind":"api"}`},
			want:   errResponse(400, "PipelineNotFoundException", "Pipeline df-1 not found"),
			ranOps: []string{"Fail"},
		},
		{
			name:   "API error with 5xx status passes through",
			req:    request{target: "DataPipeline.Fail", body: `{"kind":"api5xx"}`},
			want:   errResponse(500, "InternalServiceError", "try again"),
			ranOps: []string{"Fail"},
		},
		{
			name:   "API error with non-error status becomes 500",
			req:    request{target: "DataPipeline.Fail", body: `{"kind":"badstatus"}`},
			want:   errResponse(500, "WeirdException", "odd"),
			ranOps: []string{"Fail"},
		},
		{
			name:   "unknown error is a generic 500",
			req:    request{target: "DataPipeline.Fail", body: `{"kind":"internal"}`},
			want:   errResponse(500, "InternalServiceError", "An internal service error occurred."),
			ranOps: []string{"Fail"},
		},
		{
			name:   "panicking op is a generic 500",
			req:    request{target: "DataPipeline.Fail", body: `{"kind":"panic"}`},
			want:   errResponse(500, "InternalServiceError", "An internal service error occurred."),
			ranOps: []string{"Fail"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, b := setup(t)
			got, hdr := do(t, h, tc.req)
			id := hdr.Get("X-Amzn-RequestId")
			if !requestIDPattern.MatchString(id) {
				t.Errorf("x-amzn-RequestId = %q, want a UUID v4", id)
			}
			got.Body = strings.Replace(got.Body, id, "ID", 1)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("response mismatch (-want +got):\n%s", diff)
			}
			for name := range h.Ops {
				want := 0
				for _, ran := range tc.ranOps {
					if ran == name {
						want = 1
					}
				}
				if n := b.called(name); n != want {
					t.Errorf("op %s ran %d times, want %d", name, n, want)
				}
			}
		})
	}
}
