package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// requireTool returns the path of an external program a test drives, or
// skips the test loudly when it is missing. Setting requireVar to 1 (as CI
// does) turns the skip into a failure.
func requireTool(t *testing.T, name, requireVar string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(requireVar) == "1" {
			t.Fatalf("%s not found in PATH and %s=1: %v", name, requireVar, err)
		}
		t.Skipf("SKIP: %s not found in PATH (%v); this end-to-end test did not run. Set %s=1 to make this a failure.", name, err, requireVar)
	}
	return path
}

// awsEnv is an environment for the aws CLI and boto3 that nothing of the
// user's AWS setup can leak into: a temporary HOME, empty config and
// credentials files, no instance metadata, and the development key.
func awsEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	config := filepath.Join(home, "config")
	creds := filepath.Join(home, "credentials")
	for _, f := range []string{config, creds} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return hermeticEnv(
		"HOME="+home,
		"AWS_CONFIG_FILE="+config,
		"AWS_SHARED_CREDENTIALS_FILE="+creds,
		"AWS_ACCESS_KEY_ID="+devAccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+devSecret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
	)
}

// definitionFile is the aws CLI's definition-file format: objects whose
// fields are strings, {"ref": id} objects or lists of those; parameters with
// attributes (a list is repeated attributes); and values (a list is an
// array parameter).
type definitionFile struct {
	Objects    []map[string]any `json:"objects"`
	Parameters []map[string]any `json:"parameters"`
	Values     map[string]any   `json:"values"`
}

// normalize keys objects and parameters by id and fills in an object's
// name, which the CLI defaults to its id, so two files that mean the same
// definition compare equal.
func (d definitionFile) normalize() map[string]any {
	objects := map[string]any{}
	var order []any
	for _, o := range d.Objects {
		id, _ := o["id"].(string)
		if _, ok := o["name"]; !ok {
			o["name"] = id
		}
		objects[id] = o
		order = append(order, id)
	}
	params := map[string]any{}
	for _, p := range d.Parameters {
		params[p["id"].(string)] = p
	}
	return map[string]any{"objects": objects, "objectOrder": order, "parameters": params, "values": d.Values}
}

func readDefinitionFile(t *testing.T, data []byte) definitionFile {
	t.Helper()
	var d definitionFile
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("definition file: %v\n%s", err, data)
	}
	return d
}

// awsCLI runs `aws datapipeline` against one culvert server, hermetically.
type awsCLI struct {
	path, url string
	env       []string
}

func newAWSCLI(t *testing.T, s *testServer) *awsCLI {
	t.Helper()
	return &awsCLI{path: requireTool(t, "aws", "CULVERT_TEST_REQUIRE_AWSCLI"), url: s.URL, env: awsEnv(t)}
}

func (a *awsCLI) run(t *testing.T, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"datapipeline"}, args...)
	full = append(full, "--endpoint-url", a.url, "--output", "json")
	cmd := exec.CommandContext(ctx, a.path, full...)
	cmd.Env = a.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.Bytes(), err
}

func (a *awsCLI) mustRun(t *testing.T, args ...string) []byte {
	t.Helper()
	out, errOut, err := a.run(t, args...)
	if err != nil {
		t.Fatalf("aws datapipeline %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func (a *awsCLI) mustJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := a.mustRun(t, args...)
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("aws datapipeline %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestAWSCLI drives culvert with the aws CLI (v1), whose datapipeline
// commands add a client-side layer: the definition-file format, list-runs,
// automatic pagination.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	// No embedded runner: list-runs below shows the work on the resource
	// waiting for a runner.
	s := mustRunServer(t, "--embedded-runner=false")
	cli := newAWSCLI(t, s)
	run, mustRun, mustJSON := cli.run, cli.mustRun, cli.mustJSON

	var created struct {
		PipelineID string `json:"pipelineId"`
	}
	mustJSON(t, &created, "create-pipeline", "--name", "cli-e2e", "--unique-id", "cli-e2e-token",
		"--description", "driven by the aws CLI", "--tags", "key=env,value=ci")
	id := created.PipelineID
	if !strings.HasPrefix(id, "df-") {
		t.Fatalf("create-pipeline pipelineId = %q", id)
	}
	mustJSON(t, &created, "create-pipeline", "--name", "cli-e2e", "--unique-id", "cli-e2e-token")
	if created.PipelineID != id {
		t.Errorf("create-pipeline again = %s, want the same %s", created.PipelineID, id)
	}

	var put struct {
		ValidationErrors   []any `json:"validationErrors"`
		ValidationWarnings []any `json:"validationWarnings"`
		Errored            bool  `json:"errored"`
	}
	mustJSON(t, &put, "put-pipeline-definition", "--pipeline-id", id, "--pipeline-definition", "file://testdata/definition.json")
	if put.Errored || len(put.ValidationErrors) != 0 {
		t.Errorf("put-pipeline-definition: %+v, want a clean definition", put)
	}

	fileData, err := os.ReadFile(filepath.Join("testdata", "definition.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := readDefinitionFile(t, fileData)

	// Filler pipelines, made with the SDK because the CLI is slow to start,
	// so that list-pipelines has to follow a marker.
	c := s.devClient()
	for i := range 26 {
		mustCreate(t, c, fmt.Sprintf("filler-%02d", i), "filler")
	}

	type cliField struct {
		Key         string `json:"key"`
		StringValue string `json:"stringValue"`
		RefValue    string `json:"refValue"`
	}
	value := func(fields []cliField, key string) []string {
		var out []string
		for _, f := range fields {
			if f.Key == key {
				out = append(out, f.StringValue+f.RefValue)
			}
		}
		return out
	}
	type description struct {
		PipelineID string     `json:"pipelineId"`
		Name       string     `json:"name"`
		Fields     []cliField `json:"fields"`
		Tags       []struct{ Key, Value string }
	}
	describeCLI := func(t *testing.T) description {
		t.Helper()
		var out struct {
			PipelineDescriptionList []description `json:"pipelineDescriptionList"`
		}
		mustJSON(t, &out, "describe-pipelines", "--pipeline-ids", id)
		if len(out.PipelineDescriptionList) != 1 {
			t.Fatalf("describe-pipelines: %+v", out)
		}
		return out.PipelineDescriptionList[0]
	}
	// Later state checks use the SDK: describe-pipelines is covered once.
	state := func(t *testing.T) (string, map[string]string) {
		t.Helper()
		d := describe(t, c, id)
		return field(t, d.Fields, "@pipelineState"), tagMap(d.Tags)
	}

	// Read-only commands on the stored definition, in parallel: each costs a
	// Python start-up.
	t.Run("reads", func(t *testing.T) {
		t.Run("get-pipeline-definition", func(t *testing.T) {
			t.Parallel()
			got := readDefinitionFile(t, mustRun(t, "get-pipeline-definition", "--pipeline-id", id))
			if diff := cmp.Diff(want.normalize(), got.normalize()); diff != "" {
				t.Errorf("get-pipeline-definition mismatch with testdata/definition.json (-file +got):\n%s", diff)
			}
		})
		t.Run("list-pipelines", func(t *testing.T) {
			t.Parallel()
			var list struct {
				PipelineIDList []struct{ ID, Name string } `json:"pipelineIdList"`
			}
			mustJSON(t, &list, "list-pipelines")
			if len(list.PipelineIDList) != 27 || list.PipelineIDList[0].ID != id || list.PipelineIDList[0].Name != "cli-e2e" {
				t.Errorf("list-pipelines = %d pipelines starting %+v, want 27 starting with %s cli-e2e",
					len(list.PipelineIDList), list.PipelineIDList[:min(1, len(list.PipelineIDList))], id)
			}
		})
		t.Run("describe-pipelines", func(t *testing.T) {
			t.Parallel()
			d := describeCLI(t)
			if got := strings.Join(value(d.Fields, "@pipelineState"), ","); d.PipelineID != id || d.Name != "cli-e2e" || got != "PENDING" {
				t.Errorf("describe-pipelines = %s %q state %s, want %s cli-e2e PENDING", d.PipelineID, d.Name, got, id)
			}
			if got := value(d.Fields, "description"); !slices.Equal(got, []string{"driven by the aws CLI"}) {
				t.Errorf("describe-pipelines description = %q", got)
			}
			if len(d.Tags) != 1 || d.Tags[0].Key != "env" || d.Tags[0].Value != "ci" {
				t.Errorf("describe-pipelines tags = %+v, want env=ci", d.Tags)
			}
		})
		t.Run("describe-objects", func(t *testing.T) {
			t.Parallel()
			var objs struct {
				PipelineObjects []struct {
					ID     string     `json:"id"`
					Name   string     `json:"name"`
					Fields []cliField `json:"fields"`
				} `json:"pipelineObjects"`
			}
			mustJSON(t, &objs, "describe-objects", "--pipeline-id", id, "--object-ids", "Ec2Instance", "ShellCommandActivity")
			if len(objs.PipelineObjects) != 2 {
				t.Fatalf("describe-objects returned %d objects, want 2", len(objs.PipelineObjects))
			}
			ec2, act := objs.PipelineObjects[0], objs.PipelineObjects[1]
			if ec2.ID != "Ec2Instance" || ec2.Name != "Ec2Instance" || act.ID != "ShellCommandActivity" || act.Name != "Copy" {
				t.Errorf("describe-objects ids/names = %s/%s %s/%s", ec2.ID, ec2.Name, act.ID, act.Name)
			}
			for _, check := range []struct {
				fields []cliField
				key    string
				want   []string
			}{
				{ec2.Fields, "securityGroups", []string{"default", "ssh-only"}},
				{ec2.Fields, "@status", []string{"PENDING"}},
				{act.Fields, "dependsOn", []string{"Prepare", "Stage"}},
				{act.Fields, "runsOn", []string{"Ec2Instance"}},
				{act.Fields, "parent", []string{"Default"}},
			} {
				if got := value(check.fields, check.key); !slices.Equal(got, check.want) {
					t.Errorf("describe-objects field %s = %q, want %q", check.key, got, check.want)
				}
			}
		})
		t.Run("query-objects", func(t *testing.T) {
			t.Parallel()
			var ids struct {
				IDs []string `json:"ids"`
			}
			// --page-size 1 makes the CLI follow five markers.
			mustJSON(t, &ids, "query-objects", "--pipeline-id", id, "--sphere", "COMPONENT", "--page-size", "1")
			if want := []string{"Default", "DefaultSchedule", "Ec2Instance", "ShellCommandActivity", "Prepare", "Stage"}; !slices.Equal(ids.IDs, want) {
				t.Errorf("query-objects --page-size 1 = %q, want %q", ids.IDs, want)
			}
		})
		t.Run("query-objects selector", func(t *testing.T) {
			t.Parallel()
			var ids struct {
				IDs []string `json:"ids"`
			}
			mustJSON(t, &ids, "query-objects", "--pipeline-id", id, "--sphere", "COMPONENT",
				"--objects-query", `{"selectors":[{"fieldName":"type","operator":{"type":"EQ","values":["Schedule"]}}]}`)
			if want := []string{"DefaultSchedule"}; !slices.Equal(ids.IDs, want) {
				t.Errorf("query-objects type EQ Schedule = %q, want %q", ids.IDs, want)
			}
		})
	})

	// --parameter-values replaces the file's values.
	mustJSON(t, &put, "put-pipeline-definition", "--pipeline-id", id, "--pipeline-definition", "file://testdata/definition.json",
		"--parameter-values", "myGreeting=hi there", "myOutputFile=/tmp/b.txt", "myTags=x", "myTags=y")
	if put.Errored {
		t.Errorf("put-pipeline-definition with --parameter-values: %+v", put)
	}
	got := readDefinitionFile(t, mustRun(t, "get-pipeline-definition", "--pipeline-id", id, "--pipeline-version", "latest"))
	wantWithValues := want
	wantWithValues.Values = map[string]any{"myGreeting": "hi there", "myOutputFile": "/tmp/b.txt", "myTags": []any{"x", "y"}}
	if diff := cmp.Diff(wantWithValues.normalize(), got.normalize()); diff != "" {
		t.Errorf("get-pipeline-definition after --parameter-values mismatch (-want +got):\n%s", diff)
	}

	mustRun(t, "activate-pipeline", "--pipeline-id", id, "--start-timestamp", "2026-01-01T00:00:00Z")
	if st, _ := state(t); st != "SCHEDULED" {
		t.Errorf("state after activate-pipeline = %s, want SCHEDULED", st)
	}

	// list-runs is a CLI-side command built on QueryObjects over instances
	// and DescribeObjects. The schedule starts at the first activation, so
	// there is one run of every component; the activity waits for the two
	// it depends on, which wait for a runner on the resource, CREATING
	// until a runner takes its first task (none here: the server's
	// embedded runner is off).
	for deadline := time.Now().Add(10 * time.Second); len(instanceStatuses(t, c, id)) < 4 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // the scheduler's first step is asynchronous
	}
	var runs []map[string]any
	mustJSON(t, &runs, "list-runs", "--pipeline-id", id)
	status := map[string]any{}
	for _, r := range runs {
		status[fmt.Sprint(r["@componentParent"])] = r["@status"]
	}
	wantStatus := map[string]any{"Ec2Instance": "CREATING", "Prepare": "WAITING_FOR_RUNNER", "Stage": "WAITING_FOR_RUNNER",
		"ShellCommandActivity": "WAITING_ON_DEPENDENCIES"}
	if diff := cmp.Diff(wantStatus, status); diff != "" {
		t.Errorf("list-runs statuses mismatch (-want +got):\n%s\n%v", diff, runs)
	}

	mustRun(t, "add-tags", "--pipeline-id", id, "--tags", "key=team,value=data", "key=env,value=staging")
	mustRun(t, "remove-tags", "--pipeline-id", id, "--tag-keys", "env")
	if _, tags := state(t); !cmp.Equal(tags, map[string]string{"team": "data"}) {
		t.Errorf("tags after add-tags and remove-tags = %v, want team=data", tags)
	}

	mustRun(t, "deactivate-pipeline", "--pipeline-id", id)
	waitState(t, c, id, "INACTIVE")

	mustRun(t, "delete-pipeline", "--pipeline-id", id)
	_, errOut, err := run(t, "describe-pipelines", "--pipeline-ids", id)
	if err == nil || !bytes.Contains(errOut, []byte("PipelineDeletedException")) {
		t.Errorf("describe-pipelines after delete-pipeline: err %v, stderr %s; want PipelineDeletedException", err, errOut)
	}
}
