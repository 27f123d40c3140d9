package runner

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// Task is the task object PollForTask hands out, as the runner reads it:
// the attempt to run and the objects it references (spec §1.3 PollForTask;
// docs/assumptions/0013-task-object.md). Objects are flattened by the
// service, so an attempt's fields include those it inherits.
type Task struct {
	ID         string // taskId, for ReportTaskProgress and SetTaskStatus
	PipelineID string
	AttemptID  string
	Objects    map[string]*Object
}

// Object is one object of a task object: its fields in the order given.
type Object struct {
	ID, Name string
	Fields   []Field
}

// Field is one key of an object with either a string or a reference value.
type Field struct {
	Key   string
	Value string // the stringValue, or the id a refValue names
	Ref   bool
}

// ErrNoField is returned (wrapped) by the [Object] and [Task] accessors
// when a field they need is absent.
var ErrNoField = errors.New("no such field")

// ParseTask converts the SDK's task object into a [Task]. It returns an
// error if the task id or attempt id is missing, if the attempt is not
// among the objects, or if a field has neither or both of a string and a
// reference value.
func ParseTask(in *types.TaskObject) (*Task, error) {
	if in == nil {
		return nil, errors.New("task object: none")
	}
	t := &Task{
		ID: aws.ToString(in.TaskId), PipelineID: aws.ToString(in.PipelineId), AttemptID: aws.ToString(in.AttemptId),
		Objects: make(map[string]*Object, len(in.Objects)),
	}
	if t.ID == "" || t.AttemptID == "" {
		return nil, fmt.Errorf("task object: taskId %q, attemptId %q: both are required", t.ID, t.AttemptID)
	}
	for key, po := range in.Objects {
		id := aws.ToString(po.Id)
		if id == "" {
			id = key
		}
		o := &Object{ID: id, Name: aws.ToString(po.Name), Fields: make([]Field, 0, len(po.Fields))}
		for i, f := range po.Fields {
			k := aws.ToString(f.Key)
			switch {
			case k == "":
				return nil, fmt.Errorf("task object: %s: field %d has no key", id, i)
			case f.StringValue != nil && f.RefValue != nil:
				return nil, fmt.Errorf("task object: %s: field %q has both a stringValue and a refValue", id, k)
			case f.RefValue != nil:
				o.Fields = append(o.Fields, Field{Key: k, Value: *f.RefValue, Ref: true})
			case f.StringValue != nil:
				o.Fields = append(o.Fields, Field{Key: k, Value: *f.StringValue})
			default:
				return nil, fmt.Errorf("task object: %s: field %q has no value", id, k)
			}
		}
		t.Objects[key] = o
	}
	if t.Objects[t.AttemptID] == nil {
		return nil, fmt.Errorf("task object: the attempt %q is not among its objects", t.AttemptID)
	}
	return t, nil
}

// Attempt returns the attempt object, which [ParseTask] guarantees.
func (t *Task) Attempt() *Object { return t.Objects[t.AttemptID] }

// Type returns the attempt's type, such as ShellCommandActivity.
func (t *Task) Type() string { s, _ := t.Attempt().String("type"); return s }

// Follow returns the object that o's reference field key names. It returns
// an error wrapping [ErrNoField] if o has no such reference, and an error
// naming the id if the task object does not hold it.
func (t *Task) Follow(o *Object, key string) (*Object, error) {
	id, ok := o.Ref(key)
	if !ok {
		return nil, fmt.Errorf("%s: reference %q: %w", o.ID, key, ErrNoField)
	}
	target := t.Objects[id]
	if target == nil {
		return nil, fmt.Errorf("%s: %s refers to %q, which the task object does not hold", o.ID, key, id)
	}
	return target, nil
}

// FollowAll returns the objects o's repeated reference field key names, in
// order; none if o has no such field. It returns an error naming the first
// id the task object does not hold.
func (t *Task) FollowAll(o *Object, key string) ([]*Object, error) {
	var out []*Object
	for _, id := range o.Refs(key) {
		target := t.Objects[id]
		if target == nil {
			return nil, fmt.Errorf("%s: %s refers to %q, which the task object does not hold", o.ID, key, id)
		}
		out = append(out, target)
	}
	return out, nil
}

// ComponentID returns the id of the component the attempt belongs to:
// its @componentParent, else its parent.
func (t *Task) ComponentID() string {
	a := t.Attempt()
	if id, ok := a.Ref("@componentParent"); ok {
		return id
	}
	id, _ := a.Ref("parent")
	return id
}

// InstanceID returns the id of the instance the attempt belongs to: its
// @instanceParent, else the attempt id without its _Attempt=N suffix.
func (t *Task) InstanceID() string {
	if id, ok := t.Attempt().Ref("@instanceParent"); ok {
		return id
	}
	id, _, _ := strings.Cut(t.AttemptID, "_Attempt=")
	return id
}

// String returns the first string value of key.
func (o *Object) String(key string) (string, bool) {
	for _, f := range o.Fields {
		if f.Key == key && !f.Ref {
			return f.Value, true
		}
	}
	return "", false
}

// Strings returns every string value of key, in order: a repeated field
// such as scriptArgument.
func (o *Object) Strings(key string) []string {
	var out []string
	for _, f := range o.Fields {
		if f.Key == key && !f.Ref {
			out = append(out, f.Value)
		}
	}
	return out
}

// Ref returns the id the first reference value of key names.
func (o *Object) Ref(key string) (string, bool) {
	for _, f := range o.Fields {
		if f.Key == key && f.Ref {
			return f.Value, true
		}
	}
	return "", false
}

// Refs returns the ids every reference value of key names, in order.
func (o *Object) Refs(key string) []string {
	var out []string
	for _, f := range o.Fields {
		if f.Key == key && f.Ref {
			out = append(out, f.Value)
		}
	}
	return out
}

// Type returns the object's type field.
func (o *Object) Type() string { s, _ := o.String("type"); return s }

// FieldMap returns the object's string fields as key → values, in order:
// the form dataformat.Parse and sqlconn.Resolver.FromObject read.
func (o *Object) FieldMap() map[string][]string {
	m := make(map[string][]string, len(o.Fields))
	for _, f := range o.Fields {
		if !f.Ref {
			m[f.Key] = append(m[f.Key], f.Value)
		}
	}
	return m
}

// Secrets returns the values of every secret field of the task object
// (a key beginning with "*", such as *password), which nothing the runner
// reports or logs may show.
func (t *Task) Secrets() []string {
	var out []string
	for _, o := range t.Objects {
		for _, f := range o.Fields {
			if strings.HasPrefix(f.Key, "*") && !f.Ref && f.Value != "" {
				out = append(out, f.Value)
			}
		}
	}
	return out
}

// Int returns key as an integer, or def if the field is absent. It returns
// an error naming the object and field if the value is not an integer.
func (o *Object) Int(key string, def int) (int, error) {
	s, ok := o.String(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def, fmt.Errorf("%s: %s = %q is not an integer", o.ID, key, s)
	}
	return n, nil
}

// Bool returns key as a boolean ("true" or "false", in any case), or def
// if the field is absent. It returns an error naming the object and field
// for any other value.
func (o *Object) Bool(key string, def bool) (bool, error) {
	s, ok := o.String(key)
	if !ok {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return def, fmt.Errorf("%s: %s = %q is not true or false", o.ID, key, s)
}
