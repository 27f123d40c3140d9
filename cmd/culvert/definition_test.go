package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func runMain(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: noEnv}
	err = m.Run(context.Background(), args)
	return out.String(), errOut.String(), err
}

// TestDefinitionCommands converts the end-to-end tests' definition file to
// API objects and back, and checks the result against the original.
func TestDefinitionCommands(t *testing.T) {
	t.Parallel()
	const file = "testdata/definition.json"
	api, _, err := runMain(t, "definition", "to-api", file)
	if err != nil {
		t.Fatalf("definition to-api: %v", err)
	}
	var decoded struct {
		PipelineObjects []struct{ ID string } `json:"pipelineObjects"`
	}
	if err := json.Unmarshal([]byte(api), &decoded); err != nil || len(decoded.PipelineObjects) == 0 {
		t.Fatalf("definition to-api printed %q (%v), want API objects", api, err)
	}
	apiFile := filepath.Join(t.TempDir(), "api.json")
	if err := os.WriteFile(apiFile, []byte(api), 0o600); err != nil {
		t.Fatal(err)
	}
	back, _, err := runMain(t, "definition", "to-file", apiFile)
	if err != nil {
		t.Fatalf("definition to-file: %v", err)
	}
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want, got map[string]any
	json.Unmarshal(orig, &want)
	if err := json.Unmarshal([]byte(back), &got); err != nil {
		t.Fatalf("definition to-file printed invalid JSON: %v", err)
	}
	for _, o := range want["objects"].([]any) {
		if m := o.(map[string]any); m["name"] == nil {
			m["name"] = m["id"] // names default to ids
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("file → API → file mismatch (-want +got):\n%s", diff)
	}

	if _, stderr, err := runMain(t, "definition", "sideways", file); err == nil || !strings.Contains(stderr, "to-api") {
		t.Errorf("definition sideways: err = %v, stderr = %q; want usage", err, stderr)
	}
}

func TestValidateCommand(t *testing.T) {
	t.Parallel()
	if out, _, err := runMain(t, "validate", "testdata/definition.json"); err != nil || out != "" {
		t.Errorf("validate of a clean file: output %q, err %v; want nothing", out, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"objects":[
		{"id":"Default","scheduleType":"ondemand","failureAndRerunMode":"cascade","pipelineLogUri":"s3://logs/",
		 "role":"DataPipelineDefaultRole","resourceRole":"DataPipelineDefaultResourceRole"},
		{"id":"A","type":"ShellCommandActivity","command":"true","workerGroup":"wg","input":{"ref":"Nope"}},
		{"id":"B","type":"ShellCommandActivity","command":"","workerGroup":"wg"}]}`), 0o600)
	out, _, err := runMain(t, "validate", bad)
	if !errors.Is(err, errInvalid) {
		t.Fatalf("validate of a bad file: err = %v, want errInvalid (exit 1)", err)
	}
	want := bad + ": A: error: INVALID_REFERENCE:  'input' refers to 'Nope', which is not an object in this pipeline.\n" +
		bad + ": B: error: EMPTY_VALUE:  'command' has an empty value.\n"
	if out != want {
		t.Errorf("validate output:\n%s\nwant:\n%s", out, want)
	}
	notDef := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(notDef, []byte(`{"parameters":[]}`), 0o600)
	if out, _, err := runMain(t, "validate", notDef); !errors.Is(err, errInvalid) || !strings.Contains(out, `Missing "objects" key`) {
		t.Errorf("validate of a file without objects: out %q, err %v", out, err)
	}
}
