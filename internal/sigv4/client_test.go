package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/smithy-go"
)

// TestDataPipelineClient drives Verify with the real Data Pipeline client,
// so whatever headers and encodings the SDK sends today are covered, not
// just those the signer sees in a hand-built request.
func TestDataPipelineClient(t *testing.T) {
	t.Parallel()
	// The SDK signs with the real clock, so the server uses it too.
	v := &Verifier{Credentials: Static{DevCredential.AccessKeyID: DevCredential}, Service: "datapipeline"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if _, err := v.Verify(r, body); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("Verify() error %v is not an *Error", err)
				return
			}
			w.WriteHeader(e.HTTPStatus())
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.ErrorCode(), "message": e.ErrorMessage()})
			return
		}
		switch r.Header.Get("X-Amz-Target") {
		case "DataPipeline.CreatePipeline":
			_, _ = io.WriteString(w, `{"pipelineId":"df-X"}`)
		default:
			_, _ = io.WriteString(w, `{}`)
		}
	}))
	defer srv.Close()

	client := func(secret string) *datapipeline.Client {
		return datapipeline.New(datapipeline.Options{
			BaseEndpoint: aws.String(srv.URL),
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider(DevCredential.AccessKeyID, secret, ""),
			HTTPClient:   srv.Client(),
			// One attempt, so a rejected call fails fast.
			RetryMaxAttempts: 1,
		})
	}
	ctx := context.Background()

	t.Run("right key", func(t *testing.T) {
		c := client(DevCredential.SecretAccessKey)
		if _, err := c.ListPipelines(ctx, &datapipeline.ListPipelinesInput{}); err != nil {
			t.Fatalf("ListPipelines: %v", err)
		}
		out, err := c.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{
			Name:     aws.String("nightly copy"),
			UniqueId: aws.String("token with spaces/and+symbols"),
		})
		if err != nil {
			t.Fatalf("CreatePipeline: %v", err)
		}
		if got := aws.ToString(out.PipelineId); got != "df-X" {
			t.Errorf("CreatePipeline pipelineId = %q, want df-X", got)
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		_, err := client("wrong").ListPipelines(ctx, &datapipeline.ListPipelinesInput{})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("ListPipelines error = %v, want a smithy.APIError", err)
		}
		if got := apiErr.ErrorCode(); got != codeInvalidSignature {
			t.Errorf("ListPipelines error code = %s, want %s", got, codeInvalidSignature)
		}
	})
}
