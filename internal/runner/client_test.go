package runner

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
)

// TestNewClientCABundle checks that a runner's client trusts the
// certificates AWS_CA_BUNDLE names, as every SDK client does: the SDK
// applies the bundle only to a transport it builds, which NewClient must
// keep.
func TestNewClientCABundle(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Write([]byte(`{}`)) // a poll that found no task
	}))
	t.Cleanup(srv.Close)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		bundle string
		wantOK bool
	}{
		{"without the bundle", "", false},
		{"with AWS_CA_BUNDLE", bundle, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_CA_BUNDLE", tc.bundle)
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			cfg, err := awsconfig.LoadDefaultConfig(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			c := NewClient(cfg, srv.URL, 2)
			_, err = c.PollForTask(t.Context(), &datapipeline.PollForTaskInput{WorkerGroup: aws.String("wg")})
			if (err == nil) != tc.wantOK {
				t.Errorf("PollForTask over TLS %s: err = %v, want success %v", tc.name, err, tc.wantOK)
			}
		})
	}
}
