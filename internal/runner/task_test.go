package runner

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/google/go-cmp/cmp"
)

func sv(key, v string) types.Field {
	return types.Field{Key: aws.String(key), StringValue: aws.String(v)}
}
func rv(key, v string) types.Field { return types.Field{Key: aws.String(key), RefValue: aws.String(v)} }

// sampleTaskObject is shaped like culvert's and AWS's (spec §1.3
// PollForTask): a flattened attempt and the data node it references.
func sampleTaskObject() *types.TaskObject {
	attempt := "@Copy_2026-03-01T10:00:00_Attempt=2"
	return &types.TaskObject{
		TaskId: aws.String("t-1"), PipelineId: aws.String("df-1"), AttemptId: aws.String(attempt),
		Objects: map[string]types.PipelineObject{
			attempt: {Id: aws.String(attempt), Name: aws.String(attempt), Fields: []types.Field{
				rv("@componentParent", "Copy"), rv("@instanceParent", "@Copy_2026-03-01T10:00:00"), rv("parent", "Copy"),
				sv("type", "ShellCommandActivity"), sv("command", "cp $1 $2"),
				sv("scriptArgument", "a"), sv("scriptArgument", "b"),
				sv("maximumRetries", " 3 "), sv("stage", "True"), sv("bad", "many"),
				rv("input", "@In_1"), rv("input", "@In_2"), rv("output", "@Missing_1"),
			}},
			"@In_1": {Id: aws.String("@In_1"), Fields: []types.Field{sv("type", "S3DataNode")}},
			"@In_2": {Id: aws.String("@In_2"), Fields: []types.Field{sv("type", "SqlDataNode")}},
		},
	}
}

func TestParseTaskAndAccessors(t *testing.T) {
	t.Parallel()
	task, err := ParseTask(sampleTaskObject())
	if err != nil {
		t.Fatal(err)
	}
	a := task.Attempt()
	if task.Type() != "ShellCommandActivity" || task.ComponentID() != "Copy" || task.InstanceID() != "@Copy_2026-03-01T10:00:00" {
		t.Errorf("type %q, component %q, instance %q", task.Type(), task.ComponentID(), task.InstanceID())
	}
	if got := a.Strings("scriptArgument"); !cmp.Equal(got, []string{"a", "b"}) {
		t.Errorf("Strings(scriptArgument) = %q", got)
	}
	if s, ok := a.String("input"); ok {
		t.Errorf("String(input) = %q, true; a reference is not a string", s)
	}
	if n, err := a.Int("maximumRetries", 0); n != 3 || err != nil {
		t.Errorf("Int(maximumRetries) = %d, %v", n, err)
	}
	if n, err := a.Int("absent", 7); n != 7 || err != nil {
		t.Errorf("Int(absent, 7) = %d, %v", n, err)
	}
	if _, err := a.Int("bad", 0); err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("Int(bad) error = %v, want one naming the field", err)
	}
	if b, err := a.Bool("stage", false); !b || err != nil {
		t.Errorf("Bool(stage) = %v, %v", b, err)
	}
	if _, err := a.Bool("bad", false); err == nil {
		t.Error("Bool(bad) gave no error")
	}
	ins, err := task.FollowAll(a, "input")
	if err != nil || len(ins) != 2 || ins[0].Type() != "S3DataNode" || ins[1].Type() != "SqlDataNode" {
		t.Errorf("FollowAll(input) = %v, %v", ins, err)
	}
	if in, err := task.Follow(a, "input"); err != nil || in.ID != "@In_1" {
		t.Errorf("Follow(input) = %v, %v", in, err)
	}
	if _, err := task.Follow(a, "output"); err == nil || !strings.Contains(err.Error(), "@Missing_1") {
		t.Errorf("Follow(output) error = %v, want one naming the missing id", err)
	}
	if _, err := task.Follow(a, "runsOn"); !errors.Is(err, ErrNoField) {
		t.Errorf("Follow(runsOn) error = %v, want ErrNoField", err)
	}
}

func TestParseTaskRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*types.TaskObject)
		want   string
	}{
		{name: "no task id", change: func(to *types.TaskObject) { to.TaskId = nil }, want: "taskId"},
		{name: "attempt absent", change: func(to *types.TaskObject) { to.AttemptId = aws.String("@Other") }, want: `"@Other" is not among`},
		{name: "field without value", change: func(to *types.TaskObject) {
			o := to.Objects["@In_1"]
			o.Fields = append(o.Fields, types.Field{Key: aws.String("empty")})
			to.Objects["@In_1"] = o
		}, want: `"empty" has no value`},
		{name: "field with both values", change: func(to *types.TaskObject) {
			o := to.Objects["@In_1"]
			o.Fields = append(o.Fields, types.Field{Key: aws.String("both"), StringValue: aws.String("x"), RefValue: aws.String("y")})
			to.Objects["@In_1"] = o
		}, want: `"both" has both`},
		{name: "field without key", change: func(to *types.TaskObject) {
			o := to.Objects["@In_1"]
			o.Fields = append(o.Fields, types.Field{StringValue: aws.String("x")})
			to.Objects["@In_1"] = o
		}, want: "has no key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			to := sampleTaskObject()
			tc.change(to)
			if _, err := ParseTask(to); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseTask() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := ParseTask(nil); err == nil {
		t.Error("ParseTask(nil) gave no error")
	}
}

// TestInstanceIDFallback reads the instance from the attempt id when the
// attempt has no @instanceParent.
func TestInstanceIDFallback(t *testing.T) {
	t.Parallel()
	task := &Task{AttemptID: "@A_2026-01-01T00:00:00_Attempt=3", Objects: map[string]*Object{
		"@A_2026-01-01T00:00:00_Attempt=3": {Fields: []Field{{Key: "parent", Value: "A", Ref: true}}},
	}}
	if task.InstanceID() != "@A_2026-01-01T00:00:00" || task.ComponentID() != "A" {
		t.Errorf("instance %q, component %q", task.InstanceID(), task.ComponentID())
	}
}
