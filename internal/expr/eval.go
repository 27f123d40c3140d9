package expr

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxValues bounds the number of values one expression or template may
// produce, so that a hostile definition such as
// #{myList + myList + myList + …} cannot exhaust memory.
const MaxValues = 10000

// MaxBytes bounds the bytes of text one evaluation may build, counting
// every concatenation and the template's output, so that broadcasting a
// long string over lists (#{myList1 + myList2 + myLongField}) cannot
// exhaust memory either. It leaves room for the longest text the API
// accepts (EvaluateExpression takes 20 MiB) with its expressions filled in.
const MaxBytes = 64 << 20

var (
	errTooMany  = fmt.Errorf("more than %d values", MaxValues)
	errTooLarge = fmt.Errorf("more than %d bytes of text", MaxBytes)
)

// ErrUndefined is returned, wrapped, by an [Env] that has no value for a
// name or no object for an id.
var ErrUndefined = errors.New("undefined")

// Env resolves names for the evaluator in the context of one object
// (an instance, attempt or component). The evaluator follows dotted names
// itself: for input.directoryPath it calls Lookup("input"), then Object on
// each Ref it gets back, then Lookup("directoryPath") on those.
type Env interface {
	// Lookup returns the values of name in this object's context: an own
	// or inherited field ("table"), a runtime field ("@scheduledStartTime")
	// or a parameter ("myParam", "*myPassword"). A repeated field returns
	// several values; a reference field returns [Ref] values. Returns an
	// error wrapping [ErrUndefined] if the name has no value here; any
	// other error aborts evaluation and is returned wrapped.
	Lookup(name string) ([]Value, error)
	// Object returns the context of the object with the given id, as named
	// by a [Ref] that Lookup returned. Returns an error wrapping
	// [ErrUndefined] if there is no such object.
	Object(id string) (Env, error)
}

// Error is a syntax or evaluation error. It names the source and the
// position of the problem.
type Error struct {
	Src    string // the whole source: the template, or the expression body
	Offset int    // byte offset of the problem in Src
	Msg    string
	Err    error // underlying error, such as one from an Env
}

// Error formats the error as `expr: "src": line L col C: msg`, where the
// column counts bytes from 1.
func (e *Error) Error() string {
	line, col := e.Position()
	s := fmt.Sprintf("expr: %q: line %d col %d: %s", e.Src, line, col, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Position returns the line and column of Offset in Src, both counted
// from 1, the column in bytes. Callers that must not repeat a long or
// sensitive source in a message use it instead of Error.
func (e *Error) Position() (line, col int) {
	line, col = 1, e.Offset+1
	if i := strings.LastIndexByte(e.Src[:min(e.Offset, len(e.Src))], '\n'); i >= 0 {
		line += strings.Count(e.Src[:i], "\n") + 1
		col = e.Offset - i
	}
	return line, col
}

// Excerpt returns the expression the problem is in, for a message: the
// #{…} of a template that holds Offset, or the whole source of a bare
// expression, cut to at most limit bytes (at a rune boundary, with "…") so
// that a long field does not swamp the message.
func (e *Error) Excerpt(limit int) string {
	src, off := e.Src, min(e.Offset, len(e.Src))
	// An offset on the '#' or '{' of an expression is in that expression.
	if i := strings.LastIndex(src[:min(off+2, len(src))], "#{"); i >= 0 {
		end := len(src)
		if j := strings.IndexByte(src[max(off, i):], '}'); j >= 0 {
			end = max(off, i) + j + 1
		}
		src = src[i:end]
	}
	if len(src) <= limit {
		return src
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(src[cut]) {
		cut--
	}
	return src[:cut] + "…"
}

// Eval evaluates the expression in env. A name with several values, or an
// operation on one, yields a List.
func (e *Expr) Eval(env Env) (Value, error) {
	ev := evaluator{src: e.src, env: env, budget: MaxBytes}
	return ev.eval(e.root)
}

// Eval evaluates the template in env and returns the field values it
// stands for. Usually that is one string. An expression yielding a List
// makes one value per element, so a field whose whole value is
// #{myList} becomes a repeated field; with several lists, every
// combination is produced in order.
func (t *Template) Eval(env Env) ([]string, error) {
	ev := evaluator{src: t.src, env: env, budget: MaxBytes}
	out := []string{""}
	for _, p := range t.parts {
		if p.node == nil {
			if !ev.spend(len(out) * len(p.text)) {
				return nil, &Error{Src: t.src, Msg: errTooLarge.Error()}
			}
			for i := range out {
				out[i] += p.text
			}
			continue
		}
		v, err := ev.eval(p.node)
		if err != nil {
			return nil, err
		}
		if v.kind != KindList {
			s := v.String()
			if !ev.spend(len(out) * len(s)) {
				return nil, ev.errorf(p.node, nil, "%v", errTooLarge)
			}
			for i := range out {
				out[i] += s
			}
			continue
		}
		if len(out)*len(v.list) > MaxValues {
			return nil, ev.errorf(p.node, nil, "more than %d values", MaxValues)
		}
		next := make([]string, 0, len(out)*len(v.list))
		for _, prefix := range out {
			for _, e := range v.list {
				s := e.String()
				if !ev.spend(len(prefix) + len(s)) {
					return nil, ev.errorf(p.node, nil, "%v", errTooLarge)
				}
				next = append(next, prefix+s)
			}
		}
		out = next
	}
	return out, nil
}

type evaluator struct {
	src    string
	env    Env
	budget int // bytes of text this evaluation may still build
}

// spend takes n bytes from the budget and reports whether there were
// enough.
func (ev *evaluator) spend(n int) bool {
	if n < 0 || n > ev.budget {
		ev.budget = 0
		return false
	}
	ev.budget -= n
	return true
}

func (ev *evaluator) errorf(n Node, err error, format string, args ...any) error {
	return &Error{Src: ev.src, Offset: n.Pos(), Msg: fmt.Sprintf(format, args...), Err: err}
}

func (ev *evaluator) eval(n Node) (Value, error) {
	switch n := n.(type) {
	case *StringLit:
		return String(n.Value), nil
	case *IntLit:
		return Integer(n.Value), nil
	case *DoubleLit:
		return Double(n.Value), nil
	case *Name:
		return ev.name(n)
	case *Unary:
		x, err := ev.eval(n.X)
		if err != nil {
			return Value{}, err
		}
		return broadcast1(x, func(x Value) (Value, error) {
			switch x.kind {
			case KindInteger:
				return Integer(-x.i), nil
			case KindDouble:
				return Double(-x.f), nil
			}
			return Value{}, ev.errorf(n, nil, "cannot negate %s", x.kind)
		})
	case *Binary:
		x, err := ev.eval(n.X)
		if err != nil {
			return Value{}, err
		}
		y, err := ev.eval(n.Y)
		if err != nil {
			return Value{}, err
		}
		args := [2]Value{x, y}
		v, err := broadcast(args[:], func(a []Value) (Value, error) { return ev.binary(n, a[0], a[1]) })
		return v, ev.at(n, err)
	case *Call:
		var buf [5]Value
		args := buf[:0]
		for _, a := range n.Args {
			v, err := ev.eval(a)
			if err != nil {
				return Value{}, err
			}
			args = append(args, v)
		}
		v, err := broadcast(args, func(a []Value) (Value, error) { return ev.call(n, a) })
		return v, ev.at(n, err)
	}
	return Value{}, fmt.Errorf("expr: unknown node %T", n)
}

// at gives errTooMany the position of n; other errors already have one.
func (ev *evaluator) at(n Node, err error) error {
	if err == errTooMany {
		return ev.errorf(n, nil, "%v", err)
	}
	return err
}

func (ev *evaluator) name(n *Name) (Value, error) {
	vals, err := ev.env.Lookup(n.Parts[0])
	if err != nil {
		return Value{}, ev.errorf(n, err, "%s", n.Parts[0])
	}
	for i, part := range n.Parts[1:] {
		// "AWS Data Pipeline supports transitive references for
		// user-defined fields, but not runtime fields" (§6.1).
		if part[0] == '@' && i > 0 {
			return Value{}, ev.errorf(n, nil, "%s: runtime field %s cannot be reached through more than one reference", n, part)
		}
		var next []Value
		for _, v := range vals {
			if v.kind != KindRef {
				return Value{}, ev.errorf(n, nil, "%s: %s is not a reference", n, strings.Join(n.Parts[:i+1], "."))
			}
			obj, err := ev.env.Object(v.s)
			if err != nil {
				return Value{}, ev.errorf(n, err, "%s: object %s", n, v.s)
			}
			vs, err := obj.Lookup(part)
			if err != nil {
				return Value{}, ev.errorf(n, err, "%s: %s", n, part)
			}
			next = append(next, vs...)
		}
		vals = next
	}
	if len(vals) == 1 {
		return vals[0], nil
	}
	return List(vals...), nil
}

// broadcast calls f on args, or, if some arguments are Lists, once per
// combination of their elements, collecting the results in a List. This is
// how #{'this is ' + myList} yields one string per element.
func broadcast(args []Value, f func([]Value) (Value, error)) (Value, error) {
	lists, combos := 0, 1
	for _, a := range args {
		if a.kind == KindList {
			lists++
			combos *= len(a.list)
			if combos > MaxValues {
				return Value{}, errTooMany
			}
		}
	}
	if lists == 0 {
		return f(args)
	}
	var out []Value
	cur := make([]Value, len(args))
	var rec func(i int) error
	rec = func(i int) error {
		if i == len(args) {
			v, err := f(cur)
			out = append(out, v)
			return err
		}
		for _, e := range args[i].Elems() {
			cur[i] = e
			if err := rec(i + 1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := rec(0); err != nil {
		return Value{}, err
	}
	return List(out...), nil
}

func broadcast1(x Value, f func(Value) (Value, error)) (Value, error) {
	return broadcast([]Value{x}, func(a []Value) (Value, error) { return f(a[0]) })
}

// binary applies an operator to two scalar values. int op int is an int
// (Java semantics: wrapping, division truncating toward zero); a double on
// either side makes a double; ^ is always a double; + with a String on
// either side concatenates the rendered values.
func (ev *evaluator) binary(n *Binary, x, y Value) (Value, error) {
	if n.Op == '+' && (x.kind == KindString || y.kind == KindString) {
		xs, ys := x.String(), y.String()
		if !ev.spend(len(xs) + len(ys)) {
			return Value{}, ev.errorf(n, nil, "%v", errTooLarge)
		}
		return String(xs + ys), nil
	}
	if !isNumber(x) || !isNumber(y) {
		return Value{}, ev.errorf(n, nil, "operator %c not defined on %s and %s", n.Op, x.kind, y.kind)
	}
	if n.Op == '^' {
		return Double(math.Pow(toFloat(x), toFloat(y))), nil
	}
	if x.kind == KindInteger && y.kind == KindInteger {
		a, b := x.i, y.i
		switch n.Op {
		case '+':
			return Integer(a + b), nil
		case '-':
			return Integer(a - b), nil
		case '*':
			return Integer(a * b), nil
		}
		if b == 0 {
			return Value{}, ev.errorf(n, nil, "division by zero")
		}
		return Integer(a / b), nil
	}
	a, b := toFloat(x), toFloat(y)
	switch n.Op {
	case '+':
		return Double(a + b), nil
	case '-':
		return Double(a - b), nil
	case '*':
		return Double(a * b), nil
	}
	return Double(a / b), nil
}

func isNumber(v Value) bool { return v.kind == KindInteger || v.kind == KindDouble }

func toFloat(v Value) float64 {
	if v.kind == KindInteger {
		return float64(v.i)
	}
	return v.f
}

// call checks and converts the arguments of a builtin, then runs it.
// Strings are accepted where a DateTime, Integer or Period is expected if
// they parse as one, because plain fields (startDateTime, parameters
// without a type) reach the evaluator as Strings.
func (ev *evaluator) call(n *Call, args []Value) (Value, error) {
	fn := n.fn
	if fn == nil { // a tree built by hand rather than by the parser
		if fn = lookupBuiltin(n.Func); fn == nil || len(fn.params) != len(args) {
			return Value{}, ev.errorf(n, nil, "unknown function %s/%d", n.Func, len(args))
		}
	}
	for i, want := range fn.params {
		a, err := convert(args[i], want)
		if err != nil {
			return Value{}, ev.errorf(n.Args[i], err, "argument %d of %s", i+1, n.Func)
		}
		args[i] = a
	}
	v, err := fn.run(n, args)
	if err != nil {
		return Value{}, ev.errorf(n, err, "%s", n.Func)
	}
	return v, nil
}

func convert(v Value, want Kind) (Value, error) {
	if v.kind == want {
		return v, nil
	}
	if v.kind == KindString {
		switch want {
		case KindDateTime:
			if t, err := ParseDateTime(v.s); err == nil {
				return DateTime(t), nil
			}
		case KindInteger:
			if i, err := strconv.ParseInt(v.s, 10, 64); err == nil {
				return Integer(i), nil
			}
		case KindPeriod:
			p, err := ParsePeriod(v.s)
			if err != nil {
				return Value{}, err
			}
			return PeriodValue(p), nil
		}
	}
	if want == KindString {
		return String(v.String()), nil
	}
	return Value{}, fmt.Errorf("want %s, got %s %q", want, v.kind, v.String())
}
