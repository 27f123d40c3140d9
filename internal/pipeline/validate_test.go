package pipeline

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ptr(s string) *string { return &s }

func obj(id string, fields ...Field) Object { return Object{ID: id, Name: id, Fields: fields} }

// csv is an object of a type with no required fields and no schedule, so
// that a test of one structural check sees only that check's messages.
func csv(id string, fields ...Field) Object {
	return Object{ID: id, Name: id, Fields: append([]Field{String("type", "CSV")}, fields...)}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	empty := ""
	tests := []struct {
		name      string
		def       Definition
		wantErrs  []ValidationError
		wantFatal int
	}{
		{
			name: "clean",
			def: Definition{Objects: []Object{
				obj("Default", String("scheduleType", "ondemand"), String("workerGroup", "wg"),
					String("pipelineLogUri", "s3://bucket/logs/")),
				obj("Hello", String("type", "ShellCommandActivity"), String("command", "echo"), Ref("parent", "Default")),
			}},
		},
		{
			name: "missing reference is saved but errored",
			def:  Definition{Objects: []Object{csv("A", Ref("myLink", "Nope"))}},
			wantErrs: []ValidationError{{ID: "A", Errors: []string{
				"INVALID_REFERENCE:  'myLink' refers to 'Nope', which is not an object in this pipeline."}}},
		},
		{
			name: "empty string value is fatal",
			def:  Definition{Objects: []Object{obj("Default", Field{Key: "workerGroup", StringValue: &empty})}},
			wantErrs: []ValidationError{{ID: "Default", Errors: []string{
				"EMPTY_VALUE:  'workerGroup' has an empty value."}}},
			wantFatal: 1,
		},
		{
			name:      "missing name is fatal",
			def:       Definition{Objects: []Object{{ID: "A", Fields: []Field{String("type", "CSV")}}}},
			wantErrs:  []ValidationError{{ID: "A", Errors: []string{"EMPTY_VALUE:  The object has no name."}}},
			wantFatal: 1,
		},
		{
			name:      "missing id is fatal",
			def:       Definition{Objects: []Object{{Name: "A", Fields: []Field{}}}},
			wantErrs:  []ValidationError{{ID: "pipelineObjects[0]", Errors: []string{"EMPTY_VALUE:  The object has no id."}}},
			wantFatal: 1,
		},
		{
			name:      "field without any value is fatal",
			def:       Definition{Objects: []Object{csv("A", Field{Key: "myX"})}},
			wantErrs:  []ValidationError{{ID: "A", Errors: []string{"EMPTY_VALUE:  'myX' has neither a string value nor a reference value."}}},
			wantFatal: 1,
		},
		{
			name: "empty reference beside a string value is still fatal",
			def:  Definition{Objects: []Object{csv("A", Field{Key: "myX", StringValue: ptr("a"), RefValue: &empty})}},
			wantErrs: []ValidationError{{ID: "A", Errors: []string{
				"EMPTY_VALUE:  'myX' has an empty reference.",
				"INVALID_FIELD_VALUE:  'myX' has both a string value and a reference value."}}},
			wantFatal: 1,
		},
		{
			name: "duplicate id",
			def:  Definition{Objects: []Object{csv("A"), csv("A")}},
			wantErrs: []ValidationError{{ID: "A", Errors: []string{
				"DUPLICATE_ID:  Another object already has the id 'A'."}}},
		},
		{
			name: "runtime field",
			def:  Definition{Objects: []Object{csv("A", String("@status", "x"))}},
			wantErrs: []ValidationError{{ID: "A", Errors: []string{
				"READ_ONLY_FIELD:  '@status' is a runtime field; fields starting with '@' are set by the service."}}},
		},
		{
			name: "parent cycle flags only the objects on it",
			def: Definition{Objects: []Object{
				csv("A", Ref("parent", "B")), csv("B", Ref("parent", "A")), csv("C", Ref("parent", "A")),
			}},
			wantErrs: []ValidationError{
				{ID: "A", Errors: []string{"CYCLIC_REFERENCE:  The 'parent' chain of 'A' leads back to itself."}},
				{ID: "B", Errors: []string{"CYCLIC_REFERENCE:  The 'parent' chain of 'B' leads back to itself."}},
			},
		},
		{
			name: "self parent",
			def:  Definition{Objects: []Object{csv("A", Ref("parent", "A"))}},
			wantErrs: []ValidationError{
				{ID: "A", Errors: []string{"CYCLIC_REFERENCE:  The 'parent' chain of 'A' leads back to itself."}},
			},
		},
		{
			name: "duplicate parameter",
			def: Definition{ParameterObjects: []ParameterObject{
				{ID: "myP", Attributes: []ParameterAttribute{{Key: "default", StringValue: "v"}}},
				{ID: "myP", Attributes: []ParameterAttribute{{Key: "default", StringValue: "v"}}},
			}},
			wantErrs: []ValidationError{{ID: "myP", Errors: []string{"DUPLICATE_PARAMETER:  Another parameter already has the id 'myP'."}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Validate(&tc.def, Options{})
			if diff := cmp.Diff(tc.wantErrs, got.Errors); diff != "" {
				t.Errorf("Validate() errors mismatch (-want +got):\n%s", diff)
			}
			if len(got.Fatal) != tc.wantFatal {
				t.Errorf("Validate() fatal = %q, want %d entries", got.Fatal, tc.wantFatal)
			}
			if got.Errored() != (len(tc.wantErrs) > 0) {
				t.Errorf("Errored() = %v", got.Errored())
			}
		})
	}
}

func TestValidateLimits(t *testing.T) {
	t.Parallel()
	var def Definition
	for i := range 101 {
		def.Objects = append(def.Objects, obj("O"+strings.Repeat("x", i)))
	}
	res := Validate(&def, Options{})
	if len(res.Fatal) != 1 || !strings.Contains(res.Fatal[0], "TOO_MANY_OBJECTS") {
		t.Fatalf("101 objects: fatal = %q, want one TOO_MANY_OBJECTS", res.Fatal)
	}
	if !strings.HasPrefix(res.FatalMessage(), "Pipeline definition has errors: Could not save the pipeline definition due to FATAL errors: [") {
		t.Errorf("FatalMessage() = %q", res.FatalMessage())
	}
	if res := Validate(&def, Options{Limits: Limits{MaxObjects: 200}}); len(res.Fatal) != 0 {
		t.Errorf("MaxObjects 200: fatal = %q, want none", res.Fatal)
	}

	fields := make([]Field, 51)
	for i := range fields {
		fields[i] = String("myField", "v")
	}
	res = Validate(&Definition{Objects: []Object{obj("A", fields...)}}, Options{})
	if len(res.Errors) != 1 || !strings.HasPrefix(res.Errors[0].Errors[0], "TOO_MANY_FIELDS:") || len(res.Fatal) != 0 {
		t.Errorf("51 fields: errors = %v fatal = %v, want one non-fatal TOO_MANY_FIELDS", res.Errors, res.Fatal)
	}

	big := strings.Repeat("x", 8000)
	res = Validate(&Definition{Objects: []Object{obj("A", String("myA", big), String("myB", big))}}, Options{})
	if len(res.Errors) != 1 || !strings.HasPrefix(res.Errors[0].Errors[0], "OBJECT_TOO_LARGE:") {
		t.Errorf("16 KB object: errors = %v, want OBJECT_TOO_LARGE", res.Errors)
	}
}

// FuzzValidate checks that no definition, however malformed, makes
// Validate panic; the wire layer only guarantees lengths and characters.
func FuzzValidate(f *testing.F) {
	f.Add("A", "parent", "B", "B", "parent", "A")
	f.Add("", "", "", "@x", "", "")
	f.Fuzz(func(t *testing.T, id1, k1, v1, id2, k2, v2 string) {
		def := Definition{Objects: []Object{
			{ID: id1, Name: id1, Fields: []Field{Ref(k1, v1), String(k2, v2)}},
			{ID: id2, Name: id2, Fields: []Field{Ref(k2, v2), Ref("parent", id1)}},
		}}
		Validate(&def, Options{})
	})
}
