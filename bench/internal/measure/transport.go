package measure

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// BufferingTransport reads every request body into memory and makes it
// replayable (GetBody), so that net/http can resend a request whose pooled
// connection turned out to be closed, instead of the SDK reporting "use of
// closed network connection" (aws/aws-sdk-go-v2#2737).
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
