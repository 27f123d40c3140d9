package measure

import (
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/culvert/culvert/internal/sdkhttp"
)

// Development credentials: culvert's built-in key, which moto accepts too.
const (
	DevAccessKey = "AKIDEXAMPLE"
	DevSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// NewClient returns a Data Pipeline client for endpoint, signed with the
// development key, that keeps up to conns idle connections to it, never
// retries (so that every failure is counted) and replays a request whose
// pooled connection turned out closed (sdkhttp.Transport).
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
		HTTPClient:   &http.Client{Transport: &sdkhttp.Transport{Base: base}, Timeout: timeout},
		Retryer:      aws.NopRetryer{},
	})
}
