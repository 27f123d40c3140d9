package datapipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// components is the derived, read-optimised form of one definition version:
// the decoded definition, an id index, and each object pre-encoded as
// DescribeObjects returns it, up to the dynamic @status field.
type components struct {
	def    *pipeline.Definition
	index  map[string]int // first object with each id
	prefix [][]byte       // `{"id":…,"name":…,"fields":[…` without the closing "]}"
	exprs  []bool         // whether the object has a field holding a #{…} expression
	err    error
}

// compile returns the derived form of version d of pipeline pipelineID,
// building it on first use.
func compile(pipelineID string, d *store.Definition) (*components, error) {
	c := d.Derive(func(doc []byte) any {
		// The stored document is this package's own encoding, so the fast
		// decoder's assumptions (valid JSON, unique names) hold for it.
		var in PutPipelineDefinitionInput
		if err := in.UnmarshalAWSJSON(doc); err != nil {
			return &components{err: fmt.Errorf("decode stored definition v%d: %w", d.Version, err)}
		}
		def := pipeline.Definition{Objects: in.PipelineObjects, ParameterObjects: in.ParameterObjects, ParameterValues: in.ParameterValues}
		c := &components{def: &def, index: make(map[string]int, len(def.Objects)),
			prefix: make([][]byte, len(def.Objects)), exprs: make([]bool, len(def.Objects))}
		for i := range def.Objects {
			if _, dup := c.index[def.Objects[i].ID]; !dup {
				c.index[def.Objects[i].ID] = i
			}
		}
		// The prefixes share one buffer, sized for the stored fields plus
		// the four added by static; should it still grow, the prefixes
		// already cut keep the old one.
		buf := make([]byte, 0, len(doc)+256*len(def.Objects))
		for i := range def.Objects {
			fields := c.static(i, pipelineID, d.Version)
			start := len(buf)
			buf = appendObject(buf, &pipeline.Object{ID: def.Objects[i].ID, Name: def.Objects[i].Name, Fields: fields})
			end := len(buf) - 2 // drop "]}"; fields is never empty
			c.prefix[i] = buf[start:end:end]
			for _, f := range def.Objects[i].Fields {
				if f.StringValue != nil && strings.Contains(*f.StringValue, "#{") {
					c.exprs[i] = true
				}
			}
		}
		return c
	}).(*components)
	return c, c.err
}

// decoded returns the parsed form of a stored version.
func decoded(pipelineID string, d *store.Definition) (*pipeline.Definition, error) {
	c, err := compile(pipelineID, d)
	if err != nil {
		return nil, err
	}
	return c.def, nil
}

// static returns the fields of component i as DescribeObjects shows them,
// except @status: the stored fields, the implicit parent reference to Default
// that AWS materialises, and the system fields.
func (c *components) static(i int, pipelineID string, version int64) []pipeline.Field {
	o := &c.def.Objects[i]
	fields := append(make([]pipeline.Field, 0, len(o.Fields)+4), o.Fields...)
	if _, hasParent := o.Get("parent"); !hasParent && o.ID != "Default" {
		if _, ok := c.index["Default"]; ok {
			fields = append(fields, pipeline.Ref("parent", "Default"))
		}
	}
	return append(fields,
		pipeline.String("@sphere", string(pipeline.SphereComponent)),
		pipeline.String("@version", strconv.FormatInt(version, 10)),
		pipeline.String("@pipelineId", pipelineID),
	)
}

// evaluator returns an expression evaluator over this version of pipeline
// p. Components carry the system fields DescribeObjects shows; there are no
// instances or attempts yet, so the runtime knows no other object.
func (c *components) evaluator(p *store.Pipeline, version int64) *pipeline.Evaluator {
	return pipeline.NewEvaluator(c.def, func(id string) ([]pipeline.Field, bool) {
		if _, ok := c.index[id]; !ok {
			return nil, false
		}
		return append([]pipeline.Field{
			pipeline.String("@sphere", string(pipeline.SphereComponent)),
			pipeline.String("@version", strconv.FormatInt(version, 10)),
			pipeline.String("@pipelineId", p.ID),
		}, componentRuntime(p, id)...), true
	})
}

// componentRuntime returns the runtime fields of a component that change
// as its pipeline runs: @status (PAUSED if paused, otherwise the state of
// its pipeline), then its health and run times from the run's summary.
func componentRuntime(p *store.Pipeline, id string) []pipeline.Field {
	status := string(p.State)
	if slices.Contains(p.Paused, id) {
		status = "PAUSED"
	}
	fs := []pipeline.Field{pipeline.String("@status", status)}
	if p.Summary != nil {
		if c, ok := p.Summary.Components[id]; ok {
			fs = append(fs, c.Fields()...)
		}
	}
	return fs
}

// appendDescribed appends component i as DescribeObjects returns it,
// reusing its pre-encoded prefix, with its runtime fields rt.
func (c *components) appendDescribed(b []byte, i int, rt []pipeline.Field) []byte {
	b = append(b, c.prefix[i]...)
	for _, f := range rt {
		b = append(b, `,{"key":`...)
		b = appendString(b, f.Key)
		b = append(b, `,"stringValue":`...)
		b = appendString(b, f.Value())
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// appendEvaluated appends component i as DescribeObjects returns it with
// evaluateExpressions: each string value holding an expression replaced by
// what it evaluates to, a list giving the key once per value. A value that
// cannot be evaluated, such as one using @scheduledStartTime, which a
// component has no value for, is kept as written
// (docs/assumptions/0009).
func (c *components) appendEvaluated(b []byte, i int, ev *pipeline.Evaluator, pipelineID string, version int64, rt []pipeline.Field) []byte {
	o := &c.def.Objects[i]
	static := c.static(i, pipelineID, version)
	fields := make([]pipeline.Field, 0, len(static)+1)
	for _, f := range static {
		// type is used verbatim (§6.1), and the system fields hold no expression.
		if f.StringValue == nil || f.Key == "type" || !strings.Contains(*f.StringValue, "#{") {
			fields = append(fields, f)
			continue
		}
		vals, err := ev.Eval(o.ID, *f.StringValue)
		if err != nil {
			fields = append(fields, f)
			continue
		}
		for _, v := range vals {
			fields = append(fields, pipeline.String(f.Key, v))
		}
	}
	fields = append(fields, rt...)
	return appendObject(b, &pipeline.Object{ID: o.ID, Name: o.Name, Fields: fields})
}

// DescribeObjects returns the objects with the given ids. Components come
// from the latest definition; unknown ids are skipped. With
// evaluateExpressions, field values holding expressions are evaluated in
// the context of their object (docs/assumptions/0009).
func (s *Service) DescribeObjects(ctx context.Context, in *DescribeObjectsInput) (*DescribeObjectsOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	start, err := decodeMarker("d", in.Marker)
	if err != nil {
		return nil, err
	}
	p, err := s.store.PipelineGet(ctx, who.AccountID, in.PipelineID)
	if err != nil {
		return nil, pipelineError(err, in.PipelineID)
	}
	out := &DescribeObjectsOutput{PipelineObjects: []json.RawMessage{}}
	if start >= int64(len(in.ObjectIDs)) {
		return out, nil
	}
	if slices.ContainsFunc(in.ObjectIDs[start:], func(id string) bool { return strings.HasPrefix(id, "@") }) {
		return s.describeRunObjects(ctx, who.AccountID, p, in, start)
	}
	if p.Latest == nil {
		return out, nil
	}
	c, err := compile(p.ID, p.Latest)
	if err != nil {
		return nil, err
	}
	// Every requested id fits one page (at most 100 ids, each object at most
	// 15 KB), so the marker only resumes where a client chose to.
	ids := in.ObjectIDs[start:]
	size := 64
	for _, id := range ids {
		if i, ok := c.index[id]; ok {
			size += len(c.prefix[i]) + 64
		}
	}
	// The response is built in one buffer; the objects are slices of it.
	// Evaluated objects may outgrow the estimate: the objects already cut
	// then keep the old buffer, whose bytes nothing changes.
	b := append(make([]byte, 0, size), `{"pipelineObjects":[`...)
	out.PipelineObjects = make([]json.RawMessage, 0, len(ids))
	var ev *pipeline.Evaluator // built for the first object that needs it
	for _, id := range ids {
		if i, ok := c.index[id]; ok {
			if len(out.PipelineObjects) > 0 {
				b = append(b, ',')
			}
			n := len(b)
			if in.EvaluateExpressions && c.exprs[i] {
				if ev == nil {
					ev = c.evaluator(p, p.Latest.Version)
				}
				b = c.appendEvaluated(b, i, ev, p.ID, p.Latest.Version, componentRuntime(p, id))
			} else {
				b = c.appendDescribed(b, i, componentRuntime(p, id))
			}
			out.PipelineObjects = append(out.PipelineObjects, b[n:len(b):len(b)])
		}
	}
	out.raw = append(b, `],"hasMoreResults":false}`...)
	return out, nil
}

// describeRunObjects answers a DescribeObjects that asks for instances or
// attempts, possibly mixed with components. It takes the simple road of
// rendering each object on its own: such requests are few and small,
// unlike the component reads the fast path serves.
func (s *Service) describeRunObjects(ctx context.Context, account string, p *store.Pipeline, in *DescribeObjectsInput, start int64) (*DescribeObjectsOutput, error) {
	run, err := s.loadRun(ctx, account, p.ID)
	if err != nil {
		return nil, err
	}
	var comps *components
	if p.Latest != nil {
		if comps, err = compile(p.ID, p.Latest); err != nil {
			return nil, err
		}
	}
	var ev *pipeline.Evaluator
	if p.Active != nil {
		// Instances link to each other by the active definition's
		// references (their input and output).
		active, err := compile(p.ID, p.Active)
		if err != nil {
			return nil, err
		}
		run.linker(active.def)
		if in.EvaluateExpressions {
			ev = run.evaluator(p.ID, p.Active.Version, active.def)
		}
	}
	out := &DescribeObjectsOutput{PipelineObjects: []json.RawMessage{}}
	for _, id := range in.ObjectIDs[start:] {
		var b []byte
		if o, ok := run.object(p.ID, id); ok {
			if ev != nil {
				o = evaluatedCopy(ev, o)
			}
			b = appendObject(nil, o)
		} else if i, ok := comps.lookup(id); ok {
			if in.EvaluateExpressions && comps.exprs[i] {
				b = comps.appendEvaluated(nil, i, comps.evaluator(p, p.Latest.Version), p.ID, p.Latest.Version, componentRuntime(p, id))
			} else {
				b = comps.appendDescribed(nil, i, componentRuntime(p, id))
			}
		} else {
			continue
		}
		out.PipelineObjects = append(out.PipelineObjects, b)
	}
	return out, nil
}

// lookup finds a component by id; a nil set has none.
func (c *components) lookup(id string) (int, bool) {
	if c == nil {
		return 0, false
	}
	i, ok := c.index[id]
	return i, ok
}

// evaluatedCopy returns o with every value holding an expression
// evaluated in o's context; values that cannot be are kept as written,
// as for components (docs/assumptions/0009).
func evaluatedCopy(ev *pipeline.Evaluator, o *pipeline.Object) *pipeline.Object {
	out := &pipeline.Object{ID: o.ID, Name: o.Name, Fields: make([]pipeline.Field, 0, len(o.Fields))}
	for _, f := range o.Fields {
		if f.StringValue == nil || f.Key == "type" || !strings.Contains(*f.StringValue, "#{") {
			out.Fields = append(out.Fields, f)
			continue
		}
		vals, err := ev.Eval(o.ID, *f.StringValue)
		if err != nil {
			out.Fields = append(out.Fields, f)
			continue
		}
		for _, v := range vals {
			out.Fields = append(out.Fields, pipeline.String(f.Key, v))
		}
	}
	return out
}

// QueryObjects returns the ids of a sphere's objects that satisfy every
// selector, in definition order, paged by limit.
func (s *Service) QueryObjects(ctx context.Context, in *QueryObjectsInput) (*QueryObjectsOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	sphere, ok := pipeline.ParseSphere(in.Sphere)
	if !ok {
		return nil, invalidRequest("sphere must be COMPONENT, INSTANCE or ATTEMPT, not '%s'.", in.Sphere)
	}
	limit := int64(100)
	if in.Limit != nil {
		if *in.Limit < 1 {
			return nil, invalidRequest("limit must be at least 1.")
		}
		limit = min(*in.Limit, 1000)
	}
	var selectors []Selector
	if in.Query != nil {
		selectors = in.Query.Selectors
	}
	preds, err := compileSelectors(selectors)
	if err != nil {
		return nil, err
	}
	start, err := decodeMarker("q", in.Marker)
	if err != nil {
		return nil, err
	}
	p, err := s.store.PipelineGet(ctx, who.AccountID, in.PipelineID)
	if err != nil {
		return nil, pipelineError(err, in.PipelineID)
	}
	out := &QueryObjectsOutput{IDs: []string{}}
	if sphere != pipeline.SphereComponent {
		run, err := s.loadRun(ctx, who.AccountID, p.ID)
		if err != nil {
			return nil, err
		}
		ids, more := run.query(p.ID, sphere, preds, start, limit)
		out.IDs = ids
		if more {
			out.Marker, out.HasMoreResults = encodeMarker("q", start+limit), true
		}
		return out, nil
	}
	if p.Latest == nil {
		return out, nil
	}
	c, err := compile(p.ID, p.Latest)
	if err != nil {
		return nil, err
	}
	var matched int64
	for i := range c.def.Objects {
		if c.index[c.def.Objects[i].ID] != i {
			continue // a duplicate id: the first object answers for it
		}
		fields := append(append(c.static(i, p.ID, p.Latest.Version), componentRuntime(p, c.def.Objects[i].ID)...),
			pipeline.String("name", c.def.Objects[i].Name))
		if !matchAll(preds, fields) {
			continue
		}
		matched++
		if matched <= start {
			continue
		}
		if int64(len(out.IDs)) == limit {
			out.Marker, out.HasMoreResults = encodeMarker("q", start+limit), true
			break
		}
		out.IDs = append(out.IDs, c.def.Objects[i].ID)
	}
	return out, nil
}

// predicate is one compiled selector.
type predicate struct {
	field  string
	op     string
	value  string
	lo, hi time.Time
}

// compileSelectors checks selectors once, before any object is looked at,
// so a malformed query fails even on an empty pipeline.
func compileSelectors(sel []Selector) ([]predicate, error) {
	preds := make([]predicate, 0, len(sel))
	for _, s := range sel {
		if s.FieldName == "" || s.Operator == nil || s.Operator.Type == "" {
			return nil, invalidRequest("Every selector needs a fieldName and an operator with a type.")
		}
		p := predicate{field: s.FieldName, op: s.Operator.Type}
		vals := s.Operator.Values
		switch p.op {
		case "EQ", "REF_EQ", "LE", "GE":
			if len(vals) != 1 {
				return nil, invalidRequest("The request is missing a required value: Missing single value for field: %s in query", s.FieldName)
			}
			p.value = vals[0]
		case "BETWEEN":
			if len(vals) != 2 {
				return nil, invalidRequest("BETWEEN on field %s needs exactly two values, a start and an end.", s.FieldName)
			}
		}
		switch p.op {
		case "LE", "GE", "BETWEEN":
			var err error
			for i, v := range vals {
				t, perr := time.Parse("2006-01-02T15:04:05", v)
				if perr != nil {
					err = invalidRequest("Value '%s' for field %s is not a date-time of the form YYYY-MM-DDTHH:MM:SS.", v, s.FieldName)
					break
				}
				if i == 0 {
					p.lo = t
				} else {
					p.hi = t
				}
			}
			if err != nil {
				return nil, err
			}
			if p.op == "LE" {
				p.hi = p.lo
			}
		}
		preds = append(preds, p)
	}
	return preds, nil
}

// matchAll reports whether fields satisfy every predicate. A field the
// object does not have fails its condition, as AWS documents.
func matchAll(preds []predicate, fields []pipeline.Field) bool {
	for _, p := range preds {
		if !slices.ContainsFunc(fields, p.matches) {
			return false
		}
	}
	return true
}

func (p *predicate) matches(f pipeline.Field) bool {
	if f.Key != p.field {
		return false
	}
	switch p.op {
	case "EQ":
		return f.StringValue != nil && *f.StringValue == p.value
	case "REF_EQ":
		return f.RefValue != nil && *f.RefValue == p.value
	}
	if f.StringValue == nil {
		return false
	}
	t, err := time.Parse("2006-01-02T15:04:05", *f.StringValue)
	if err != nil {
		return false
	}
	switch p.op {
	case "LE":
		return !t.After(p.hi)
	case "GE":
		return !t.Before(p.lo)
	default: // BETWEEN, inclusive at both ends
		return !t.Before(p.lo) && !t.After(p.hi)
	}
}

// EvaluateExpression evaluates text in the context of an object of the
// latest definition, as DescribeObjects shows it: with the parameter values
// in force, inherited fields, and the component's system fields. Text with
// no #{…} expression evaluates to itself; an expression that yields a list
// gives its values joined by ",". Anything that cannot be evaluated, from a
// syntax error to a runtime field that components have no value for, is an
// InvalidRequestException naming the line and column
// (docs/assumptions/0009).
func (s *Service) EvaluateExpression(ctx context.Context, in *EvaluateExpressionInput) (*EvaluateExpressionOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.store.PipelineGet(ctx, who.AccountID, in.PipelineID)
	if err != nil {
		return nil, pipelineError(err, in.PipelineID)
	}
	var ev *pipeline.Evaluator
	if strings.HasPrefix(in.ObjectID, "@") {
		// Instances and attempts: runtime fields come from the run, the
		// rest from the definition they were made from.
		run, err := s.loadRun(ctx, who.AccountID, p.ID)
		if err != nil {
			return nil, err
		}
		if _, ok := run.object(p.ID, in.ObjectID); !ok || p.Active == nil {
			return nil, invalidRequest("Object '%s' does not exist in pipeline %s.", in.ObjectID, p.ID)
		}
		if !strings.Contains(in.Expression, "#{") {
			return &EvaluateExpressionOutput{EvaluatedExpression: in.Expression}, nil
		}
		c, err := compile(p.ID, p.Active)
		if err != nil {
			return nil, err
		}
		ev = run.evaluator(p.ID, p.Active.Version, c.def)
	} else {
		if !s.hasComponent(p, in.ObjectID) {
			return nil, invalidRequest("Object '%s' does not exist in pipeline %s.", in.ObjectID, p.ID)
		}
		if !strings.Contains(in.Expression, "#{") {
			return &EvaluateExpressionOutput{EvaluatedExpression: in.Expression}, nil
		}
		c, err := compile(p.ID, p.Latest) // hasComponent has compiled it
		if err != nil {
			return nil, err
		}
		ev = c.evaluator(p, p.Latest.Version)
	}
	vals, err := ev.Eval(in.ObjectID, in.Expression)
	if err != nil {
		// The message repeats no part of the expression and no secret
		// value: awsjson logs it.
		return nil, invalidRequest("The expression cannot be evaluated in the context of object '%s': %s", in.ObjectID, ev.Explain(err))
	}
	return &EvaluateExpressionOutput{EvaluatedExpression: strings.Join(vals, ",")}, nil
}

func (s *Service) hasComponent(p *store.Pipeline, id string) bool {
	if p.Latest == nil {
		return false
	}
	c, err := compile(p.ID, p.Latest)
	if err != nil {
		return false
	}
	_, ok := c.index[id]
	return ok
}

// SetStatus pauses or resumes components, or cancels, reruns or finishes
// instances. Statuses are matched case-insensitively: AWS's own example
// sends "pause".
func (s *Service) SetStatus(ctx context.Context, in *SetStatusInput) (*SetStatusOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	status := strings.ToUpper(in.Status)
	var forComponents bool
	switch status {
	case "PAUSE", "RESUME":
		forComponents = true
	case "TRY_CANCEL", "RERUN", "MARK_FINISHED":
	default:
		return nil, invalidRequest("status must be PAUSE or RESUME for components, or TRY_CANCEL, RERUN or MARK_FINISHED for instances; not '%s'.", in.Status)
	}
	for _, id := range in.ObjectIDs {
		if strings.HasPrefix(id, "@") == forComponents {
			return nil, invalidRequest("Status %s applies to %s; objectIds must not mix components with instances or attempts.", status, map[bool]string{true: "components", false: "instances"}[forComponents])
		}
	}
	if !forComponents {
		return nil, s.setInstanceStatus(ctx, who.AccountID, in, status)
	}
	_, err = s.store.PipelineUpdate(ctx, who.AccountID, in.PipelineID, func(p *store.Pipeline) error {
		if p.State == pipeline.StateFinished {
			return invalidRequest("Pipeline %s is FINISHED; SetStatus cannot be used on it.", p.ID)
		}
		var missing []string
		for _, id := range in.ObjectIDs {
			if !s.hasComponent(p, id) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return invalidRequest("Objects not found in pipeline %s: %s", p.ID, strings.Join(missing, ", "))
		}
		for _, id := range in.ObjectIDs {
			paused := slices.Contains(p.Paused, id)
			switch {
			case status == "PAUSE" && !paused:
				p.Paused = append(p.Paused, id)
			case status == "RESUME" && paused:
				p.Paused = slices.DeleteFunc(p.Paused, func(x string) bool { return x == id })
			}
		}
		return nil
	})
	if err != nil {
		return nil, pipelineError(err, in.PipelineID)
	}
	return nil, nil
}

// setInstanceStatus records TRY_CANCEL, RERUN or MARK_FINISHED on
// instances for the scheduler, which owns the run and applies it at once.
// An attempt id stands for its instance.
func (s *Service) setInstanceStatus(ctx context.Context, account string, in *SetStatusInput, status string) error {
	p, err := s.store.PipelineGet(ctx, account, in.PipelineID)
	if err != nil {
		return pipelineError(err, in.PipelineID)
	}
	if p.State == pipeline.StateFinished {
		return invalidRequest("Pipeline %s is FINISHED; SetStatus cannot be used on it.", p.ID)
	}
	run, err := s.store.RunLoad(ctx, account, in.PipelineID)
	if err != nil {
		return pipelineError(err, in.PipelineID)
	}
	instances := make(map[string]bool, len(run.Instances))
	for _, x := range run.Instances {
		instances[x.ID] = true
	}
	attempts := make(map[string]string, len(run.Attempts))
	for _, a := range run.Attempts {
		attempts[a.ID] = a.InstanceID
	}
	var ids, missing []string
	for _, id := range in.ObjectIDs {
		switch {
		case instances[id]:
			ids = append(ids, id)
		case attempts[id] != "":
			ids = append(ids, attempts[id])
		default:
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return invalidRequest("Objects not found in pipeline %s: %s", p.ID, strings.Join(missing, ", "))
	}
	err = s.store.RunCommandAdd(ctx, &store.RunCommand{
		Account: account, PipelineID: in.PipelineID, ObjectIDs: ids, Status: status, CreatedAt: s.now(),
	})
	if err != nil {
		return pipelineError(err, in.PipelineID)
	}
	return nil
}
