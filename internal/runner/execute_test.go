package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// TestExecuteDirectories runs a shell task through the runner: its logs
// land in <LogDir>/<pipelineId>/<componentId>/<instanceId>/<attemptId>/
// and are copied to pipelineLogUri in the same layout; its working
// directory is fresh and removed afterwards unless kept.
func TestExecuteDirectories(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{false, true} {
		t.Run(map[bool]string{false: "removed", true: "kept"}[keep], func(t *testing.T) {
			t.Parallel()
			logURI := t.TempDir()
			r := testRunner(t, newFakeAPI(), &Shell{}, func(c *Config) { c.KeepWorkDirs = keep })
			task := shellTask("ShellCommandActivity", []Field{
				str("command", "pwd; ls -A | wc -l"), str("pipelineLogUri", "file://"+logURI+"/")})
			if err := r.execute(context.Background(), slog.New(slog.DiscardHandler), task); err != nil {
				t.Fatalf("execute() = %v", err)
			}
			layout := filepath.Join("df-TEST", "Work", "@Work_2026-03-01T10:00:00", "@Work_2026-03-01T10:00:00_Attempt=1", StdoutLog)
			out := readFile(t, filepath.Join(r.cfg.LogDir, layout))
			work, count, _ := strings.Cut(strings.TrimSpace(out), "\n")
			if strings.TrimSpace(count) != "0" {
				t.Errorf("the working directory held %s entries when the command started, want 0", count)
			}
			if !strings.HasPrefix(work, r.cfg.WorkRoot) {
				t.Errorf("the working directory %s is not under WorkRoot %s", work, r.cfg.WorkRoot)
			}
			if _, err := os.Stat(work); (err == nil) != keep {
				t.Errorf("after the attempt, Stat(working directory) = %v; want it kept: %v", err, keep)
			}
			if got := readFile(t, filepath.Join(logURI, layout)); got != out {
				t.Errorf("pipelineLogUri copy = %q, want %q", got, out)
			}
		})
	}
}

// TestPathElem keeps ids from escaping the log directory.
func TestPathElem(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"@Work_2026-03-01T10:00:00_Attempt=1": "@Work_2026-03-01T10:00:00_Attempt=1",
		"a/../b":                              "a_.._b",
		"..":                                  "_..",
		".":                                   "_.",
		"":                                    "_",
		`a\b`:                                 "a_b",
	} {
		if got := pathElem(in); got != want {
			t.Errorf("pathElem(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUnsupported checks what the types this runner cannot run report:
// what they need, and what to do instead.
func TestUnsupported(t *testing.T) {
	t.Parallel()
	redshift := &Object{ID: "@Rs_1", Fields: []Field{str("type", "RedshiftDataNode")}}
	s3 := &Object{ID: "@S3_1", Fields: []Field{str("type", "S3DataNode"), str("filePath", "s3://bucket/in.csv")}}
	tests := []struct {
		typ       string
		fields    []Field
		others    []*Object
		wantID    string
		wantInMsg string
	}{
		{typ: "HiveActivity", wantID: "UnsupportedActivity", wantInMsg: "Apache Hive on an Amazon EMR cluster"},
		{typ: "HiveActivity", wantID: "UnsupportedActivity", wantInMsg: "run the query with a SqlActivity"},
		{typ: "EmrActivity", wantID: "UnsupportedActivity", wantInMsg: "EMR"},
		{typ: "RedshiftCopyActivity", wantID: "UnsupportedActivity", wantInMsg: "COPY yourself with a SqlActivity on a RedshiftDatabase"},
		{typ: "DynamoDBTableExists", wantID: "UnsupportedActivity", wantInMsg: "DynamoDB"},
		{typ: "CopyActivity", fields: []Field{ref("input", s3.ID), ref("output", redshift.ID)}, others: []*Object{s3, redshift},
			wantID: "UnsupportedActivity", wantInMsg: "CopyActivity writes RedshiftDataNode @Rs_1"},
		{typ: "Exists", fields: []Field{ref("node", redshift.ID)}, others: []*Object{redshift},
			wantID: "UnsupportedActivity", wantInMsg: "RedshiftDataNode"},
	}
	execs := DefaultExecutors()
	for _, tc := range tests {
		ex := execs[tc.typ]
		if ex == nil {
			t.Errorf("DefaultExecutors has no executor for %s", tc.typ)
			continue
		}
		err := ex.Execute(context.Background(), newJob(t, shellTask(tc.typ, tc.fields, tc.others...)))
		var te *TaskError
		if !errors.As(err, &te) || te.ID != tc.wantID || !strings.Contains(te.Message, tc.wantInMsg) {
			t.Errorf("%s: Execute() = %v, want %s mentioning %q", tc.typ, err, tc.wantID, tc.wantInMsg)
		}
	}
	for typ, want := range map[string]Executor{
		"ShellCommandActivity": &Shell{}, "ShellCommandPrecondition": &Shell{}, "SqlActivity": SQL{}, "CopyActivity": Copy{},
		"S3KeyExists": Precondition{}, "S3PrefixNotEmpty": Precondition{}, "Exists": Precondition{},
	} {
		if got := execs[typ]; fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
			t.Errorf("DefaultExecutors[%s] = %T, want %T", typ, got, want)
		}
	}
}

// TestRetriesThroughTheSDK reports a task through the real SDK client over
// HTTP to a server that answers each try as scripted, and counts the
// tries: the SDK's own retryer is off (NewClient), and the runner retries
// exactly the failures a retry may mend.
func TestRetriesThroughTheSDK(t *testing.T) {
	t.Parallel()
	type answer struct {
		status int
		body   string // "" with status 0: drop the connection
	}
	internal := answer{500, `{"__type":"InternalServiceError","message":"try again"}`}
	throttled := answer{400, `{"__type":"ThrottlingException","message":"Rate exceeded"}`}
	unavailable := answer{503, `<html>bad gateway</html>`}
	dropped := answer{}
	ok := answer{200, `{}`}
	tests := []struct {
		name      string
		answers   []answer
		wantTries int
		wantErr   any // nil, or a pointer to the error type wanted
	}{
		{name: "mended", answers: []answer{internal, throttled, unavailable, dropped, ok}, wantTries: 5},
		{name: "invalid request", answers: []answer{{400, `{"__type":"InvalidRequestException","message":"no"}`}}, wantTries: 1,
			wantErr: new(*types.InvalidRequestException)},
		{name: "task gone", answers: []answer{{400, `{"__type":"TaskNotFoundException","message":"gone"}`}}, wantTries: 1,
			wantErr: new(*types.TaskNotFoundException)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			tries := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var in map[string]any
				if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in["taskId"] != "t-1" ||
					r.Header.Get("X-Amz-Target") != "DataPipeline.SetTaskStatus" {
					t.Errorf("request %v %v, body %v", r.Header.Get("X-Amz-Target"), err, in)
				}
				mu.Lock()
				a := tc.answers[min(tries, len(tc.answers)-1)]
				tries++
				mu.Unlock()
				if a.status == 0 {
					c, _, _ := w.(http.Hijacker).Hijack()
					c.Close()
					return
				}
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.WriteHeader(a.status)
				io.WriteString(w, a.body)
			}))
			defer srv.Close()
			cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
			client := NewClient(cfg, srv.URL, 1)
			r := testRunner(t, newFakeAPI(), nil, func(c *Config) {
				c.API = client
				c.Backoff = func(int) time.Duration { return time.Millisecond }
			})
			err := r.call(context.Background(), "SetTaskStatus", 10*time.Second, func(ctx context.Context) error {
				_, err := client.SetTaskStatus(ctx, statusInput("t-1", nil))
				return err
			})
			mu.Lock()
			if tries != tc.wantTries {
				t.Errorf("%d tries, want %d", tries, tc.wantTries)
			}
			mu.Unlock()
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("call() = %v, want nil", err)
			case tc.wantErr != nil && !errors.As(err, tc.wantErr):
				t.Errorf("call() = %v, want %T", err, tc.wantErr)
			}
		})
	}
}
