package pipeline

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Codes of the problems CheckTypes finds, in the style of validate.go's.
const (
	CodeUnknownType          = "UNKNOWN_TYPE"
	CodeMissingField         = "MISSING_FIELD"
	CodeFieldNotAllowed      = "FIELD_NOT_ALLOWED"
	CodeConflictingFields    = "CONFLICTING_FIELDS"
	CodeFieldNotRepeatable   = "FIELD_NOT_REPEATABLE"
	CodeInvalidReferenceKind = "INVALID_REFERENCE_KIND"
	CodeInvalidEnumValue     = "INVALID_ENUM_VALUE"
)

// Problem is one problem a check found on an object. Message is rendered in
// full, "CODE:  text", ready for a ValidationError's Errors or a
// ValidationWarning's Warnings.
type Problem struct {
	ObjectID string
	Code     string
	Message  string
}

// CheckTypes judges every object against the catalog, on its effective view
// (see Resolver). Problems come out in definition order of the object they
// are reported on.
//
// What is checked where:
//
//   - Required fields, required groups and conflicting fields are judged on
//     the effective view and reported on the object that lacks or holds them.
//   - Unknown fields, fields not allowed on the type, runtime fields set by a
//     user, and non-repeatable fields given twice are only judged on the
//     fields an object sets itself. Inherited fields that do not apply to an
//     object's type are ignored: Default and pure parents carry fields for
//     many types at once (role and workerGroup reach every Schedule).
//   - Values (reference targets, enumerations, and the syntax of numbers,
//     booleans, periods and datetimes) are judged on the effective view
//     against the inheriting object's type, but reported once on the object
//     that wrote the value, so a bad value on Default is one problem, not one
//     per object.
//   - Values containing "#{" are expressions and evaluated later, so their
//     syntax is not checked here, except startDateTime, which must be a
//     literal datetime.
//   - Objects without a type are fine if they are Default or the parent of
//     some object (pure parents); any other object needs a type.
//   - Problems Validate already reports (empty values, dangling references,
//     fields starting with '@', parent cycles, duplicate ids) are skipped:
//     objects on a parent cycle and repeated ids are not checked, references
//     to missing objects and empty values are not judged.
func CheckTypes(def *Definition) []Problem {
	return checkTypes(def, NewResolver(def))
}

// checkTypes is CheckTypes with a resolver the caller shares with other
// checks, so that Validate resolves every object only once.
func checkTypes(def *Definition, r *Resolver) []Problem {
	c := typeChecker{r: r, def: def}
	c.perObject = make([][]Problem, len(def.Objects))
	c.isParent = make([]bool, len(def.Objects))
	for i := range def.Objects {
		for _, f := range def.Objects[i].Fields {
			if f.Key == "parent" && f.RefValue != nil {
				if j, ok := c.r.index[*f.RefValue]; ok {
					c.isParent[j] = true
				}
			}
		}
	}
	for i := range def.Objects {
		if def.Objects[i].ID == "" || c.r.index[def.Objects[i].ID] != i {
			continue
		}
		c.check(i)
	}
	var out []Problem
	for _, ps := range c.perObject {
		out = append(out, ps...)
	}
	return out
}

type typeChecker struct {
	r         *Resolver
	def       *Definition
	perObject [][]Problem
	seen      map[problemKey]bool // problems reported on an origin object
	isParent  []bool
}

type problemKey struct {
	origin int
	msg    string
}

func (c *typeChecker) report(at int, code, format string, args ...any) {
	c.perObject[at] = append(c.perObject[at], Problem{
		ObjectID: c.def.Objects[at].ID, Code: code, Message: message(code, format, args...),
	})
}

// reportOnce reports a value problem on the object that wrote the value.
func (c *typeChecker) reportOnce(at int, code, format string, args ...any) {
	msg := message(code, format, args...)
	if c.seen == nil {
		c.seen = map[problemKey]bool{}
	}
	k := problemKey{at, msg}
	if c.seen[k] {
		return
	}
	c.seen[k] = true
	c.perObject[at] = append(c.perObject[at], Problem{ObjectID: c.def.Objects[at].ID, Code: code, Message: msg})
}

// effectiveType returns the type value and the index of the object that
// wrote it.
func effectiveType(e *effective) (string, int, bool) {
	for k, f := range e.obj.Fields {
		if f.Key == "type" {
			return f.Value(), e.origin[k], true
		}
	}
	return "", -1, false
}

func (c *typeChecker) check(i int) {
	e := c.r.resolve(i)
	if e.err != nil {
		return
	}
	name, typeOrigin, ok := effectiveType(e)
	if !ok {
		if c.def.Objects[i].ID != DefaultID && !c.isParent[i] {
			c.report(i, CodeMissingField,
				"The object has no 'type'; only Default and objects used as a parent may omit it.")
		}
		return
	}
	if name == "" || strings.Contains(name, "#{") {
		return
	}
	t, ok := LookupType(name)
	if !ok {
		c.reportOnce(typeOrigin, CodeUnknownType, "'%s' is not a known object type.", name)
		return
	}

	fs := e.obj.Fields
	for k, f := range fs {
		if f.Key == "type" || strings.HasPrefix(f.Key, "@") {
			continue
		}
		own := e.origin[k] == i
		spec, known := t.Field(f.Key)
		switch {
		case !known:
			if own && !IsUserField(f.Key) {
				c.report(i, CodeFieldNotAllowed, "'%s' is not a field of %s objects.", f.Key, t.Name)
			}
			continue
		case slices.Contains(t.NotAllowed, spec.Name):
			if own {
				c.report(i, CodeFieldNotAllowed, "'%s' is not allowed on %s objects.", f.Key, t.Name)
			}
			continue
		case spec.Runtime:
			if own {
				c.report(i, CodeRuntimeField, "'%s' is a runtime field of %s objects; it is set by the service.", f.Key, t.Name)
			}
			continue
		}
		if !spec.Repeated && countKey(fs[:k], f.Key) == 0 && countKey(fs[k+1:], f.Key) > 0 {
			c.reportOnce(e.origin[k], CodeFieldNotRepeatable, "'%s' may only have one value on %s objects.", f.Key, t.Name)
		}
		c.checkValue(e.origin[k], t, spec, f)
	}

	for _, spec := range t.Fields {
		if spec.Required && !hasFieldKey(fs, spec.Name) {
			c.report(i, CodeMissingField, "'%s' is required on %s objects.", spec.Name, t.Name)
		}
	}
	for _, g := range t.OneOf {
		n := 0
		for _, name := range g.Fields {
			if hasFieldKey(fs, name) {
				n++
			}
		}
		switch {
		case n == 0:
			c.report(i, CodeMissingField, "One of %s is required on %s objects.", quoteList(g.Fields), t.Name)
		case n > 1 && g.Exclusive:
			c.report(i, CodeConflictingFields, "Only one of %s may be set on %s objects.", quoteList(g.Fields), t.Name)
		}
	}
	for _, set := range t.Conflicts {
		n := 0
		for _, name := range set {
			if hasFieldKey(fs, name) {
				n++
			}
		}
		if n > 1 {
			c.report(i, CodeConflictingFields, "%s cannot be used together on %s objects.", quoteList(set), t.Name)
		}
	}
}

// checkValue judges one value against its spec, reporting on origin.
func (c *typeChecker) checkValue(origin int, t *TypeSpec, spec *FieldSpec, f Field) {
	if spec.Type == TypeReference {
		if f.RefValue == nil {
			if f.StringValue != nil && *f.StringValue != "" && !strings.Contains(*f.StringValue, "#{") {
				c.reportOnce(origin, CodeInvalidFieldValue, "'%s' must be a reference to another object.", f.Key)
			}
			return
		}
		c.checkRef(origin, spec, f)
		return
	}
	if f.StringValue == nil {
		if f.RefValue != nil {
			c.reportOnce(origin, CodeInvalidFieldValue, "'%s' must be a string value, not a reference.", f.Key)
		}
		return
	}
	v := *f.StringValue
	if v == "" { // fatal in Validate already
		return
	}
	if spec.Literal && spec.Type == TypeDateTime {
		if !isDateTime(v) {
			c.reportOnce(origin, CodeInvalidFieldValue, "'%s' value must be a literal datetime value.", f.Key)
		}
		return
	}
	if strings.Contains(v, "#{") {
		return
	}
	for _, e := range spec.Enum {
		if strings.EqualFold(v, e) {
			return
		}
	}
	var want string
	switch spec.Type {
	case TypeEnumeration:
		c.reportOnce(origin, CodeInvalidEnumValue, "'%s' value %s is not one of: %s.", f.Key, shown(isSecretKey(f.Key), v), strings.Join(spec.Enum, ", "))
		return
	case TypeInteger:
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			want = "an integer"
		}
	case TypeDouble:
		if _, err := strconv.ParseFloat(v, 64); err != nil || strings.ContainsAny(v, "xXpPnNiI_") {
			want = "a number"
		}
	case TypeBoolean:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			want = "'true' or 'false'"
		}
	case TypePeriod:
		if !IsPeriod(v) {
			want = "a period such as '15 minutes' (N minutes, hours, days, weeks, months or years)"
		}
	case TypeDateTime:
		if !isDateTime(v) {
			want = "a datetime in the form YYYY-MM-DDTHH:MM:SS"
		}
	}
	if want != "" {
		c.reportOnce(origin, CodeInvalidFieldValue, "'%s' value %s must be %s.", f.Key, shown(isSecretKey(f.Key), v), want)
	}
}

// target describes the effective type of object j: its kind, its type
// name, and whether it is known. Objects without a type are Default's kind.
func (c *typeChecker) target(j int) (Kind, string, bool) {
	e := c.r.resolve(j)
	if e.err != nil {
		return 0, "", false
	}
	name, _, ok := effectiveType(e)
	if !ok {
		return KindDefault, "", true
	}
	t, ok := LookupType(name)
	if !ok {
		return 0, "", false // reported on the target
	}
	return t.Kind, t.Name, true
}

func (c *typeChecker) checkRef(origin int, spec *FieldSpec, f Field) {
	if spec.RefKinds == nil && spec.RefTypes == nil {
		return
	}
	j, ok := c.r.index[*f.RefValue]
	if !ok {
		return // Validate reports the dangling reference
	}
	kind, name, ok := c.target(j)
	if !ok {
		return
	}
	if slices.Contains(spec.RefTypes, name) {
		return
	}
	for _, k := range spec.RefKinds {
		if k == kind {
			return
		}
	}
	var want []string
	for _, k := range spec.RefKinds {
		want = append(want, kindNoun(k))
	}
	want = append(want, spec.RefTypes...)
	got := "has no type"
	if name != "" {
		got = "is of type " + name
	}
	c.reportOnce(origin, CodeInvalidReferenceKind, "'%s' refers to '%s', which %s; it must refer to %s.",
		f.Key, *f.RefValue, got, orList(want))
}

var kindNouns = map[Kind]string{
	KindDataNode: "a data node", KindActivity: "an activity", KindResource: "a resource",
	KindPrecondition: "a precondition", KindDatabase: "a database", KindDataFormat: "a data format",
	KindAction: "an action", KindSchedule: "a Schedule", KindDefault: "Default",
}

func kindNoun(k Kind) string {
	if n, ok := kindNouns[k]; ok {
		return n
	}
	return "a " + k.String()
}

func orList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = "'" + v + "'"
	}
	return orList(q)
}

func countKey(fs []Field, key string) int {
	n := 0
	for _, f := range fs {
		if f.Key == key {
			n++
		}
	}
	return n
}

// hasFieldKey reports whether the fields hold name, with or without a '*'.
func hasFieldKey(fs []Field, name string) bool {
	for _, f := range fs {
		if f.Key == name || (len(f.Key) == len(name)+1 && f.Key[0] == '*' && f.Key[1:] == name) {
			return true
		}
	}
	return false
}

// IsPeriod reports whether v is a period: a positive integer, white space,
// and a unit (minute, hour, day, week, month or year, singular or plural,
// any case).
func IsPeriod(v string) bool {
	n, unit, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return false
	}
	unit = strings.TrimSpace(unit)
	if len(n) == 0 || len(n) > 9 {
		return false
	}
	nonzero := false
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
		nonzero = nonzero || n[i] != '0'
	}
	if !nonzero {
		return false
	}
	unit = strings.ToLower(unit)
	unit = strings.TrimSuffix(unit, "s")
	switch unit {
	case "minute", "hour", "day", "week", "month", "year":
		return true
	}
	return false
}

// isDateTime reports whether v is YYYY-MM-DDTHH:MM:SS.
func isDateTime(v string) bool {
	if len(v) != len("2006-01-02T15:04:05") {
		return false
	}
	_, err := time.Parse("2006-01-02T15:04:05", v)
	return err == nil
}

// isSecretKey reports whether a field's values are masked: its key starts
// with '*', as in *password.
func isSecretKey(key string) bool { return strings.HasPrefix(key, "*") }
