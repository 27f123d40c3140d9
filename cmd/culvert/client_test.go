package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/google/go-cmp/cmp"
)

// The client verbs read credentials, region and profile through the AWS
// SDK, which reads the process environment itself, so their tests set it
// with t.Setenv and cannot run in parallel. Each starts from hermeticAWS.

// hermeticAWS empties the AWS SDK's default chain for the rest of the test:
// no keys, no shared files, no profile, region or endpoint variables, no
// instance metadata. Configuration a test wants it sets afterwards.
func hermeticAWS(t *testing.T) {
	t.Helper()
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DATA_PIPELINE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	} {
		t.Setenv(k, "")
	}
	missing := filepath.Join(t.TempDir(), "missing")
	t.Setenv("AWS_CONFIG_FILE", missing)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", missing)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// cliEnv is Main.Getenv for the client verbs under test: the process's
// environment, which hermeticAWS controls, without the CULVERT_ variables of
// whoever runs the tests.
func cliEnv(k string) string {
	if strings.HasPrefix(k, "CULVERT_") {
		return ""
	}
	return os.Getenv(k)
}

// runCLI runs culvert in-process with args and returns what it printed and
// Run's error.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: cliEnv}
	err = m.Run(context.Background(), args)
	return out.String(), errOut.String(), err
}

// mustCLI is runCLI for a command that must succeed; it returns stdout.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := runCLI(t, args...)
	if err != nil {
		t.Fatalf("culvert %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

var (
	pipelineIDPattern = regexp.MustCompile(`df-[0-9A-Z]{19}`)
	dateTimePattern   = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d`)
	clockPattern      = regexp.MustCompile(`(?m)^(\x1b\[H\x1b\[2J)?\d\d:\d\d:\d\d  `)
)

// normalize replaces what changes from run to run by placeholders of the
// same width, so tables keep their alignment: pipeline ids, the watch
// clock, and every DateTime except the fixed schedule's in 2020.
func normalize(s string) string {
	s = pipelineIDPattern.ReplaceAllString(s, "df-XXXXXXXXXXXXXXXXXXX")
	s = clockPattern.ReplaceAllString(s, "${1}HH:MM:SS  ")
	return dateTimePattern.ReplaceAllStringFunc(s, func(dt string) string {
		if strings.HasPrefix(dt, "2020-01-01T") {
			return dt
		}
		return "YYYY-MM-DDTHH:MM:SS"
	})
}

// golden compares got, normalized, with testdata/client/name; with -update
// it rewrites the file instead.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = normalize(got)
	path := filepath.Join("testdata", "client", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("output differs from %s (-want +got):\n%s", path, diff)
	}
}

// TestCLIPipelineLifecycle drives one pipeline through every client verb
// against a real server, checking the tables and the --json output, and
// what the server holds afterwards through the SDK.
func TestCLIPipelineLifecycle(t *testing.T) {
	hermeticAWS(t)
	s := mustRunServer(t)
	t.Setenv("AWS_ENDPOINT_URL_DATA_PIPELINE", s.URL)
	c := s.devClient()
	ctx := context.Background()

	// create prints the id alone, so that id=$(culvert create …) works.
	out := mustCLI(t, "create", "etl", "--description", "nightly load", "--tag", "team=data", "--tag", "tier=gold")
	id := strings.TrimSuffix(out, "\n")
	if !pipelineIDPattern.MatchString(id) || len(id) != 22 {
		t.Fatalf("create printed %q, want a pipeline id and a newline", out)
	}
	d := describe(t, c, id)
	if got := aws.ToString(d.Description); got != "nightly load" {
		t.Errorf("description = %q, want %q", got, "nightly load")
	}
	var tags []string
	for _, tag := range d.Tags {
		tags = append(tags, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
	}
	if diff := cmp.Diff([]string{"team=data", "tier=gold"}, tags); diff != "" {
		t.Errorf("tags mismatch (-want +got):\n%s", diff)
	}
	// The unique id defaults to the name, so a repeated create is the same
	// pipeline; another unique id makes another.
	if again := mustCLI(t, "create", "etl"); again != out {
		t.Errorf("create etl again printed %q, want the same %q", again, out)
	}
	var created struct {
		PipelineID string `json:"pipelineId"`
	}
	mustUnmarshal(t, mustCLI(t, "create", "--json", "etl"), &created)
	if created.PipelineID != id {
		t.Errorf("create --json = %+v, want pipelineId %s", created, id)
	}
	other := strings.TrimSpace(mustCLI(t, "create", "etl", "--unique-id", "etl-2"))
	if other == id {
		t.Errorf("create etl --unique-id etl-2 gave the same pipeline %s", id)
	}
	golden(t, "list-pending.golden", mustCLI(t, "list"))

	// A definition with errors is saved errored and exits 1 (errInvalid)
	// after listing the problems, in both forms.
	broken := filepath.Join("testdata", "client", "broken.json")
	out, _, err := runCLI(t, "put-definition", id, broken)
	if !errors.Is(err, errInvalid) {
		t.Errorf("put-definition of broken.json: err = %v, want errInvalid", err)
	}
	golden(t, "put-broken.golden", out)
	out, _, err = runCLI(t, "put-definition", id, broken, "--json")
	if !errors.Is(err, errInvalid) {
		t.Errorf("put-definition --json of broken.json: err = %v, want errInvalid", err)
	}
	golden(t, "put-broken.json.golden", out)

	hourly := filepath.Join("testdata", "client", "hourly.json")
	if got, want := mustCLI(t, "put-definition", id, hourly), id+": definition saved\n"; got != want {
		t.Errorf("put-definition of hourly.json printed %q, want %q", got, want)
	}
	def, err := c.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if got := objectIDs(def.PipelineObjects); !cmp.Equal(got, []string{"Default", "Hourly", "Work"}) {
		t.Errorf("stored objects %v, want Default, Hourly, Work", got)
	}

	if got, want := mustCLI(t, "activate", id, "--parameter-value", "myGreeting=hi"), id+": activated\n"; got != want {
		t.Errorf("activate printed %q, want %q", got, want)
	}
	active, err := c.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(id), Version: aws.String("active")})
	if err != nil {
		t.Fatal(err)
	}
	if len(active.ParameterValues) != 1 || aws.ToString(active.ParameterValues[0].StringValue) != "hi" {
		t.Errorf("active parameter values = %v, want myGreeting=hi", active.ParameterValues)
	}

	// The first run fails and the second finishes, through a runner on the
	// public API.
	runner := &sdkRunner{t: t, c: c, workerGroup: "wg-cli"}
	first := "@Work_2020-01-01T00:00:00"
	second := "@Work_2020-01-01T01:00:00"
	runner.finish(ctx, runner.next(ctx), "FAILED", "disk full")
	runner.finish(ctx, runner.next(ctx), "FINISHED", "")
	waitStatuses(t, c, id, map[string]string{first: "FAILED", second: "FINISHED"})

	golden(t, "runs.golden", mustCLI(t, "runs", id))
	for _, tc := range []struct {
		args []string
		want []string // run ids, in order
	}{
		{[]string{"--status", "failed"}, []string{first}},
		{[]string{"--status", "FINISHED"}, []string{second}},
		{[]string{"--status", "failed,finished"}, []string{first, second}},
		{[]string{"--status", "running"}, nil},
		{[]string{"--schedule-interval", "2020-01-01T01:00:00,2020-01-02T00:00:00"}, []string{second}},
		{[]string{"--schedule-interval", "2020-01-01T00:00:00Z,2020-01-01T00:30:00+00:00"}, []string{first}},
		{[]string{"--start-interval", "2000-01-01T00:00:00,2000-01-02T00:00:00"}, nil},
	} {
		var runs []map[string]string
		mustUnmarshal(t, mustCLI(t, append([]string{"runs", id, "--json"}, tc.args...)...), &runs)
		var got []string
		for _, r := range runs {
			got = append(got, r["@id"])
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("runs %s: ids mismatch (-want +got):\n%s", strings.Join(tc.args, " "), diff)
		}
	}
	// With nothing to show, stdout stays empty and stderr says why.
	if out, errOut, err := runCLI(t, "runs", id, "--status", "running"); err != nil || out != "" || !strings.Contains(errOut, "no runs started in the last 4 days") {
		t.Errorf("runs --status running: stdout %q, stderr %q, err %v; want nothing, and why on stderr", out, errOut, err)
	}

	// Once both runs are over the pipeline shows its health and latest run;
	// it stays SCHEDULED, as the failed run may be rerun.
	waitPipeline(t, c, id, func(f map[string]string) bool {
		return f["@healthStatus"] == "HEALTHY" && f["@latestCompletedRunTime"] == "2020-01-01T01:00:00"
	})
	golden(t, "list-finished.golden", mustCLI(t, "list"))
	var listed struct {
		PipelineDescriptionList []struct {
			PipelineID  string `json:"pipelineId"`
			Name        string `json:"name"`
			Description string `json:"description"`
			Fields      []struct {
				Key         string  `json:"key"`
				StringValue *string `json:"stringValue"`
				RefValue    *string `json:"refValue"`
			} `json:"fields"`
			Tags []struct{ Key, Value string } `json:"tags"`
		} `json:"pipelineDescriptionList"`
	}
	mustUnmarshal(t, mustCLI(t, "list", "--json"), &listed)
	if n := len(listed.PipelineDescriptionList); n != 2 {
		t.Fatalf("list --json has %d pipelines, want 2", n)
	}
	got := listed.PipelineDescriptionList[0]
	want := describe(t, c, id)
	if got.PipelineID != id || got.Name != "etl" || got.Description != "nightly load" || len(got.Tags) != 2 || len(got.Fields) != len(want.Fields) {
		t.Errorf("list --json first pipeline = %+v, want DescribePipelines' %+v", got, want)
	}
	for i, f := range got.Fields {
		if f.Key != aws.ToString(want.Fields[i].Key) || aws.ToString(f.StringValue) != aws.ToString(want.Fields[i].StringValue) {
			t.Errorf("list --json field %d = %s %v, want %s %v", i, f.Key, aws.ToString(f.StringValue),
				aws.ToString(want.Fields[i].Key), aws.ToString(want.Fields[i].StringValue))
		}
	}

	// --start-time skips the intervals before it; deactivate says whether
	// running attempts are canceled.
	mustCLI(t, "put-definition", other, hourly)
	mustCLI(t, "activate", other, "--start-time", "2020-01-01T00:30:00Z")
	waitStatuses(t, c, other, map[string]string{first: "SKIPPED"})
	if got, want := mustCLI(t, "deactivate", other, "--no-cancel-active"), other+": deactivating; running attempts finish first\n"; got != want {
		t.Errorf("deactivate --no-cancel-active printed %q, want %q", got, want)
	}
	waitPipeline(t, c, other, func(f map[string]string) bool { return f["@pipelineState"] == "INACTIVE" })
	mustCLI(t, "activate", other)
	if got, want := mustCLI(t, "deactivate", other), other+": deactivating; running attempts are canceled\n"; got != want {
		t.Errorf("deactivate printed %q, want %q", got, want)
	}
	waitPipeline(t, c, other, func(f map[string]string) bool { return f["@pipelineState"] == "INACTIVE" })
	if got, want := mustCLI(t, "activate", other, "--json"), "{}\n"; got != want {
		t.Errorf("activate --json printed %q, want %q", got, want)
	}
	if got, want := mustCLI(t, "deactivate", other, "--json"), "{}\n"; got != want {
		t.Errorf("deactivate --json printed %q, want %q", got, want)
	}
}

// TestCLIRunsMatchesAWSCLI pins that `culvert runs --json` holds what `aws
// datapipeline list-runs` prints, for the same pipeline and filters.
func TestCLIRunsMatchesAWSCLI(t *testing.T) {
	hermeticAWS(t)
	s := mustRunServer(t)
	cli := newAWSCLI(t, s)
	c := s.devClient()
	id := strings.TrimSpace(mustCLI(t, "create", "parity", "--endpoint", s.URL))
	mustCLI(t, "put-definition", id, filepath.Join("testdata", "client", "hourly.json"), "--endpoint", s.URL)
	mustCLI(t, "activate", id, "--endpoint", s.URL)
	runner := &sdkRunner{t: t, c: c, workerGroup: "wg-cli"}
	runner.finish(context.Background(), runner.next(context.Background()), "FINISHED", "")
	waitStatuses(t, c, id, map[string]string{"@Work_2020-01-01T00:00:00": "FINISHED", "@Work_2020-01-01T01:00:00": "WAITING_FOR_RUNNER"})
	for _, args := range [][]string{
		nil,
		{"--status", "finished"},
		{"--schedule-interval", "2020-01-01T01:00:00,2020-01-02T00:00:00"},
	} {
		var want, got []map[string]string
		cli.mustJSON(t, &want, append([]string{"list-runs", "--pipeline-id", id}, args...)...)
		mustUnmarshal(t, mustCLI(t, append([]string{"runs", id, "--json", "--endpoint", s.URL}, args...)...), &got)
		if len(want) == 0 {
			t.Errorf("list-runs %s is empty; the comparison proves nothing", strings.Join(args, " "))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("runs %s mismatch with aws datapipeline list-runs (-aws +culvert):\n%s", strings.Join(args, " "), diff)
		}
	}
}

// TestCLIErrors pins what a failing verb says: the service's error as
// "Code: message", a plain reason for an unreachable endpoint or bad
// usage, and never anything of the SDK's wrapping.
func TestCLIErrors(t *testing.T) {
	hermeticAWS(t)
	s := mustRunServer(t)
	const missing = "df-0000000000000000000"
	notFound := "PipelineNotFoundException: Pipeline " + missing + " was not found."
	definition := filepath.Join("testdata", "client", "hourly.json")
	closed := closedPortURL(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string // Run's error starts with this
	}{
		{"put-definition missing pipeline", []string{"put-definition", missing, definition}, notFound},
		{"activate missing pipeline", []string{"activate", missing}, notFound},
		{"deactivate missing pipeline", []string{"deactivate", missing}, notFound},
		{"runs missing pipeline", []string{"runs", missing}, notFound},
		{"invalid request", []string{"create", strings.Repeat("x", 1025)}, "InvalidRequestException: "},
		{"unreachable endpoint", []string{"list", "--endpoint", closed}, "cannot reach " + closed + ": "},
		{"no name", []string{"create"}, "create: missing arguments"},
		{"extra argument", []string{"list", "extra"}, `list: unexpected argument "extra"`},
		{"unknown flag", []string{"list", "--frobnicate"}, "flag provided but not defined: -frobnicate"},
		{"no definition file", []string{"put-definition", missing, "testdata/client/nonexistent.json"}, "open testdata/client/nonexistent.json: "},
		{"bad start time", []string{"activate", missing, "--start-time", "tomorrow"}, `activate: --start-time: "tomorrow" is not a time`},
		{"bad status", []string{"runs", missing, "--status", "done"}, `invalid value "done" for flag -status: unknown status "done"`},
		{"bad interval", []string{"runs", missing, "--schedule-interval", "2020-01-01T00:00:00"}, `invalid value "2020-01-01T00:00:00" for flag -schedule-interval: want START,END`},
		{"bad watch interval", []string{"runs", missing, "--watch", "--interval", "0s"}, "runs: --interval must be positive"},
		{"bad endpoint", []string{"list", "--endpoint", "ftp://example.com/"}, `endpoint "ftp://example.com/": want an http:// or https:// URL`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{}, tc.args...)
			if !slices.Contains(args, "--endpoint") {
				args = append(args, "--endpoint", s.URL)
			}
			out, _, err := runCLI(t, args...)
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("culvert %s: err = %v, want one starting %q", strings.Join(tc.args, " "), err, tc.wantErr)
			}
			if out != "" {
				t.Errorf("culvert %s printed %q on stdout, want nothing", strings.Join(tc.args, " "), out)
			}
			if strings.Contains(err.Error(), "operation error") || strings.Contains(err.Error(), "RequestID") {
				t.Errorf("error %q carries the SDK's wrapping", err)
			}
		})
	}
}

// TestCLIErrorOutput runs the real binary: an API error is one line,
// "culvert: Code: message", on stderr, with exit status 2; a definition
// with errors exits 1.
func TestCLIErrorOutput(t *testing.T) {
	bin := mustBuildBinary(t)
	hermeticAWS(t)
	s := mustRunServer(t)
	home := t.TempDir()
	missing := filepath.Join(home, "missing")
	run := func(args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--endpoint", s.URL)...)
		cmd.Env = hermeticEnv("HOME="+home, "AWS_CONFIG_FILE="+missing, "AWS_SHARED_CREDENTIALS_FILE="+missing,
			"AWS_EC2_METADATA_DISABLED=true")
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("culvert %s: %v", strings.Join(args, " "), err)
		}
		return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
	}
	const unknown = "df-0000000000000000000"
	stdout, stderr, code := run("activate", unknown)
	want := "culvert: PipelineNotFoundException: Pipeline " + unknown + " was not found. Verify that you used the correct user and account identifiers.\n"
	if stdout != "" || stderr != want || code != 2 {
		t.Errorf("activate %s: stdout %q, stderr %q, exit %d; want only stderr %q and exit 2", unknown, stdout, stderr, code, want)
	}

	stdout, _, code = run("create", "errors")
	id := strings.TrimSpace(stdout)
	if code != 0 || id == "" {
		t.Fatalf("create: exit %d, stdout %q", code, stdout)
	}
	stdout, stderr, code = run("put-definition", id, filepath.Join("testdata", "client", "broken.json"))
	if code != 1 || stderr != "" || !strings.Contains(stdout, "Work: error: ") {
		t.Errorf("put-definition of broken.json: exit %d, stdout %q, stderr %q; want exit 1 with the errors on stdout", code, stdout, stderr)
	}
}

// closedPortURL returns the URL of a loopback port nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + "/"
	ln.Close()
	return u
}

func mustUnmarshal(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
}

// waitPipeline waits until the pipeline's DescribePipelines fields satisfy
// ok: the scheduler moves state and health on after the calls that cause
// it return.
func waitPipeline(t *testing.T, c *datapipeline.Client, id string, ok func(map[string]string) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fields := map[string]string{}
		for _, f := range describe(t, c, id).Fields {
			fields[aws.ToString(f.Key)] = aws.ToString(f.StringValue)
		}
		if ok(fields) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipeline %s fields %v never became as wanted", id, fields)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
