package sigv4

import (
	"strconv"
	"testing"
)

// BenchmarkVerify measures one Data Pipeline request as the Go SDK sends it:
// JSON 1.1 headers, invocation id, retry header and a small body.
func BenchmarkVerify(b *testing.B) {
	r, body := sdkSigned(b, signSpec{
		body: `{"pipelineId":"df-0123456789ABCDEFGHIJ","objectIds":["Default","Schedule","ShellActivity"],"evaluateExpressions":true}`,
		headers: [][2]string{
			{"X-Amz-Target", "DataPipeline.DescribeObjects"},
			{"Amz-Sdk-Invocation-Id", "6a3e5f0e-7d5e-4c65-8f3b-5a0e8b0f4c21"},
			{"Amz-Sdk-Request", "attempt=1; max=3"},
			{"User-Agent", "aws-sdk-go-v2/1.48.0 os/linux lang/go#1.26 md/GOOS#linux api/datapipeline#1.31.0"},
			{"Accept-Encoding", "identity"},
		},
	})
	// As read by net/http: Content-Length in the header, Host outside it.
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	v := testVerifier()
	if _, err := v.Verify(r, body); err != nil {
		b.Fatalf("Verify() error = %v\n%s", err, r.Header.Get("Authorization"))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}
