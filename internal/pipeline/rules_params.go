package pipeline

import (
	"strconv"
	"strings"
)

// paramAttributes are the attribute keys §2.4 documents.
var paramAttributes = []string{
	ParamAllowedValues, ParamDefault, ParamDescription, ParamHelpText, ParamIsArray, ParamOptional, ParamType, ParamWatermark,
}

var paramTypes = []string{ParamTypeString, ParamTypeInteger, ParamTypeDouble, ParamTypeS3ObjectKey}

// canonicalParamType returns the documented spelling of a parameter type,
// matched without regard to case as enumerations are (§3.1), or "".
func canonicalParamType(s string) string {
	for _, t := range paramTypes {
		if strings.EqualFold(s, t) {
			return t
		}
	}
	return ""
}

// checkParameters judges parameter declarations and the values supplied
// for them (§2.4, §7.3). Problems with a declaration or its values are
// reported under the parameter's id; a value for an id that no parameter
// declares is reported under that id.
func (v *ruleChecker) checkParameters() {
	declared := make(map[string]bool, len(v.def.ParameterObjects))
	for k := range v.def.ParameterObjects {
		p := &v.def.ParameterObjects[k]
		if declared[p.ID] {
			continue // DUPLICATE_PARAMETER already
		}
		declared[p.ID] = true
		v.checkParameter(p)
	}
	reported := map[string]bool{}
	for _, val := range v.def.ParameterValues {
		if !declared[val.ID] && !reported[val.ID] {
			reported[val.ID] = true
			v.c.err(val.ID, false, message(CodeInvalidParamValue,
				"A value is supplied for '%s', but no parameter has that id; declare it or remove the value.", val.ID))
		}
	}
}

// allowedList renders a parameter's allowed values for a message, or
// nothing for a secret parameter, whose allowed values are as secret as
// its value.
func allowedList(secret bool, allowed []string) string {
	if secret {
		return ""
	}
	return ": " + strings.Join(allowed, ", ")
}

func (v *ruleChecker) checkParameter(p *ParameterObject) {
	secret := p.IsSecret()
	perr := func(code, format string, args ...any) { v.c.err(p.ID, false, message(code, format, args...)) }
	if !strings.HasPrefix(strings.TrimPrefix(p.ID, "*"), "my") {
		perr(CodeInvalidParameter, "Parameter ids must start with 'my' (or '*my' for a masked value), as in 'myInputPath'.")
	}
	seen := map[string]int{}
	for _, a := range p.Attributes {
		seen[a.Key]++
		known := false
		for _, k := range paramAttributes {
			known = known || a.Key == k
		}
		if !known {
			perr(CodeInvalidParameter, "'%s' is not a parameter attribute; the attributes are %s.", a.Key, strings.Join(paramAttributes, ", "))
			continue
		}
		if seen[a.Key] == 2 && a.Key != ParamAllowedValues && !(a.Key == ParamDefault && p.IsArray()) {
			perr(CodeInvalidParameter, "'%s' may only be given once.", a.Key)
		}
	}
	for _, key := range []string{ParamOptional, ParamIsArray} {
		if s, ok := p.Attr(key); ok && !strings.EqualFold(s, "true") && !strings.EqualFold(s, "false") {
			perr(CodeInvalidParameter, "'%s' value '%s' must be 'true' or 'false'.", key, s)
		}
	}
	typ := ParamTypeString
	if s, ok := p.Attr(ParamType); ok {
		if typ = canonicalParamType(s); typ == "" {
			perr(CodeInvalidParameter, "'type' value '%s' is not one of: %s.", s, strings.Join(paramTypes, ", "))
		}
	}
	allowed := p.Attrs(ParamAllowedValues)
	for _, s := range allowed {
		if want := paramValueProblem(typ, s); want != "" {
			perr(CodeInvalidParameter, "'allowedValues' value %s must be %s.", shown(secret, s), want)
		}
	}
	defaults := p.Attrs(ParamDefault)
	for _, s := range defaults {
		if want := paramValueProblem(typ, s); want != "" {
			perr(CodeInvalidParameter, "'default' value %s must be %s.", shown(secret, s), want)
		} else if !allowedValue(allowed, s) {
			perr(CodeInvalidParameter, "'default' value %s is not one of the allowed values%s.", shown(secret, s), allowedList(secret, allowed))
		}
	}
	var values []string
	for _, val := range v.def.ParameterValues {
		if val.ID == p.ID {
			values = append(values, val.StringValue)
		}
	}
	if len(values) > 1 && !p.IsArray() {
		perr(CodeInvalidParamValue, "%d values are supplied, but the parameter takes one; declare it with 'isArray' 'true' to take several.", len(values))
	}
	for _, s := range values {
		if want := paramValueProblem(typ, s); want != "" {
			perr(CodeInvalidParamValue, "Value %s must be %s.", shown(secret, s), want)
		} else if !allowedValue(allowed, s) {
			perr(CodeInvalidParamValue, "Value %s is not one of the allowed values%s.", shown(secret, s), allowedList(secret, allowed))
		}
	}
	if len(values) == 0 && len(defaults) == 0 && !p.IsOptional() {
		perr(CodeMissingParamValue, "The parameter has no value and no default; supply a value, give it a default, or declare it 'optional' 'true'.")
	}
}

// paramValueProblem returns what a value of the given parameter type must
// be, or "" if s is one. Values holding an expression are not judged.
func paramValueProblem(typ, s string) string {
	if isExpr(s) {
		return ""
	}
	switch typ {
	case ParamTypeInteger:
		if _, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err != nil {
			return "an integer"
		}
	case ParamTypeDouble:
		if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil || strings.ContainsAny(s, "xXpPnNiI_") {
			return "a number"
		}
	case ParamTypeS3ObjectKey:
		if !strings.HasPrefix(s, "s3://") {
			return "an Amazon S3 location starting with 's3://'"
		}
	}
	return ""
}

// allowedValue reports whether s is among allowed; no allowed values means
// any value is.
func allowedValue(allowed []string, s string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, a := range allowed {
		if a == s {
			return true
		}
	}
	return false
}
