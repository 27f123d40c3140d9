package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/objstore/s3test"
)

// These tests pin docs/assumptions/0022-attempt-logs.md: a runner names
// where an attempt's logs are with @logLocation in its acknowledgement,
// the attempt shows it, and culvert serve serves the files there to the
// pipeline's account, through `culvert logs` or a signed GET.

// logsRunner is a runner of a resource's worker group written against the
// public API, as a user's own would be, which writes an attempt's logs
// where it says it does.
type logsRunner struct {
	t  *testing.T
	c  *datapipeline.Client
	wg string
}

// startLogsPipeline creates and activates a pipeline whose one activity
// runs on an Ec2Resource, on a server without the embedded runner, and
// returns its id and the runner that will serve the resource.
func startLogsPipeline(t *testing.T, c *datapipeline.Client, name string) (string, *logsRunner) {
	t.Helper()
	id := mustCreate(t, c, name, name)
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	mustPut(t, c, id, resourcePipeline(start, "echo hello"))
	if _, err := c.ActivatePipeline(context.Background(), &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	return id, &logsRunner{t: t, c: c, wg: "culvert:" + id + ":Box"}
}

// claim polls until a task arrives and returns it, not yet acknowledged.
func (r *logsRunner) claim() *types.TaskObject {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out, err := r.c.PollForTask(context.Background(), &datapipeline.PollForTaskInput{WorkerGroup: aws.String(r.wg), Hostname: aws.String("runner-7.test")})
		if err != nil {
			r.t.Fatalf("PollForTask: %v", err)
		}
		if out.TaskObject != nil {
			return out.TaskObject
		}
	}
	r.t.Fatalf("no task for worker group %s within 20 s", r.wg)
	return nil
}

// report reports progress on task, naming loc as its @logLocation when
// it is not empty, as culvert's runner does in its acknowledgement.
func (r *logsRunner) report(task *types.TaskObject, loc string) {
	r.t.Helper()
	in := &datapipeline.ReportTaskProgressInput{TaskId: task.TaskId}
	if loc != "" {
		in.Fields = []types.Field{{Key: aws.String("@logLocation"), StringValue: aws.String(loc)}}
	}
	if _, err := r.c.ReportTaskProgress(context.Background(), in); err != nil {
		r.t.Fatalf("ReportTaskProgress(@logLocation %q): %v", loc, err)
	}
}

func (r *logsRunner) finish(task *types.TaskObject) {
	r.t.Helper()
	if _, err := r.c.SetTaskStatus(context.Background(), &datapipeline.SetTaskStatusInput{TaskId: task.TaskId, TaskStatus: types.TaskStatusFinished}); err != nil {
		r.t.Fatalf("SetTaskStatus: %v", err)
	}
}

// writeLogs writes files (name → content) under dir.
func writeLogs(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// logLocation returns the attempt's @logLocation values.
func logLocation(t *testing.T, c *datapipeline.Client, id, attempt string) []string {
	t.Helper()
	return fieldValues(objectFields(t, c, id, attempt)[attempt], "@logLocation")
}

// TestCLILogs runs `culvert logs` against a server whose attempt's runner
// reported a local @logLocation: no logs before it does, then stdout,
// stderr, any file and the list, while the attempt runs and after.
func TestCLILogs(t *testing.T) {
	hermeticAWS(t)
	dir := t.TempDir() // where the runner writes, and the server may read
	s := mustRunServer(t, "--embedded-runner=false", "--log-roots", dir)
	c := s.devClient()
	id, runner := startLogsPipeline(t, c, "logs-cli")
	task := runner.claim()
	attempt := aws.ToString(task.AttemptId)
	runner.report(task, "") // acknowledged, nowhere named yet

	_, _, err := runCLI(t, "logs", id, attempt, "--endpoint", s.URL)
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException: Attempt "+attempt) || !strings.Contains(err.Error(), "no logs yet") {
		t.Errorf("culvert logs before a @logLocation: %v, want ResourceNotFoundException saying there are no logs yet", err)
	}
	if got := logLocation(t, c, id, attempt); len(got) != 0 {
		t.Errorf("attempt's @logLocation before one was reported = %q, want none", got)
	}

	loc := "file://" + dir
	writeLogs(t, dir, map[string]string{"stdout.log": "hello from the runner\n", "stderr.log": "a warning\n", "sub/metrics.json": `{"rows":3}`})
	runner.report(task, loc)

	check := func(when string) {
		t.Helper()
		if got := logLocation(t, c, id, attempt); !slices.Equal(got, []string{loc}) {
			t.Errorf("%s: DescribeObjects @logLocation = %q, want [%s]", when, got, loc)
		}
		for _, tc := range []struct{ args, want []string }{
			{[]string{"logs", id, attempt}, []string{"hello from the runner\n"}},
			{[]string{"logs", "--stderr", id, attempt}, []string{"a warning\n"}},
			{[]string{"logs", id, attempt, "--file", "sub/metrics.json"}, []string{`{"rows":3}`}},
			{[]string{"logs", id, attempt, "--file", "stdout.log"}, []string{"hello from the runner\n"}},
			// An instance's id, as culvert runs shows it, means its
			// latest attempt.
			{[]string{"logs", id, strings.TrimSuffix(attempt, "_Attempt=1")}, []string{"hello from the runner\n"}},
		} {
			if got := mustCLI(t, append(tc.args, "--endpoint", s.URL)...); got != tc.want[0] {
				t.Errorf("%s: culvert %s = %q, want %q", when, strings.Join(tc.args, " "), got, tc.want[0])
			}
		}
		list := mustCLI(t, "logs", id, attempt, "--list", "--endpoint", s.URL)
		lines := strings.Split(strings.TrimSpace(list), "\n")
		var names []string
		for _, l := range lines[min(2, len(lines)):] {
			names = append(names, strings.Fields(l)[0])
		}
		if len(lines) < 2 || lines[0] != loc || !strings.HasPrefix(lines[1], "NAME") ||
			!slices.Equal(names, []string{"stderr.log", "stdout.log", "sub/metrics.json"}) {
			t.Errorf("%s: culvert logs --list =\n%s\nwant the location, a header and stderr.log, stdout.log, sub/metrics.json", when, list)
		}
		var out struct {
			LogLocation string `json:"logLocation"`
			Files       []struct {
				Name         string  `json:"name"`
				Size         int64   `json:"size"`
				LastModified float64 `json:"lastModified"`
			} `json:"files"`
		}
		mustUnmarshal(t, mustCLI(t, "logs", id, attempt, "--list", "--json", "--endpoint", s.URL), &out)
		if out.LogLocation != loc || len(out.Files) != 3 || out.Files[1].Name != "stdout.log" ||
			out.Files[1].Size != int64(len("hello from the runner\n")) || out.Files[1].LastModified < float64(time.Now().Add(-time.Hour).Unix()) {
			t.Errorf("%s: culvert logs --list --json = %+v", when, out)
		}
	}
	check("running")
	runner.finish(task)
	waitStatuses(t, c, id, map[string]string{strings.TrimSuffix(attempt, "_Attempt=1"): "FINISHED"})
	check("finished")

	// The endpoint comes from the SDK's variables as for the other verbs.
	t.Setenv("AWS_ENDPOINT_URL_DATA_PIPELINE", s.URL)
	if got := mustCLI(t, "logs", id, attempt); got != "hello from the runner\n" {
		t.Errorf("culvert logs with AWS_ENDPOINT_URL_DATA_PIPELINE = %q", got)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"logs", id, attempt, "--file", "nope.log"}, "ResourceNotFoundException: Attempt " + attempt + ` has no log file "nope.log" at ` + loc + "; it has stderr.log, stdout.log, sub/metrics.json"},
		{[]string{"logs", id, attempt, "--file", "../secret"}, "logs: --file"},
		{[]string{"logs", id, attempt, "--stderr", "--list"}, "at most one of"},
		{[]string{"logs", id, attempt, "--json"}, "--json goes with --list"},
		{[]string{"logs", id}, "missing arguments"},
		{[]string{"logs", "df-NOSUCHPIPELINE00", attempt}, "PipelineNotFoundException"},
	} {
		if _, _, err := runCLI(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("culvert %s: %v, want an error with %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}

	// A location this server cannot see: the runner ran elsewhere.
	id2, runner2 := startLogsPipeline(t, c, "logs-elsewhere")
	task2 := runner2.claim()
	elsewhere := "/var/lib/culvert-runner/logs/" + id2
	runner2.report(task2, elsewhere)
	for _, extra := range [][]string{nil, {"--list"}} {
		args := append([]string{"logs", id2, aws.ToString(task2.AttemptId), "--endpoint", s.URL}, extra...)
		_, _, err := runCLI(t, args...)
		if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") || !strings.Contains(err.Error(), elsewhere) ||
			!strings.Contains(err.Error(), "not on this server") || !strings.Contains(err.Error(), `"runner-7.test"`) {
			t.Errorf("culvert %s: %v, want an error naming %s, not on this server, and the runner's host", strings.Join(args, " "), err, elsewhere)
		}
	}
}

// signedGet sends GET path (escaped, from the server's root) to s, signed
// with the key when akid is not empty, and returns the answer without
// following redirects.
func signedGet(t *testing.T, s *testServer, akid, secret, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(s.URL, "/")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if akid != "" {
		creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptyPayloadHash, "datapipeline", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	hc := &http.Client{Transport: s.transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// apiErrorBody reads the API's error envelope.
func apiErrorBody(t *testing.T, body string) (code, message string) {
	t.Helper()
	var env struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("error body %q is not the API's JSON envelope: %v", body, err)
	}
	return env.Type, env.Message
}

// TestLogsEndpointRefusals checks that the logs endpoint serves an
// attempt's logs only to its pipeline's account, with a valid signature,
// and never anything outside its log location.
func TestLogsEndpointRefusals(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	s := mustRunServer(t, "--embedded-runner=false", "--credentials", writeFile(t, "credentials", twoAccounts), "--log-roots", base)
	a := s.client(keyA, secretA)
	id, runner := startLogsPipeline(t, a, "logs-refusals")
	task := runner.claim()
	attempt := aws.ToString(task.AttemptId)

	secret := filepath.Join(base, "secret.txt")
	writeLogs(t, base, map[string]string{"secret.txt": "the password", "attempt/stdout.log": "hello\n"})
	dir := filepath.Join(base, "attempt")
	if err := os.Symlink(secret, filepath.Join(dir, "leak")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	runner.report(task, dir)
	prefix := "/logs/" + id + "/" + attempt + "/"

	if resp, body := signedGet(t, s, keyA, secretA, prefix+"stdout"); resp.StatusCode != 200 || body != "hello\n" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Fatalf("owner's GET stdout = %d %q %v, want 200 hello with a request id", resp.StatusCode, body, resp.Header)
	}
	tests := []struct {
		name, akid, secret, path string
		status                   int
		code, inMessage          string
	}{
		{"unsigned", "", "", prefix + "stdout", 403, "MissingAuthenticationTokenException", ""},
		{"wrong secret", keyA, secretB, prefix + "stdout", 403, "InvalidSignatureException", ""},
		{"another account", keyB, secretB, prefix + "stdout", 400, "PipelineNotFoundException", "Pipeline " + id + " was not found"},
		{"another account's list", keyB, secretB, prefix, 400, "PipelineNotFoundException", id},
		{"a link out", keyA, secretA, prefix + "leak", 403, "AccessDeniedException", dir},
		{"through a link out", keyA, secretA, prefix + "up/secret.txt", 403, "AccessDeniedException", dir},
		{"a backslash", keyA, secretA, prefix + `..%5Csecret.txt`, 400, "InvalidRequestException", "backslash"},
		{"no such attempt", keyA, secretA, "/logs/" + id + "/@Say_2001-01-01T00:00:00_Attempt=1/stdout", 404, "ResourceNotFoundException", "has no attempt"},
		{"no such file", keyA, secretA, prefix + "nope", 404, "ResourceNotFoundException", "it has stdout.log."},
	}
	for _, tc := range tests {
		resp, body := signedGet(t, s, tc.akid, tc.secret, tc.path)
		code, msg := apiErrorBody(t, body)
		if resp.StatusCode != tc.status || code != tc.code || !strings.Contains(msg, tc.inMessage) || strings.Contains(body, "the password") {
			t.Errorf("%s: GET %s = %d %s, want %d %s with %q", tc.name, tc.path, resp.StatusCode, body, tc.status, tc.code, tc.inMessage)
		}
	}
	// Paths that climb: written plainly, the server cleans them and
	// redirects, which a signature for the path asked for does not
	// follow to anything; escaped, they reach the handler and are refused.
	for _, path := range []string{prefix + "../../../secret.txt", prefix + "%2E%2E/%2E%2E/secret.txt", prefix + "..%2F..%2F..%2Fsecret.txt", prefix + "%2Fetc%2Fpasswd"} {
		resp, body := signedGet(t, s, keyA, secretA, path)
		if resp.StatusCode == 200 || strings.Contains(body, "the password") || strings.Contains(body, "root:") {
			t.Errorf("GET %s = %d %q, want a refusal", path, resp.StatusCode, body)
		}
	}
	// The list shows what is inside: the link leading out is not there.
	resp, body := signedGet(t, s, keyA, secretA, prefix)
	var list struct {
		LogLocation string `json:"logLocation"`
		Files       []struct {
			Name string `json:"name"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(body), &list); resp.StatusCode != 200 || err != nil {
		t.Fatalf("GET list = %d %s (%v)", resp.StatusCode, body, err)
	}
	var names []string
	for _, f := range list.Files {
		names = append(names, f.Name)
	}
	if list.LogLocation != dir || !slices.Equal(names, []string{"stdout.log"}) {
		t.Errorf("list = %s, want only stdout.log at %s", body, dir)
	}

	// A runner may report any location; one outside the server's log
	// roots, however readable, is not served: no key to an account is a
	// key to the server's disk.
	elsewhere := t.TempDir()
	writeLogs(t, elsewhere, map[string]string{"stdout.log": "the password"})
	for _, loc := range []string{elsewhere, "file://" + elsewhere, "/etc"} {
		runner.report(task, loc)
		for _, p := range []string{prefix + "stdout", prefix, prefix + "passwd"} {
			resp, body := signedGet(t, s, keyA, secretA, p)
			code, _ := apiErrorBody(t, body)
			if resp.StatusCode != 403 || code != "AccessDeniedException" || strings.Contains(body, "the password") || strings.Contains(body, "root:") {
				t.Errorf("@logLocation %s outside the log roots: GET %s = %d %s, want 403 AccessDeniedException", loc, p, resp.StatusCode, body)
			}
		}
	}
}

// TestEmbeddedRunnerLogLocation runs an activity on a resource with the
// embedded runner and prints its stdout with culvert logs, from the
// @logLocation the runner reported: the attempt's directory under
// DATA/logs.
func TestEmbeddedRunnerLogLocation(t *testing.T) {
	hermeticAWS(t)
	s := mustRunServer(t)
	c := s.devClient()
	id := mustCreate(t, c, "embedded-logs", "embedded-logs")
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	mustPut(t, c, id, resourcePipeline(start, "echo hello from #{@scheduledStartTime}"))
	if _, err := c.ActivatePipeline(context.Background(), &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	stamp := start.Format("2006-01-02T15:04:05")
	say := "@Say_" + stamp
	waitStatuses(t, c, id, map[string]string{say: "FINISHED"})
	attempt := say + "_Attempt=1"
	dir := filepath.Join(s.Data, "logs", id, "Say", say, attempt)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if got, want := logLocation(t, c, id, attempt), []string{"file://" + filepath.ToSlash(dir) + "/"}; !slices.Equal(got, want) {
		t.Errorf("the attempt's @logLocation = %q, want %q", got, want)
	}
	if got := mustCLI(t, "logs", id, attempt, "--endpoint", s.URL); strings.TrimSpace(got) != "hello from "+stamp {
		t.Errorf("culvert logs = %q, want the command's output", got)
	}
	if list := mustCLI(t, "logs", id, attempt, "--list", "--endpoint", s.URL); !strings.Contains(list, "stdout.log") || !strings.Contains(list, "stderr.log") {
		t.Errorf("culvert logs --list =\n%s\nwant stdout.log and stderr.log", list)
	}
}

// TestLogsFromS3 reads an attempt's logs from the s3:// @logLocation its
// runner reported, through the server's S3 configuration (the SDK's
// default chain), and names the location when S3 refuses.
func TestLogsFromS3(t *testing.T) {
	srv := s3test.New(t)
	srv.CreateBucket(t, "culvert-logs")
	srv.Setenv(t) // the server reads S3 as the SDK's chain finds it
	s := mustRunServer(t, "--embedded-runner=false")
	c := s.devClient()
	id, runner := startLogsPipeline(t, c, "logs-s3")
	task := runner.claim()
	attempt := aws.ToString(task.AttemptId)
	prefix := "logs/" + id + "/Say/" + strings.TrimSuffix(attempt, "_Attempt=1") + "/" + attempt + "/"
	srv.PutObject(t, "culvert-logs", prefix+"stdout.log", "hello from S3\n")
	srv.PutObject(t, "culvert-logs", prefix+"runner.log", "staged 0 files\n")
	srv.PutObject(t, "culvert-logs", "logs/"+id+"/Say/other/stdout.log", "not this attempt's")
	loc := "s3://culvert-logs/" + prefix
	runner.report(task, loc)
	path := "/logs/" + id + "/" + attempt + "/"

	if resp, body := signedGet(t, s, devAccessKeyID, devSecret, path+"stdout"); resp.StatusCode != 200 || body != "hello from S3\n" {
		t.Errorf("GET stdout from S3 = %d %q", resp.StatusCode, body)
	}
	resp, body := signedGet(t, s, devAccessKeyID, devSecret, path)
	if resp.StatusCode != 200 || !strings.Contains(body, `"logLocation":"`+loc+`"`) ||
		!strings.Contains(body, `"name":"runner.log"`) || !strings.Contains(body, `"name":"stdout.log"`) || strings.Contains(body, "other") {
		t.Errorf("GET list from S3 = %d %s", resp.StatusCode, body)
	}
	srv.Deny("culvert-logs")
	for _, p := range []string{path + "stdout", path} {
		resp, body := signedGet(t, s, devAccessKeyID, devSecret, p)
		code, msg := apiErrorBody(t, body)
		if resp.StatusCode != 403 || code != "AccessDeniedException" || !strings.Contains(msg, loc) {
			t.Errorf("GET %s with the bucket denied = %d %s, want 403 AccessDeniedException naming %s", p, resp.StatusCode, body, loc)
		}
	}
}

// TestLogsS3Off checks that --s3-logs=false refuses logs on S3: the server
// would read them with its own credentials, wherever a runner pointed.
func TestLogsS3Off(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t, "--embedded-runner=false", "--s3-logs=false")
	c := s.devClient()
	id, runner := startLogsPipeline(t, c, "logs-s3-off")
	task := runner.claim()
	attempt := aws.ToString(task.AttemptId)
	runner.report(task, "s3://someone-elses-bucket/logs/")
	resp, body := signedGet(t, s, devAccessKeyID, devSecret, "/logs/"+id+"/"+attempt+"/stdout")
	if code, _ := apiErrorBody(t, body); resp.StatusCode != 403 || code != "AccessDeniedException" {
		t.Errorf("GET stdout on S3 with --s3-logs=false = %d %s, want 403 AccessDeniedException", resp.StatusCode, body)
	}
}
