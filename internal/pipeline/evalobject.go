package pipeline

import (
	"fmt"
	"slices"
	"strings"
)

// FieldEvalError reports a field whose value failed to evaluate in the
// context of an object.
type FieldEvalError struct {
	Object string // the object being evaluated
	Field  string // the key of the field
	// Message explains the failure for the person who wrote the
	// expression, from [Evaluator.Explain]: line and column, the fields
	// evaluated on the way, secret values replaced.
	Message string
	// Err is the underlying error, for errors.Is. Its own text is not
	// redacted: log Error(), never Err.Error().
	Err error
}

func (e *FieldEvalError) Error() string {
	return fmt.Sprintf("object '%s', field '%s': %s", e.Object, e.Field, e.Message)
}

func (e *FieldEvalError) Unwrap() error { return e.Err }

// Fields returns the fields the object with the given id has in its own
// context, unevaluated: its runtime fields, then its effective fields of
// other keys (see [Evaluator]). For an instance or attempt this is the
// flattened object: its own fields and everything it inherits from the
// component. The result is a copy. Returns the errors of [Evaluator.Env].
func (e *Evaluator) Fields(id string) ([]Field, error) {
	v, err := e.view(id)
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.fields), nil
}

// Flatten returns the object with the given id as it is in its own
// context: [Evaluator.Fields] with every string value holding #{…}
// replaced by what it evaluates to there, a list giving the key once per
// value. type and @sphere are kept verbatim (§6.1), as are references.
// Shell and Hive variables (${INPUT1_STAGING_DIR}) are not expressions and
// are kept as they are.
//
// A field that fails to evaluate is kept as written if keepOnError, when
// not nil, says so for its key; the first other one makes Flatten return
// a [*FieldEvalError]. Returns the errors of [Evaluator.Env] too.
func (e *Evaluator) Flatten(id string, keepOnError func(key string) bool) (*Object, error) {
	v, err := e.view(id)
	if err != nil {
		return nil, err
	}
	out := &Object{ID: v.id, Name: v.name, Fields: make([]Field, 0, len(v.fields))}
	for _, f := range v.fields {
		if f.StringValue == nil || f.Key == "type" || f.Key == KeySphere || !strings.Contains(*f.StringValue, "#{") {
			out.Fields = append(out.Fields, f)
			continue
		}
		vals, err := e.Eval(v.id, *f.StringValue)
		if err != nil && keepOnError != nil && keepOnError(f.Key) {
			out.Fields = append(out.Fields, f)
			continue
		}
		if err != nil {
			return nil, &FieldEvalError{Object: v.id, Field: f.Key, Message: e.Explain(err), Err: err}
		}
		if strings.HasPrefix(f.Key, "*") || e.secretField(v, f.Key) {
			// Evaluated secrets may reach messages of later fields that use
			// them; Redact must know them.
			e.secrets = append(e.secrets, vals...)
		}
		for _, s := range vals {
			out.Fields = append(out.Fields, String(f.Key, s))
		}
	}
	return out, nil
}
