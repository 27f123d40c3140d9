package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// apiJSON renders a definition as the API's JSON members, for comparing
// with the aws CLI's translation.
func apiJSON(t *testing.T, def *Definition) map[string]any {
	t.Helper()
	b, err := json.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// cliTranslate runs the aws CLI's own translator on a definition file, so
// ParseFile is held to what `aws datapipeline put-pipeline-definition`
// actually sends.
func cliTranslate(t *testing.T, path string) map[string]any {
	t.Helper()
	const script = `
import json, sys
from awscli.customizations.datapipeline import translator as t
d = json.load(open(sys.argv[1]))
out = {"pipelineObjects": t.definition_to_api_objects(d)}
p = t.definition_to_api_parameters(d)
if p is not None: out["parameterObjects"] = p
v = t.definition_to_parameter_values(d)
if v is not None: out["parameterValues"] = v
print(json.dumps(out))
`
	out, err := exec.Command("python3", "-c", script, path).Output()
	if err != nil {
		if os.Getenv("CULVERT_TEST_REQUIRE_AWSCLI") != "" {
			t.Fatalf("aws CLI translator: %v", err)
		}
		t.Skipf("SKIP: the aws CLI's translator is not available (%v); set CULVERT_TEST_REQUIRE_AWSCLI=1 to fail instead", err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseFileMatchesCLI(t *testing.T) {
	t.Parallel()
	const path = "testdata/definition.json"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	def, err := ParseFile(f)
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	if diff := cmp.Diff(cliTranslate(t, path), apiJSON(t, def)); diff != "" {
		t.Errorf("ParseFile differs from the aws CLI's translation (-cli +culvert):\n%s", diff)
	}
}

// TestFileRoundTrip checks both directions: file → API → file keeps every
// value, and API → file → API gives the same definition up to field order,
// which the file format does not carry.
func TestFileRoundTrip(t *testing.T) {
	t.Parallel()
	orig, err := os.ReadFile("testdata/definition.json")
	if err != nil {
		t.Fatal(err)
	}
	def, err := ParseFile(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := FormatFile(&out, def); err != nil {
		t.Fatal(err)
	}
	var want, got map[string]any
	json.Unmarshal(orig, &want)
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("FormatFile wrote invalid JSON: %v\n%s", err, out.Bytes())
	}
	// Names default to ids; the formatted file spells them out.
	for _, o := range want["objects"].([]any) {
		if m := o.(map[string]any); m["name"] == nil {
			m["name"] = m["id"]
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("file → API → file mismatch (-want +got):\n%s", diff)
	}
	again, err := ParseFile(&out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(def, again); diff != "" {
		t.Errorf("API → file → API mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(out.String(), `\u0026`) {
		t.Errorf("FormatFile escaped '&':\n%s", out.String())
	}

	// An API definition in any field order comes back sorted by key, with
	// a repeated key's values in their order.
	unsorted := &Definition{Objects: []Object{{ID: "A", Name: "A", Fields: []Field{
		String("z", "1"), Ref("b", "A"), String("z", "2"), String("a", "x"),
	}}}}
	out.Reset()
	if err := FormatFile(&out, unsorted); err != nil {
		t.Fatal(err)
	}
	back, err := ParseFile(&out)
	if err != nil {
		t.Fatal(err)
	}
	wantFields := []Field{String("a", "x"), Ref("b", "A"), String("z", "1"), String("z", "2")}
	if diff := cmp.Diff(wantFields, back.Objects[0].Fields); diff != "" {
		t.Errorf("round trip of unsorted fields (-want +got):\n%s", diff)
	}
}

func TestParseFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, file, want string }{
		{"no objects", `{"parameters": []}`, `Missing "objects" key`},
		{"no id", `{"objects": [{"name": "x"}]}`, `Missing "id" key of element 1`},
		{"number value", `{"objects": [{"id": "A", "maximumRetries": 3}]}`, `field "maximumRetries" of object "A" must be a string`},
		{"object value", `{"objects": [{"id": "A", "x": {"ref": "B", "other": 1}}]}`, `field "x" of object "A"`},
		{"no parameter id", `{"objects": [], "parameters": [{"type": "String"}]}`, `Missing "id" key of parameter 1`},
		{"bad value", `{"objects": [], "values": {"myX": 1}}`, `"myX" of values must be a string or a list of strings`},
		{"not json", `{"objects": [`, `not a JSON definition file`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseFile(strings.NewReader(tc.file))
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseFile(%s) error = %v, want a FileError containing %q", tc.file, err, tc.want)
			}
		})
	}
	var out bytes.Buffer
	err := FormatFile(&out, &Definition{Objects: []Object{{ID: "A", Name: "A", Fields: []Field{String("id", "x")}}}})
	if err == nil {
		t.Errorf("FormatFile of a field named id succeeded; the file cannot represent it")
	}
}
