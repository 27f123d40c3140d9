package datapipeline

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/pipeline/pipelinetest"
)

// TestValidateDefinitionMembers pins the member names in violations of a
// definition's elements, which validate builds only for the elements at
// fault.
func TestValidateDefinitionMembers(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	objs := pipelinetest.Definition(10)
	objs[2].Fields[1].Key = ""
	objs[4].Fields[0].StringValue = s("bad\x01")
	objs[4].Name = strings.Repeat("n", maxID+1)
	objs[6].Fields = nil
	objs[7].Fields = append(objs[7].Fields, Field{Key: "k", RefValue: s(strings.Repeat("r", maxFieldName+1))})
	in := &PutPipelineDefinitionInput{
		PipelineID:      "df-1",
		PipelineObjects: objs,
		ParameterObjects: []ParameterObject{
			{ID: "ok", Attributes: []ParameterAttribute{{Key: "type", StringValue: "String"}}},
			{ID: "myP", Attributes: []ParameterAttribute{{Key: "type", StringValue: "String"}, {Key: "", StringValue: "x"}}},
			{ID: ""},
		},
		ParameterValues: []ParameterValue{{ID: "ok", StringValue: "v"}, {ID: "myP", StringValue: "\uFFFF"}},
	}
	const pattern = `Member must satisfy regular expression pattern: [\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*`
	want := "9 validation errors detected: " + strings.Join([]string{
		"Value at 'pipelineObjects.3.member.fields.2.member.key' failed to satisfy constraint: Member must not be null or empty",
		"Value at 'pipelineObjects.5.member.name' failed to satisfy constraint: Member must have length less than or equal to 1024",
		"Value at 'pipelineObjects.5.member.fields.1.member.stringValue' failed to satisfy constraint: " + pattern,
		"Value at 'pipelineObjects.7.member.fields' failed to satisfy constraint: Member must not be null",
		"Value at 'pipelineObjects.8.member.fields.6.member.refValue' failed to satisfy constraint: Member must have length less than or equal to 256",
		"Value at 'parameterObjects.2.member.attributes.2.member.key' failed to satisfy constraint: Member must not be null or empty",
		"Value at 'parameterObjects.3.member.id' failed to satisfy constraint: Member must not be null or empty",
		"Value at 'parameterObjects.3.member.attributes' failed to satisfy constraint: Member must not be null",
		"Value at 'parameterValues.2.member.stringValue' failed to satisfy constraint: " + pattern,
	}, "; ")
	err := in.validate()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("validate() = %v, want an *Error", err)
	}
	if diff := cmp.Diff(want, e.Message); diff != "" {
		t.Errorf("validate() message mismatch (-want +got):\n%s", diff)
	}
}

// TestValidateValidDefinitionAllocatesNothing checks that member names
// are built only for violations.
func TestValidateValidDefinitionAllocatesNothing(t *testing.T) {
	in := &PutPipelineDefinitionInput{
		PipelineID:       "df-1",
		PipelineObjects:  pipelinetest.Definition(100),
		ParameterObjects: []ParameterObject{{ID: "myP", Attributes: []ParameterAttribute{{Key: "type", StringValue: "String"}}}},
		ParameterValues:  []ParameterValue{{ID: "myP", StringValue: "v"}},
	}
	if allocs := testing.AllocsPerRun(10, func() {
		if err := in.validate(); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("validate() of a valid definition allocated %v times, want 0", allocs)
	}
}
