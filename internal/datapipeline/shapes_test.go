package datapipeline

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestPollForTaskOutputRawJSON checks that the hand-built PollForTask body
// is what encoding/json writes for the output, as awsjson encodes outputs
// (no HTML escaping), and that objects it cannot copy as they are fall
// back to encoding/json.
func TestPollForTaskOutputRawJSON(t *testing.T) {
	t.Parallel()
	task := func(objects string) *TaskObject {
		return &TaskObject{TaskID: "JF4CU4RPLGV4RTDSTS6WVB3VTEC4K", PipelineID: "df-0123456789ABCDEFGHIJ",
			AttemptID: "@Act <1> & \"q\" \u2028 é_2026-11-18T05:45:00_Attempt=1", Objects: json.RawMessage(objects)}
	}
	tests := []struct {
		name     string
		out      *PollForTaskOutput
		fallback bool // RawJSON returns nil: encoding/json encodes it
	}{
		{name: "NoTask", out: &PollForTaskOutput{}},
		{name: "Compact", out: &PollForTaskOutput{TaskObject: task(`{"a":{"id":"a","name":"x > y","fields":[{"key":"c","stringValue":"a b\t\"\\\" {"}]}}`)}},
		{name: "EmptyObject", out: &PollForTaskOutput{TaskObject: task(`{}`)}},
		{name: "Spaces", out: &PollForTaskOutput{TaskObject: task(`{"a": {"b":1}}`)}, fallback: true},
		{name: "Newline", out: &PollForTaskOutput{TaskObject: task("{\"a\":1}\n")}, fallback: true},
		{name: "NotAnObject", out: &PollForTaskOutput{TaskObject: task(`[1]`)}, fallback: true},
		{name: "Nil", out: &PollForTaskOutput{TaskObject: task(``)}, fallback: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.out.RawJSON()
			if tc.fallback {
				if got != nil {
					t.Fatalf("RawJSON() = %s, want nil", got)
				}
				return
			}
			type plain PollForTaskOutput
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode((*plain)(tc.out)); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			if want := bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
				t.Errorf("RawJSON() =\n%s\nencoding/json:\n%s", got, want)
			}
		})
	}
}
