package scheduler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/culvert/culvert/internal/pipeline"
)

// ErrorIDInvalidExpression is the errorId of an attempt failed because its
// task object could not be built: an expression in a field it needs does not
// evaluate. Such errors are [*pipeline.FieldEvalError]s.
const ErrorIDInvalidExpression = "InvalidExpression"

// TaskInput is what [BuildTaskObject] builds a task object from. It is a
// struct because the values have distinct roles the caller gathers from
// different places: the definition from the store, the instances from the
// Run.
type TaskInput struct {
	PipelineID string
	// Definition is the active definition with the parameter values in
	// force: those put with it, overridden by those given at activation
	// ([pipeline.Definition.WithParameterValues]). It is read, not changed.
	Definition *pipeline.Definition
	Instance   *pipeline.Instance
	Attempt    *pipeline.Attempt // an attempt of Instance
	// Bound holds the instances Instance is bound to in its interval: those
	// of its input and output data nodes, and the resource instance it
	// runs on (Instance.Resource). Each is matched to its component's
	// reference; a reference with no bound instance stays a reference to
	// the component. [Run.Bound] gathers them.
	Bound []*pipeline.Instance
	// Node is, for a precondition's instance, the instance it checks for
	// (Instance.Node), and NodeBound what that one is bound to, so that
	// #{node.directoryPath} and #{node.input} resolve as for the node.
	Node      *pipeline.Instance
	NodeBound []*pipeline.Instance
}

// controlKeys are the references a task runner has no use for: lineage,
// scheduling, dependencies and what the service does on events. Their
// targets are included unevaluated when the attempt itself names them,
// so that every reference of the attempt resolves, and are not followed
// from other objects, which would pull in much of the definition.
var controlKeys = map[string]bool{
	"parent": true, pipeline.KeyComponentParent: true, pipeline.KeyInstanceParent: true,
	pipeline.KeyHeadAttempt: true, pipeline.KeyCascadeFailedOn: true, "@activeInstances": true, "@waitingOn": true,
	"schedule": true, "dependsOn": true, "precondition": true, "node": true,
	"onFail": true, "onSuccess": true, "onLateAction": true,
}

// BuildTaskObject returns the JSON of the objects map of the TaskObject
// that PollForTask hands a runner for in.Attempt (§1.3, §9.3): a map from
// object id to PipelineObject, which the store keeps as the task's Objects.
//
// The map holds:
//
//   - the attempt, flattened: its own runtime fields, its instance's, and
//     the component's effective fields (through parent and Default), with
//     every #{…} evaluated in the attempt's context. As in AWS's example,
//     its parent is the component; its input, output and runsOn are the
//     bound instances;
//   - the objects a runner reads to do the work, flattened and evaluated in
//     their own context: every object the attempt references other than
//     through a control key (see below) — its input and output data-node
//     instances, its resource instance, a SqlActivity's database, any
//     user reference — and, transitively, what those reference if it is
//     a database, a data format or a utility object (dataFormat, database,
//     httpProxy, configuration, property, …). Runnable components and
//     schedules reached that way are included unevaluated instead;
//   - the objects the attempt names through a control key (parent,
//     @componentParent, @instanceParent, schedule, dependsOn, precondition,
//     onFail, onSuccess, onLateAction; and node but for a precondition's
//     check, which reads its node as a runner reads an input), as
//     DescribeObjects shows them
//     without evaluation, only so that every reference of the attempt
//     resolves in the map. Preconditions and actions are the service's
//     business, never a runner's.
//
// Secret fields (*password) and secret parameters are evaluated into the
// map, since runners need them; they never appear in errors.
//
// Returns a [*pipeline.FieldEvalError], wrapped, naming the object, field
// and position of an expression that does not evaluate (fail the attempt
// with [ErrorIDInvalidExpression]); or another error for inputs that do not
// fit together, which is a bug of the caller.
func BuildTaskObject(in *TaskInput) ([]byte, error) {
	if in.Definition == nil || in.Instance == nil || in.Attempt == nil {
		return nil, errors.New("build task object: definition, instance and attempt are required")
	}
	inst, a := in.Instance, in.Attempt
	if slices.Contains(in.Bound, nil) {
		return nil, errors.New("build task object: a bound instance is nil")
	}
	if a.InstanceID != inst.ID {
		return nil, fmt.Errorf("build task object: attempt %s is not of instance %s", a.ID, inst.ID)
	}
	rt := pipeline.NewRuntime(in.PipelineID, inst.Version, in.Definition)
	ev := pipeline.NewEvaluator(in.Definition, rt.Func())
	if in.Node != nil {
		if _, _, err := addBound(rt, ev, in.Node, in.NodeBound); err != nil {
			return nil, fmt.Errorf("build task object for %s: node: %w", a.ID, err)
		}
	}
	inst, links, err := addBound(rt, ev, inst, in.Bound)
	if err != nil {
		return nil, fmt.Errorf("build task object for %s: %w", a.ID, err)
	}
	rt.AddAttempt(inst, links, a)

	b := taskBuilder{ev: ev, rt: rt.Func(), def: in.Definition, pipelineID: in.PipelineID, version: inst.Version,
		objects: make(map[string]*pipeline.Object, 8)}
	if err := b.build(a.ID); err != nil {
		return nil, fmt.Errorf("build task object for %s: %w", a.ID, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // values such as "a > b" reach runners as written
	if err := enc.Encode(b.objects); err != nil {
		return nil, fmt.Errorf("build task object for %s: %w", a.ID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// addBound makes instance in known to rt with the instances it is bound to
// and its links to them, and returns it as bound (its resource set) with
// its links.
func addBound(rt *pipeline.Runtime, ev *pipeline.Evaluator, in *pipeline.Instance, bound []*pipeline.Instance) (*pipeline.Instance, pipeline.InstanceLinks, error) {
	comp, err := ev.Fields(in.ComponentID)
	if err != nil {
		return nil, pipeline.InstanceLinks{}, err
	}
	links, inst, err := bind(comp, in, bound)
	if err != nil {
		return nil, links, err
	}
	for _, b := range bound {
		rt.AddInstance(b, pipeline.InstanceLinks{})
	}
	rt.AddInstance(inst, links)
	return inst, links, nil
}

// bind matches the bound instances to the component's input, output and
// runsOn references. It returns the links of the activity instance and the
// instance with its resource set, a copy if bind set it.
func bind(comp []pipeline.Field, inst *pipeline.Instance, bound []*pipeline.Instance) (pipeline.InstanceLinks, *pipeline.Instance, error) {
	var links pipeline.InstanceLinks
	used := make([]bool, len(bound))
	find := func(componentID string) (string, bool) {
		for i, b := range bound {
			if b.ComponentID == componentID {
				used[i] = true
				return b.ID, true
			}
		}
		return componentID, false
	}
	for _, f := range comp {
		if f.RefValue == nil {
			continue
		}
		switch f.Key {
		case "input":
			id, _ := find(*f.RefValue)
			links.Input = append(links.Input, id)
		case "output":
			id, _ := find(*f.RefValue)
			links.Output = append(links.Output, id)
		case "runsOn":
			// The Run sets Resource when it binds one; a caller that did
			// not still gets the bound instance it passed.
			if id, ok := find(*f.RefValue); ok && inst.Resource == "" {
				cp := *inst
				cp.Resource = id
				inst = &cp
			}
		}
	}
	for i, b := range bound {
		if b.ID == inst.Resource {
			used[i] = true
		}
		if !used[i] {
			return links, nil, fmt.Errorf("bound instance %s is not an input, output or resource of %s", b.ID, inst.ID)
		}
	}
	if inst.Resource != "" && !slicesContainsID(bound, inst.Resource) {
		return links, nil, fmt.Errorf("resource instance %s of %s is not among the bound instances", inst.Resource, inst.ID)
	}
	return links, inst, nil
}

func slicesContainsID(list []*pipeline.Instance, id string) bool {
	for _, x := range list {
		if x.ID == id {
			return true
		}
	}
	return false
}

type taskBuilder struct {
	ev         *pipeline.Evaluator
	rt         pipeline.RuntimeFunc
	def        *pipeline.Definition
	pipelineID string
	version    int64
	objects    map[string]*pipeline.Object
}

// build adds the attempt and its closure, breadth first.
func (b *taskBuilder) build(attemptID string) error {
	queue := []string{attemptID}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if _, done := b.objects[id]; done {
			continue
		}
		o, err := b.ev.Flatten(id, b.keepOnError(id))
		if err != nil {
			return err
		}
		b.objects[id] = o
		for _, f := range o.Fields {
			if f.RefValue == nil {
				continue
			}
			target := *f.RefValue
			if _, done := b.objects[target]; done {
				continue
			}
			switch {
			case id == attemptID && f.Key == "node":
				// A precondition's check is of its node: the runner reads
				// the data node whole (an Exists on a table needs the
				// table's name and database), as it reads an input.
				queue = append(queue, target)
			case controlKeys[f.Key]:
				if id == attemptID {
					b.addUnevaluated(target)
				}
			case b.worked(id == attemptID, f.Key, target):
				queue = append(queue, target)
			default:
				b.addUnevaluated(target)
			}
		}
	}
	return nil
}

// keepOnError is lenient with a component (an object with no instance, such
// as a database) about the fields it inherits and its type does not
// declare: those come from Default or a template, are meant for the
// runnable objects that inherit them, and may use runtime fields that a
// component has no value for. Such a field is kept as written rather than
// failing the attempt over a value nobody reads. Instances and the
// attempt are strict.
func (b *taskBuilder) keepOnError(id string) func(string) bool {
	o := b.def.Object(id)
	if o == nil {
		return nil
	}
	typ, _ := o.Get("type")
	t, _ := pipeline.LookupType(typ.Value())
	return func(key string) bool {
		if _, own := o.Get(key); own {
			return false
		}
		if t != nil {
			if _, declared := t.Field(key); declared {
				return false
			}
		}
		return true
	}
}

// worked reports whether the object target, referenced through key, is one
// a runner reads: an instance, anything the attempt references directly,
// or a component that is not itself scheduled (a database, a data format,
// a utility object).
func (b *taskBuilder) worked(fromAttempt bool, key, target string) bool {
	if fromAttempt {
		return true
	}
	o := b.def.Object(target)
	if o == nil {
		return true // an instance, or unknown: Flatten says which
	}
	typ, _ := o.Get("type")
	t, ok := pipeline.LookupType(typ.Value())
	if !ok {
		return true
	}
	switch t.Kind {
	case pipeline.KindDatabase, pipeline.KindDataFormat, pipeline.KindOther:
		return true
	}
	return false
}

// addUnevaluated adds the object as DescribeObjects shows it without
// evaluation: an instance's runtime fields, a component's own fields and
// system fields. Unknown ids are left out: the reference then dangles, as
// AWS's own task objects' do.
func (b *taskBuilder) addUnevaluated(id string) {
	if o := b.def.Object(id); o != nil {
		fs := append([]pipeline.Field(nil), o.Fields...)
		fs = append(fs, pipeline.ComponentSystemFields(b.pipelineID, b.version)...)
		b.objects[id] = &pipeline.Object{ID: o.ID, Name: o.Name, Fields: fs}
		return
	}
	if fs, ok := b.rt(id); ok {
		b.objects[id] = &pipeline.Object{ID: id, Name: id, Fields: fs}
	}
}

// Bound returns the instances in is bound to: the instances of its input
// and output data nodes whose interval holds its scheduled start, and its
// resource instance. Those not created yet are left out.
func (r *Run) Bound(in *pipeline.Instance) []*pipeline.Instance {
	node, ok := r.Graph.Node(in.ComponentID)
	if !ok {
		return nil
	}
	var out []*pipeline.Instance
	add := func(x *pipeline.Instance) {
		if x != nil && !slicesContainsID(out, x.ID) {
			out = append(out, x)
		}
	}
	for _, id := range node.Inputs {
		add(r.at(id, in.ScheduledStart))
	}
	for _, id := range node.Outputs {
		add(r.at(id, in.ScheduledStart))
	}
	if in.Resource != "" {
		add(r.instances[in.Resource])
	}
	return out
}
