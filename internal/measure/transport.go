package measure

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
)

// Development credentials: culvert's built-in key, which moto accepts too.
const (
	DevAccessKey = "AKIDEXAMPLE"
	DevSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// NewClient returns a Data Pipeline client for endpoint, signed with the
// development key, that keeps up to conns idle connections to it, never
// retries (so that every failure is counted) and replays a request whose
// pooled connection turned out closed (see BufferingTransport).
func NewClient(endpoint, region string, conns int, timeout time.Duration) *datapipeline.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConns = 2 * conns
	base.MaxIdleConnsPerHost = conns
	base.IdleConnTimeout = 90 * time.Second
	base.ForceAttemptHTTP2 = false
	return datapipeline.New(datapipeline.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(DevAccessKey, DevSecretKey, ""),
		HTTPClient:   &http.Client{Transport: &BufferingTransport{Base: base}, Timeout: timeout},
		Retryer:      aws.NopRetryer{},
	})
}

// BufferingTransport reads every request body into memory and makes it
// replayable (GetBody). aws-sdk-go-v2 closes its request body stream once
// the response arrives; on loopback the response can come while net/http's
// writeLoop still reads that stream to its end, and the failed read closes
// the connection under the response being read ("use of closed network
// connection", aws/aws-sdk-go-v2#2737). A buffered body is the transport's
// own, so nothing closes it early, and a request whose pooled connection
// turned out closed can be sent again.
type BufferingTransport struct{ Base http.RoundTripper }

// RoundTrip implements [http.RoundTripper].
func (t *BufferingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("buffer request body: %w", err)
		}
		req = req.Clone(req.Context())
		req.ContentLength = int64(len(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req.Body, _ = req.GetBody()
	}
	return t.Base.RoundTrip(req)
}
