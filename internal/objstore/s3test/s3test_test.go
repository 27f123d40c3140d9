package s3test_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/objstore/s3test"
)

func TestHelpers(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	srv.CreateBucket(t, "helpers")
	srv.PutObject(t, "helpers", "d/a.txt", "A")
	srv.PutObjects(t, "helpers", map[string]string{"d/b.txt": "B", "e.txt": "E"})
	if got := srv.GetObject(t, "helpers", "d/b.txt"); got != "B" {
		t.Errorf("GetObject = %q, want B", got)
	}
	if diff := cmp.Diff([]string{"d/a.txt", "d/b.txt"}, srv.Keys(t, "helpers", "d/")); diff != "" {
		t.Errorf("Keys mismatch (-want +got):\n%s", diff)
	}
	// CreateBucket, PutObject, GetObject and one page of ListObjectsV2
	// went over HTTP, path-style; PutObjects did not.
	var got []string
	for _, r := range srv.Requests() {
		if !strings.HasPrefix(srv.URL, "http://"+r.Host) {
			t.Errorf("request to host %s, want %s", r.Host, srv.URL)
		}
		got = append(got, r.Method+" "+r.Path)
	}
	want := []string{"PUT /helpers", "PUT /helpers/d/a.txt", "GET /helpers/d/b.txt", "GET /helpers"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Requests mismatch (-want +got):\n%s", diff)
	}
}

func TestDeny(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	srv.CreateBucket(t, "open")
	srv.CreateBucket(t, "closed")
	srv.PutObject(t, "closed", "k", "v")
	srv.Deny("closed")
	_, err := srv.Client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("closed"), Key: aws.String("k")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" || ae.ErrorMessage() != "Access Denied" ||
		!strings.Contains(err.Error(), "StatusCode: 403, RequestID: DENIED0000000001") {
		t.Errorf("GetObject on a denied bucket = %v, want 403 AccessDenied", err)
	}
	srv.PutObject(t, "open", "k", "v") // fails t if refused
}

// TestEnvReachesChildProcess starts this test binary again as a child
// with Env and nothing else of the parent's AWS settings, and checks that
// the child's SDK, configured only by LoadDefaultConfig, puts an object.
func TestEnvReachesChildProcess(t *testing.T) {
	if os.Getenv("S3TEST_CHILD") != "" {
		t.Skip("in the child")
	}
	t.Parallel()
	srv := s3test.New(t)
	srv.CreateBucket(t, "from-child")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestChild$", "-test.v")
	cmd.Env = append([]string{"S3TEST_CHILD=1", "HOME=" + t.TempDir()}, srv.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestChild") {
		t.Fatalf("the child did not run:\n%s", out)
	}
	if got := srv.GetObject(t, "from-child", "hello.txt"); got != "written by the child" {
		t.Errorf("GetObject = %q", got)
	}
	for _, kv := range srv.Env() {
		if k, _, _ := strings.Cut(kv, "="); k == "AWS_ENDPOINT_URL" {
			t.Errorf("Env sets %s, which would point other services at S3 too", kv)
		}
	}
}

// TestChild is the child of TestEnvReachesChildProcess.
func TestChild(t *testing.T) {
	if os.Getenv("S3TEST_CHILD") == "" {
		t.Skip("run by TestEnvReachesChildProcess")
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("from-child"), Key: aws.String("hello.txt"), Body: strings.NewReader("written by the child")})
	if err != nil {
		t.Fatal(fmt.Errorf("put from the child: %w", err))
	}
}
