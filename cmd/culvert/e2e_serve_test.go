package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestDevKeyLoopbackOnly checks the one safety rule of a server started
// without --credentials: it holds a publicly known key, so it must refuse,
// before serving anything, to listen anywhere but loopback.
func TestDevKeyLoopbackOnly(t *testing.T) {
	t.Parallel()

	t.Run("dev key on 0.0.0.0 fails fast", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		_, err := startServer(t, noEnv, "--listen", "0.0.0.0:0")
		if err == nil {
			t.Fatal("culvert serve --listen 0.0.0.0:0 without --credentials started, want an error")
		}
		if !strings.Contains(err.Error(), "--credentials") {
			t.Errorf("error = %q, want it to mention --credentials", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("failing took %v, want it to fail fast", d)
		}
	})

	t.Run("credentials file on 0.0.0.0 serves", func(t *testing.T) {
		t.Parallel()
		creds := writeFile(t, "credentials", "AKIDOPS000000000001 opsSecret/0000000000000000000000000000000 210987654321\n")
		s := mustRunServer(t, "--listen", "0.0.0.0:0", "--credentials", creds)
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsUnspecified() {
			t.Errorf("Ready URL %s, want the unspecified address", s.URL)
		}
		resp, err := http.Get("http://127.0.0.1:" + u.Port() + "/healthz")
		if err != nil {
			t.Fatalf("GET /healthz: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
			t.Errorf("GET /healthz = %d %q, want 200 \"ok\\n\"", resp.StatusCode, body)
		}
		c := newClient("http://127.0.0.1:"+u.Port()+"/", "AKIDOPS000000000001", "opsSecret/0000000000000000000000000000000", nil)
		if _, err := c.ListPipelines(context.Background(), &datapipeline.ListPipelinesInput{}); err != nil {
			t.Errorf("ListPipelines with the file's key: %v", err)
		}
		_, err = newClient("http://127.0.0.1:"+u.Port()+"/", devAccessKeyID, devSecret, nil).
			ListPipelines(context.Background(), &datapipeline.ListPipelinesInput{})
		if code := errorCode(err); code != "UnrecognizedClientException" {
			t.Errorf("ListPipelines with the dev key when a credentials file is given: error code %q (%v), want UnrecognizedClientException", code, err)
		}
	})
}

// TestEnvironment checks that every flag can come from CULVERT_<FLAG> and
// that the command line wins.
func TestEnvironment(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) func(string) string {
		return func(k string) string { return kv[k] }
	}

	t.Run("command line wins", func(t *testing.T) {
		t.Parallel()
		// startServer passes --listen 127.0.0.1:0; were the variable used,
		// the dev key would refuse 0.0.0.0.
		if _, err := startServer(t, env(map[string]string{"CULVERT_LISTEN": "0.0.0.0:0"})); err != nil {
			t.Fatalf("CULVERT_LISTEN overrode --listen: %v", err)
		}
	})

	t.Run("variable applies", func(t *testing.T) {
		t.Parallel()
		s, err := startServer(t, env(map[string]string{"CULVERT_MAX_PIPELINES": "1"}))
		if err != nil {
			t.Fatal(err)
		}
		c := s.devClient()
		ctx := context.Background()
		if _, err := c.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("a"), UniqueId: aws.String("a")}); err != nil {
			t.Fatalf("first CreatePipeline: %v", err)
		}
		_, err = c.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("b"), UniqueId: aws.String("b")})
		var ire *types.InvalidRequestException
		if !errors.As(err, &ire) {
			t.Errorf("second CreatePipeline with CULVERT_MAX_PIPELINES=1: error %v, want InvalidRequestException", err)
		}
	})

	t.Run("bad variable names itself", func(t *testing.T) {
		t.Parallel()
		_, err := startServer(t, env(map[string]string{"CULVERT_MAX_OBJECTS": "many"}))
		if err == nil || !strings.Contains(err.Error(), "CULVERT_MAX_OBJECTS") {
			t.Errorf("CULVERT_MAX_OBJECTS=many: error %v, want one naming the variable", err)
		}
	})
}

// TestServeLimits checks that the limit flags reach the service.
func TestServeLimits(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t, "--max-pipelines", "2", "--max-objects", "3", "--max-body", "4096")
	c := s.devClient()
	ctx := context.Background()

	var ids []string
	for _, name := range []string{"one", "two"} {
		out, err := c.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String(name), UniqueId: aws.String(name)})
		if err != nil {
			t.Fatalf("CreatePipeline(%s): %v", name, err)
		}
		ids = append(ids, aws.ToString(out.PipelineId))
	}
	var ire *types.InvalidRequestException
	_, err := c.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("three"), UniqueId: aws.String("three")})
	if !errors.As(err, &ire) {
		t.Errorf("CreatePipeline over --max-pipelines 2: error %v, want InvalidRequestException", err)
	}
	// Creating an existing pipeline again is not a new pipeline.
	if out, err := c.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("one"), UniqueId: aws.String("one")}); err != nil {
		t.Errorf("idempotent CreatePipeline at the limit: %v", err)
	} else if got := aws.ToString(out.PipelineId); got != ids[0] {
		t.Errorf("idempotent CreatePipeline at the limit = %s, want the existing %s", got, ids[0])
	}
	if _, err := c.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: aws.String(ids[1])}); err != nil {
		t.Fatalf("DeletePipeline: %v", err)
	}
	if _, err := c.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("three"), UniqueId: aws.String("three")}); err != nil {
		t.Errorf("CreatePipeline after a delete freed a slot: %v", err)
	}

	objs := func(n int) []types.PipelineObject {
		var out []types.PipelineObject
		for i := range n {
			id := string(rune('A' + i))
			out = append(out, types.PipelineObject{Id: aws.String(id), Name: aws.String(id),
				Fields: []types.Field{{Key: aws.String("type"), StringValue: aws.String("ShellCommandActivity")}}})
		}
		return out
	}
	if _, err := c.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: aws.String(ids[0]), PipelineObjects: objs(3)}); err != nil {
		t.Errorf("PutPipelineDefinition with 3 objects under --max-objects 3: %v", err)
	}
	_, err = c.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: aws.String(ids[0]), PipelineObjects: objs(4)})
	if !errors.As(err, &ire) || !strings.Contains(ire.ErrorMessage(), "TOO_MANY_OBJECTS") {
		t.Errorf("PutPipelineDefinition with 4 objects under --max-objects 3: error %v, want InvalidRequestException naming TOO_MANY_OBJECTS", err)
	}

	_, err = c.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: aws.String(ids[0]),
		PipelineObjects: []types.PipelineObject{{Id: aws.String("Big"), Name: aws.String("Big"),
			Fields: []types.Field{{Key: aws.String("command"), StringValue: aws.String(strings.Repeat("x", 5000))}}}}})
	var respErr *smithyhttp.ResponseError
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusRequestEntityTooLarge {
		t.Errorf("PutPipelineDefinition over --max-body 4096: error %v, want HTTP 413", err)
	}
	if code := errorCode(err); code != "RequestEntityTooLargeException" {
		t.Errorf("PutPipelineDefinition over --max-body 4096: error code %q, want RequestEntityTooLargeException", code)
	}
}

// errorCode returns the AWS error code of err, or "" if it has none.
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

var errGotTask = errors.New("PollForTask returned a task")

// TestShutdownEndsLongPoll is the in-process twin of TestSIGTERMEndsLongPoll:
// ending Run's context with a 30s long poll in flight returns nil promptly,
// and the poll gets an empty answer or a closed connection.
func TestShutdownEndsLongPoll(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t, "--poll-wait", "30s")
	c := s.devClient()
	done := make(chan error, 1)
	go func() {
		out, err := c.PollForTask(context.Background(), &datapipeline.PollForTaskInput{WorkerGroup: aws.String("wg")})
		if err == nil && out.TaskObject != nil {
			err = errGotTask
		}
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // let the poll reach its wait
	select {
	case err := <-done:
		t.Fatalf("PollForTask returned before shutdown with a 30s --poll-wait: %v", err)
	default:
	}
	start := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("Run() after shutdown = %v, want nil", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v with a poll in flight, want well under the 30s hold", d)
	}
	select {
	case err := <-done:
		if errors.Is(err, errGotTask) || errorCode(err) != "" {
			t.Errorf("PollForTask at shutdown: %v, want an empty answer or a closed connection", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("PollForTask still waiting 5s after shutdown")
	}
}
