package pipeline

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/culvert/culvert/internal/expr"
)

// RuntimeFunc supplies what the service knows about objects at run time
// and the definition does not say. For the object with the given id it
// returns the object's runtime fields and whether it knows the object.
//
// For a component (an object of the definition) the fields are added to
// its definition fields: its system fields (@sphere, @version,
// @pipelineId, @status) and, once the scheduler keeps them, bookkeeping
// such as @nextRunTime. For an instance or attempt, an object the
// definition does not have, they are all of its own fields
// (@scheduledStartTime, @status, instance-level input/output refs, …)
// together with a parent reference to the object it was made from, a
// component or an instance, through which it inherits everything else.
//
// The function must be safe to call several times for one id and must not
// call back into the [Evaluator].
type RuntimeFunc func(id string) (fields []Field, ok bool)

// Bounds that keep a hostile definition from exhausting the stack or
// memory: fields whose values are expressions that refer to other such
// fields nest at most maxFieldDepth deep, and the values fields hand to
// expressions total at most maxLookupBytes per Evaluator. expr bounds
// what one evaluation builds (expr.MaxValues, expr.MaxBytes).
const (
	maxFieldDepth  = 32
	maxLookupBytes = 32 << 20
)

// Evaluator evaluates #{…} expressions (§6) in the context of the objects
// of one definition. Names resolve, in order, to:
//
//   - @id, the object's id, and name, its name;
//   - declared parameters and supplied parameter values (myX, *myX), typed
//     by the parameter's type: Integer and Double parameters are numbers,
//     every other type a String; an isArray parameter has several values.
//     Parameters come before fields because AWS substitutes them into the
//     whole definition, so a field called like a parameter cannot hide it;
//   - the object's runtime fields (see [RuntimeFunc]), then its effective
//     fields, own and inherited (see [Resolver]). A reference field gives
//     [expr.Ref] values, which dotted names (input.directoryPath) follow. A
//     string field that itself holds expressions is evaluated, in the
//     context of the object it is looked up on, so that a value inherited
//     from Default means what it says for each object that inherits it.
//     The values of type and @sphere are used verbatim (§6.1);
//   - parent, for a component that names none: Default, as DescribeObjects
//     shows it.
//
// A leading '*' is ignored when matching a parameter or a field, so
// #{password} finds *password and #{*myPassword} finds *myPassword.
//
// An Evaluator remembers what it has evaluated; it is meant to live for
// one request or one scheduling pass over a definition that does not
// change meanwhile. It is not safe for concurrent use.
type Evaluator struct {
	def     *Definition
	res     *Resolver
	runtime RuntimeFunc
	params  map[string]paramValues
	views   map[string]*view
	memo    map[fieldRef][]expr.Value
	stack   []fieldRef // fields being evaluated, outermost first
	budget  int        // bytes fields may still hand to expressions
	secrets []string   // values to keep out of messages, see Redact
}

type paramValues struct {
	vals []expr.Value
	err  error
}

type fieldRef struct{ obj, key string }

// view is what names resolve against in one object's context.
type view struct {
	id, name  string
	fields    []Field // runtime fields, then effective fields of other keys
	component bool    // an object of the definition, not an instance or attempt
	err       error
}

// NewEvaluator returns an Evaluator over def, whose ParameterValues must
// already be the values in force (see [Definition.WithParameterValues]).
// runtime may be nil: objects then have only their definition fields.
func NewEvaluator(def *Definition, runtime RuntimeFunc) *Evaluator {
	if runtime == nil {
		runtime = func(string) ([]Field, bool) { return nil, false }
	}
	e := &Evaluator{
		def:     def,
		res:     NewResolver(def),
		runtime: runtime,
		params:  make(map[string]paramValues, len(def.ParameterObjects)+len(def.ParameterValues)),
		views:   make(map[string]*view),
		memo:    make(map[fieldRef][]expr.Value),
		budget:  maxLookupBytes,
	}
	for i := range def.ParameterObjects {
		p := &def.ParameterObjects[i]
		if _, dup := e.params[p.ID]; !dup {
			e.params[p.ID] = e.typedParam(p.ID, p.Type(), p.IsSecret(), def.ParameterValuesOf(p.ID))
		}
	}
	// Values supplied for a parameter nobody declared are Strings; Validate
	// reports them, evaluation need not fail because of them.
	for _, v := range def.ParameterValues {
		if _, ok := e.params[v.ID]; !ok {
			e.params[v.ID] = e.typedParam(v.ID, ParamTypeString, strings.HasPrefix(v.ID, "*"), def.ParameterValuesOf(v.ID))
		}
	}
	return e
}

func (e *Evaluator) typedParam(id, typ string, secret bool, raw []string) paramValues {
	if secret {
		e.secrets = append(e.secrets, raw...)
	}
	if raw == nil {
		return paramValues{err: undefined("parameter '%s' has neither a value nor a default", id)}
	}
	vals := make([]expr.Value, 0, len(raw))
	for _, s := range raw {
		// Validate accepts the type in any case.
		switch {
		case strings.EqualFold(typ, ParamTypeInteger):
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return paramValues{err: badParam(id, typ, s, secret)}
			}
			vals = append(vals, expr.Integer(n))
		case strings.EqualFold(typ, ParamTypeDouble):
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return paramValues{err: badParam(id, typ, s, secret)}
			}
			vals = append(vals, expr.Double(f))
		default:
			vals = append(vals, expr.String(s))
		}
	}
	return paramValues{vals: vals}
}

func badParam(id, typ, value string, secret bool) error {
	if secret {
		return fmt.Errorf("parameter '%s' is of type %s but its value is not", id, typ)
	}
	return fmt.Errorf("parameter '%s' is of type %s but its value %q is not", id, typ, value)
}

// Env returns the context of the object with the given id, for
// [expr.Expr.Eval] and [expr.Template.Eval]. Returns an error wrapping
// [ErrNoObject] and [expr.ErrUndefined] if neither the definition nor the
// runtime knows the object, or a [*CycleError] if its parent chain loops.
func (e *Evaluator) Env(id string) (expr.Env, error) {
	v, err := e.view(id)
	if err != nil {
		return nil, err
	}
	return &objectEnv{e: e, v: v}, nil
}

// Eval evaluates text, verbatim text with any number of #{…} expressions
// such as a field value, in the context of the object with the given id.
// It returns the values text stands for: one, or several when an
// expression yields a list. Text without expressions is returned as it is.
// Returns the errors of [Evaluator.Env], or an [*expr.Error] for a syntax
// or evaluation error; [Evaluator.Explain] renders either for a person.
func (e *Evaluator) Eval(id, text string) ([]string, error) {
	if !strings.Contains(text, "#{") {
		return []string{text}, nil
	}
	t, err := expr.ParseTemplate(text)
	if err != nil {
		return nil, err
	}
	env, err := e.Env(id)
	if err != nil {
		return nil, err
	}
	return t.Eval(env)
}

// Explain renders an error from [Evaluator.Eval] for the person who wrote
// the expression: the expression and the line and column of each problem,
// through every field evaluated on the way, with long expressions cut
// short and every secret value replaced (see [Evaluator.Redact]).
func (e *Evaluator) Explain(err error) string {
	return e.Redact(explain(err))
}

// excerptBytes bounds how much of an expression a message quotes.
const excerptBytes = 80

func explain(err error) string {
	switch x := err.(type) {
	case *expr.Error:
		line, col := x.Position()
		s := fmt.Sprintf("%s, line %d col %d: %s", x.Excerpt(excerptBytes), line, col, x.Msg)
		if x.Err != nil {
			s += ": " + explain(x.Err)
		}
		return s
	case *fieldError:
		return x.Error()
	}
	return err.Error()
}

// Redact returns s with every value of a secret parameter (*myX) or a
// secret field (*password, or a field the catalog marks secret) that this
// Evaluator has seen replaced by "****". Messages that may reach a log
// pass through it: those values are never to be written down.
func (e *Evaluator) Redact(s string) string {
	if len(e.secrets) == 0 {
		return s
	}
	// Longest first, so a secret that contains another is replaced whole.
	secrets := slices.Clone(e.secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "****")
		}
	}
	return s
}

// fieldError is a failure to evaluate a field that an expression used.
type fieldError struct {
	ref fieldRef
	err error
}

func (f *fieldError) Error() string {
	return fmt.Sprintf("in field '%s' of '%s', %s", f.ref.key, f.ref.obj, explain(f.err))
}

func (f *fieldError) Unwrap() error { return f.err }

// view returns the context of object id, building it on first use.
func (e *Evaluator) view(id string) (*view, error) {
	if v, ok := e.views[id]; ok {
		return v, v.err
	}
	// Marked before building, so that a runtime parent chain leading back
	// here ends in an error instead of recursing forever.
	e.views[id] = &view{err: &CycleError{Cycle: []string{id, "…", id}}}
	v := e.build(id)
	e.views[id] = v
	return v, v.err
}

func (e *Evaluator) build(id string) *view {
	rt, known := e.runtime(id)
	v := &view{id: id, name: id, fields: slices.Clip(rt)}
	if _, ok := e.res.index[id]; ok {
		obj, err := e.res.Effective(id)
		if err != nil {
			v.err = err
			return v
		}
		v.name, v.component = obj.Name, true
		// The effective view holds no inherited parent, only the object's own.
		v.fields = appendHidden(v.fields, len(v.fields), obj.Fields, true)
		return v
	}
	if !known {
		v.err = noObjectError(id)
		return v
	}
	// An instance or attempt inherits from the objects it names as parent.
	own := len(v.fields)
	for _, f := range rt {
		if f.Key != "parent" || f.RefValue == nil {
			continue
		}
		p, err := e.view(*f.RefValue)
		if err != nil {
			v.err = err
			return v
		}
		v.fields = appendHidden(v.fields, own, p.fields, false)
	}
	return v
}

// appendHidden appends the fields of from whose keys dst[:known] lacks.
// Unless own, it leaves out parent, which links a chain and is never
// inherited.
func appendHidden(dst []Field, known int, from []Field, own bool) []Field {
	for _, f := range from {
		if (own || f.Key != "parent") && !hasKey(dst[:known], f.Key) {
			dst = append(dst, f)
		}
	}
	return dst
}

// noObjectError names an id that is neither in the definition nor known
// to the runtime.
type noObjectError string

func (id noObjectError) Error() string {
	return fmt.Sprintf("no object '%s' in the pipeline", string(id))
}

func (noObjectError) Is(target error) bool {
	return target == ErrNoObject || target == expr.ErrUndefined
}

// undefinedError is a name without a value. It matches [expr.ErrUndefined]
// without the word appearing in the message, which says more already.
type undefinedError struct{ msg string }

func undefined(format string, args ...any) error {
	return &undefinedError{msg: fmt.Sprintf(format, args...)}
}

func (e *undefinedError) Error() string { return e.msg }

func (e *undefinedError) Is(target error) bool { return target == expr.ErrUndefined }

// objectEnv is the [expr.Env] of one object.
type objectEnv struct {
	e *Evaluator
	v *view
}

// Lookup implements [expr.Env]; see [Evaluator] for what names resolve to.
// Returns an error wrapping [expr.ErrUndefined] for a name with no value
// here, or the error of evaluating the field the name refers to.
func (env *objectEnv) Lookup(name string) ([]expr.Value, error) {
	e, v := env.e, env.v
	switch name {
	case "@id":
		return []expr.Value{expr.String(v.id)}, nil
	case "name":
		return []expr.Value{expr.String(v.name)}, nil
	}
	if p, ok := e.param(name); ok {
		return p.vals, p.err
	}
	if key, fs := v.get(name); fs != nil {
		return e.fieldValues(v, key, fs)
	}
	if name == "parent" && v.component && v.id != DefaultID && e.res.dflt >= 0 {
		return []expr.Value{expr.Ref(DefaultID)}, nil
	}
	if v.component && isRuntimeName(name) {
		if componentRuntime[name] {
			return nil, undefined("'%s' is a runtime field with no value on component '%s'", name, v.id)
		}
		return nil, undefined("'%s' is a runtime field of instances; component '%s' has no value for it. "+
			"Evaluate the expression against an instance of %s, whose id looks like @%s_YYYY-MM-DDTHH:MM:SS",
			name, v.id, v.id, v.id)
	}
	return nil, undefined("'%s' is neither a field of '%s' (own or inherited) nor a parameter", name, v.id)
}

// Object implements [expr.Env]. Returns the errors of [Evaluator.Env].
func (env *objectEnv) Object(id string) (expr.Env, error) {
	return env.e.Env(id)
}

func (e *Evaluator) param(name string) (paramValues, bool) {
	if p, ok := e.params[name]; ok {
		return p, true
	}
	alt := "*" + name
	if rest, ok := strings.CutPrefix(name, "*"); ok {
		alt = rest
	}
	p, ok := e.params[alt]
	return p, ok
}

// get returns the key and the fields of the first key matching name,
// ignoring a leading '*' on either; nil if there is none.
func (v *view) get(name string) (string, []Field) {
	bare := strings.TrimPrefix(name, "*")
	key, found := "", false
	var out []Field
	for _, f := range v.fields {
		if !found {
			if f.Key != name && strings.TrimPrefix(f.Key, "*") != bare {
				continue
			}
			key, found = f.Key, true
		}
		if f.Key == key {
			out = append(out, f)
		}
	}
	return key, out
}

// fieldValues returns the values of fields fs, all with the given key, in
// the context of v, evaluating string values that hold expressions.
func (e *Evaluator) fieldValues(v *view, key string, fs []Field) ([]expr.Value, error) {
	ref := fieldRef{v.id, key}
	vals, done := e.memo[ref]
	if !done {
		if i := slices.Index(e.stack, ref); i >= 0 {
			return nil, e.cycle(i, ref)
		}
		if len(e.stack) == maxFieldDepth {
			return nil, fmt.Errorf("expressions in fields refer to fields with expressions more than %d deep", maxFieldDepth)
		}
		e.stack = append(e.stack, ref)
		var err error
		vals, err = e.evalFields(v, key, fs)
		e.stack = e.stack[:len(e.stack)-1]
		if err != nil {
			return nil, &fieldError{ref: ref, err: err}
		}
		e.memo[ref] = vals
	}
	n := 0
	for _, x := range vals {
		n += len(x.String())
	}
	if n > e.budget {
		e.budget = 0
		return nil, fmt.Errorf("fields used by the expression hold more than %d bytes", maxLookupBytes)
	}
	e.budget -= n
	return vals, nil
}

func (e *Evaluator) evalFields(v *view, key string, fs []Field) ([]expr.Value, error) {
	spec, _ := e.fieldSpec(v, key)
	secret := strings.HasPrefix(key, "*") || spec.Secret
	vals := make([]expr.Value, 0, len(fs))
	for _, f := range fs {
		if f.RefValue != nil {
			vals = append(vals, expr.Ref(*f.RefValue))
			continue
		}
		s := f.Value()
		if secret {
			e.secrets = append(e.secrets, s)
		}
		if key == "type" || key == "@sphere" || !strings.Contains(s, "#{") {
			vals = append(vals, typed(spec, s))
			continue
		}
		t, err := expr.ParseTemplate(s)
		if err != nil {
			return nil, err
		}
		out, err := t.Eval(&objectEnv{e: e, v: v})
		if err != nil {
			return nil, err
		}
		for _, s := range out {
			if secret {
				e.secrets = append(e.secrets, s)
			}
			vals = append(vals, typed(spec, s))
		}
	}
	return vals, nil
}

// fieldSpec returns the catalog's spec of key on v's type.
func (e *Evaluator) fieldSpec(v *view, key string) (FieldSpec, bool) {
	_, fs := v.get("type")
	if len(fs) == 0 || fs[0].StringValue == nil {
		return FieldSpec{}, false
	}
	t, ok := LookupType(*fs[0].StringValue)
	if !ok {
		return FieldSpec{}, false
	}
	if spec, ok := t.Field(key); ok {
		return *spec, true
	}
	return FieldSpec{}, false
}

// secretField reports whether the catalog marks key secret on v's type.
func (e *Evaluator) secretField(v *view, key string) bool {
	spec, _ := e.fieldSpec(v, key)
	return spec.Secret
}

// typed returns a field's value as the catalog types it: an Integer or
// Double field is a number in expressions (#{maximumRetries + 1} is 4, not
// "31"); a value that does not parse as its type, which validation
// reports, stays a String.
func typed(spec FieldSpec, s string) expr.Value {
	switch spec.Type {
	case TypeInteger:
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return expr.Integer(n)
		}
	case TypeDouble:
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return expr.Double(f)
		}
	}
	return expr.String(s)
}

func (e *Evaluator) cycle(from int, ref fieldRef) error {
	path := make([]string, 0, len(e.stack)-from+1)
	for _, r := range e.stack[from:] {
		path = append(path, r.obj+"."+r.key)
	}
	path = append(path, ref.obj+"."+ref.key)
	return errors.New("the field refers to itself: " + strings.Join(path, " -> "))
}

// componentRuntime holds the runtime fields that components themselves
// carry (§3.1, §3.2): the system fields, and scheduling bookkeeping and
// health once the scheduler keeps them. Every other runtime field belongs
// to instances and attempts.
var componentRuntime = map[string]bool{
	"@error": true, "@pipelineId": true, "@sphere": true, "@status": true, "@version": true,
	"@activeInstances": true, "@healthStatus": true, "@healthStatusFromInstanceId": true,
	"@healthStatusUpdatedTime": true, "@lastDeactivatedTime": true, "@latestCompletedRunTime": true,
	"@latestRunTime": true, "@nextRunTime": true,
}

// runtimeNames is every field name the catalog marks runtime, on any type.
var runtimeNames = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, t := range catalog {
		for _, f := range t.Fields {
			if f.Runtime {
				m[f.Name] = true
			}
		}
	}
	return m
})

func isRuntimeName(name string) bool { return runtimeNames()[name] }
