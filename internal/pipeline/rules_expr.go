package pipeline

import (
	"errors"
	"strings"

	"github.com/culvert/culvert/internal/expr"
)

// checkExpressions parses every expression in every string value an object
// sets, and checks that the names in it which look like parameters resolve.
//
// Parsing reports syntax errors and unknown functions or wrong argument
// counts, since the parser knows the function library (§6.2). Values are
// judged where they are written. The type field is never evaluated (§6.1)
// and startDateTime must be a literal, which CheckTypes reports.
//
// A name whose first part starts with "my" or "*my" is a parameter or a
// user-defined field (§2.1, §2.4). It resolves if a parameter of that id is
// declared or the object's effective view has a field of that name; for
// Default and objects used as parents, whose values are evaluated in the
// context of the objects inheriting them, a field of that name on any object
// will do. Anything else is UNDEFINED_PARAMETER, reported once per object
// and name.
func (v *ruleChecker) checkExpressions() {
	declared := make(map[string]bool, len(v.def.ParameterObjects))
	for _, p := range v.def.ParameterObjects {
		declared[p.ID] = true
	}
	var anyKey map[string]bool // every field key in the definition, built on first need
	for i := range v.def.Objects {
		if !v.live[i] {
			continue
		}
		o := &v.def.Objects[i]
		var reported map[string]bool
		for _, f := range o.Fields {
			if f.StringValue == nil || !isExpr(*f.StringValue) ||
				f.Key == "type" || f.Key == "startDateTime" || strings.HasPrefix(f.Key, "@") {
				continue
			}
			tpl, err := expr.ParseTemplate(*f.StringValue)
			if err != nil {
				var ee *expr.Error
				switch {
				case errors.As(err, &ee) && v.secret(i, f.Key):
					// The text may be the secret itself.
					v.err(i, CodeInvalidExpression, "'%s' has an invalid expression at character %d: %s.", f.Key, ee.Offset+1, ee.Msg)
				case errors.As(err, &ee):
					v.err(i, CodeInvalidExpression, "'%s' has an invalid expression %s at character %d: %s.", f.Key, ee.Excerpt(excerptBytes), ee.Offset+1, ee.Msg)
				default:
					v.err(i, CodeInvalidExpression, "'%s' has an invalid expression: %v.", f.Key, err)
				}
				continue
			}
			for _, n := range tpl.Nodes() {
				expr.Inspect(n, func(n expr.Node) bool {
					name, ok := n.(*expr.Name)
					if !ok || len(name.Parts) == 0 {
						return true
					}
					first := name.Parts[0]
					if first == "node" && !reported[first] && nodeless(v.kind(i)) {
						if reported == nil {
							reported = map[string]bool{}
						}
						reported[first] = true
						v.err(i, CodeInvalidExpression, "'%s' uses #{%s}, but node is only available in actions and preconditions.",
							f.Key, strings.Join(name.Parts, "."))
						return true
					}
					if !strings.HasPrefix(strings.TrimPrefix(first, "*"), "my") || declared[first] || reported[first] {
						return true
					}
					if _, ok := v.effective(i).Get(first); ok {
						return true
					}
					if o.ID == DefaultID || v.isParent[i] {
						if anyKey == nil {
							anyKey = v.allKeys()
						}
						if anyKey[first] {
							return true
						}
					}
					if reported == nil {
						reported = map[string]bool{}
					}
					reported[first] = true
					v.err(i, CodeUndefinedParameter, "'%s' uses #{%s}, but no parameter '%s' is declared and the object has no field '%s'.",
						f.Key, first, first, first)
					return true
				})
			}
		}
	}
}

// nodeless reports whether objects of kind k have no node: it is the
// object an action or a precondition is for (§6.1). Default and objects of
// unknown type may pass their fields on to actions, so they are not judged.
func nodeless(k Kind) bool {
	return k != KindAction && k != KindPrecondition && k != KindDefault && k != KindOther
}

func (v *ruleChecker) allKeys() map[string]bool {
	m := map[string]bool{}
	for i := range v.def.Objects {
		for _, f := range v.def.Objects[i].Fields {
			m[f.Key] = true
		}
	}
	return m
}
