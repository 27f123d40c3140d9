package pipeline

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Limits bounds a definition. Zero fields take the documented AWS
// defaults; a server may raise or lower them (culvert serve --limit).
type Limits struct {
	MaxObjects         int // objects per pipeline (AWS default 100, adjustable)
	MaxFieldsPerObject int // fields per object (50, fixed on AWS)
	MaxObjectBytes     int // UTF-8 bytes per object including field names (15,360)
	MaxParameters      int // parameter objects per definition (50)
	MaxRetries         int // maximumRetries (5 per task)
	// MaxActiveInstances bounds maxActiveInstances in an on-demand
	// pipeline (5).
	MaxActiveInstances int
	MinRetryDelay      time.Duration // retryDelay (2 minutes)
	MinSchedulePeriod  time.Duration // a Schedule's period (15 minutes)
}

// DefaultLimits are the limits AWS documents.
var DefaultLimits = Limits{MaxObjects: 100, MaxFieldsPerObject: 50, MaxObjectBytes: 15360, MaxParameters: 50,
	MaxRetries: 5, MaxActiveInstances: 5, MinRetryDelay: 2 * time.Minute, MinSchedulePeriod: 15 * time.Minute}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	for _, f := range []struct {
		v   *int
		def int
	}{
		{&l.MaxObjects, d.MaxObjects}, {&l.MaxFieldsPerObject, d.MaxFieldsPerObject},
		{&l.MaxObjectBytes, d.MaxObjectBytes}, {&l.MaxParameters, d.MaxParameters},
		{&l.MaxRetries, d.MaxRetries}, {&l.MaxActiveInstances, d.MaxActiveInstances},
	} {
		if *f.v <= 0 {
			*f.v = f.def
		}
	}
	if l.MinRetryDelay <= 0 {
		l.MinRetryDelay = d.MinRetryDelay
	}
	if l.MinSchedulePeriod <= 0 {
		l.MinSchedulePeriod = d.MinSchedulePeriod
	}
	return l
}

// ValidationError lists the errors found on one object.
type ValidationError struct {
	ID     string   `json:"id"`
	Errors []string `json:"errors"`
}

// ValidationWarning lists the warnings found on one object.
type ValidationWarning struct {
	ID       string   `json:"id"`
	Warnings []string `json:"warnings"`
}

// Result is the outcome of validating a definition.
//
// AWS sorts problems into two classes, and so does Result. Fatal problems
// (an object without id or name, an empty value, too many objects) stop
// PutPipelineDefinition from saving anything. Other errors are saved, but the
// pipeline cannot be activated until a clean definition is put. Warnings never
// block anything.
type Result struct {
	Errors   []ValidationError
	Warnings []ValidationWarning
	// Fatal holds the subset of Errors, rendered as "id: message", that
	// prevents saving.
	Fatal []string
}

// Errored reports whether the definition has any error, fatal or not.
func (r *Result) Errored() bool { return len(r.Errors) > 0 }

// FatalMessage renders the fatal errors in the shape of AWS's message, but
// naming the actual problems instead of a Java object reference.
func (r *Result) FatalMessage() string {
	return "Pipeline definition has errors: Could not save the pipeline definition due to FATAL errors: [" +
		strings.Join(r.Fatal, "; ") + "] Please call Validate to validate your pipeline"
}

// Message codes in AWS's "CODE:  text" style (two spaces after the colon).
// INVALID_FIELD_VALUE is AWS's own; the others are culvert's, in the same
// style, where AWS's text is not documented.
const (
	CodeInvalidFieldValue = "INVALID_FIELD_VALUE"
	CodeEmptyValue        = "EMPTY_VALUE"
	CodeDuplicateID       = "DUPLICATE_ID"
	CodeInvalidReference  = "INVALID_REFERENCE"
	CodeRuntimeField      = "READ_ONLY_FIELD"
	CodeTooManyObjects    = "TOO_MANY_OBJECTS"
	CodeTooManyFields     = "TOO_MANY_FIELDS"
	CodeObjectTooLarge    = "OBJECT_TOO_LARGE"
	CodeCyclicParent      = "CYCLIC_REFERENCE"
	CodeTooManyParameters = "TOO_MANY_PARAMETERS"
	CodeDuplicateParam    = "DUPLICATE_PARAMETER"
)

// shown quotes a value for a message, unless it is secret: the value of a
// '*' field or parameter never appears in a message, because messages reach
// API responses and the server's logs.
func shown(secret bool, v string) string {
	if secret {
		return "(a secret value, not shown)"
	}
	return "'" + v + "'"
}

func message(code, format string, args ...any) string {
	return code + ":  " + fmt.Sprintf(format, args...)
}

// collector gathers messages per object id. Entries are put in definition
// order at the end (see sortEntries), because AWS returns one entry per
// object and users read them in definition order; messages within an entry
// keep the order in which the checks found them.
type collector struct {
	errIdx  map[string]int
	warnIdx map[string]int
	r       Result
}

// warn records a warning, which never makes the result errored.
func (c *collector) warn(id, msg string) {
	i := entry(&c.warnIdx, &c.r.Warnings, id, func(id string) ValidationWarning { return ValidationWarning{ID: id} })
	c.r.Warnings[i].Warnings = append(c.r.Warnings[i].Warnings, msg)
}

// entry returns the index of id's entry in *list, appending a new one,
// made by mk, the first time id is seen.
func entry[T any](idx *map[string]int, list *[]T, id string, mk func(string) T) int {
	if *idx == nil {
		*idx = map[string]int{}
	}
	i, ok := (*idx)[id]
	if !ok {
		i = len(*list)
		(*idx)[id] = i
		*list = append(*list, mk(id))
	}
	return i
}

func (c *collector) err(id string, fatal bool, msg string) {
	i := entry(&c.errIdx, &c.r.Errors, id, func(id string) ValidationError { return ValidationError{ID: id} })
	c.r.Errors[i].Errors = append(c.r.Errors[i].Errors, msg)
	if fatal {
		c.r.Fatal = append(c.r.Fatal, id+": "+msg)
	}
}

// Options are the inputs of Validate besides the definition itself. The
// zero value validates a new pipeline's definition against the default
// limits, without the checks that need a clock.
type Options struct {
	// Limits bounds the definition's size; zero fields take DefaultLimits.
	Limits Limits
	// Now is the time of validation. The backfill warning compares schedule
	// starts with it; the zero time means "unknown" and skips that warning,
	// so that the core never reads the clock itself.
	Now time.Time
	// Active is the definition the pipeline was last activated with, or nil
	// if it never was. When set, the edits AWS forbids on an activated
	// pipeline (§7.4) are reported as errors.
	Active *Definition
}

// Validate judges a definition. It never fails: every problem is reported in
// the Result, classified as AWS classifies it.
//
// Model-level constraints on the request (lengths, the character pattern,
// required members) are the wire layer's job and have been enforced before
// Validate runs; Validate still copes with any input without panicking.
//
// The checks, in the order their messages appear for an object: structure
// (validateStructure), the object-type catalog (CheckTypes), then the rules
// that look across fields and objects: schedules and schedule types,
// numeric bounds, dependency cycles, parameters, expressions, edits of an
// activated pipeline, and the warnings.
func Validate(def *Definition, opt Options) *Result {
	lim := opt.Limits.withDefaults()
	var c collector
	validateStructure(def, lim, &c)
	r := NewResolver(def)
	for _, p := range checkTypes(def, r) {
		c.err(p.ObjectID, false, p.Message)
	}
	v := newRuleChecker(def, r, &c)
	v.lim = lim
	v.checkSchedules()
	v.checkNumbers()
	v.checkCycles()
	v.checkParameters()
	v.checkExpressions()
	if opt.Active != nil {
		v.checkEdits(opt.Active)
	}
	v.warnings(opt.Now)
	sortEntries(def, &c.r)
	return &c.r
}

// sortEntries puts the entries in definition order: the pipeline as a
// whole first, then objects, then parameters, then anything else (ids of
// values for undeclared parameters, unnamed objects) in the order found.
func sortEntries(def *Definition, r *Result) {
	rank := make(map[string]int, len(def.Objects)+len(def.ParameterObjects)+1)
	rank["Pipeline"] = -1
	for i := range def.Objects {
		if _, ok := rank[def.Objects[i].ID]; !ok {
			rank[def.Objects[i].ID] = i
		}
	}
	for i, p := range def.ParameterObjects {
		if _, ok := rank[p.ID]; !ok {
			rank[p.ID] = len(def.Objects) + i
		}
	}
	last := len(def.Objects) + len(def.ParameterObjects)
	rankOf := func(id string) int {
		if k, ok := rank[id]; ok {
			return k
		}
		return last
	}
	slices.SortStableFunc(r.Errors, func(a, b ValidationError) int { return rankOf(a.ID) - rankOf(b.ID) })
	slices.SortStableFunc(r.Warnings, func(a, b ValidationWarning) int { return rankOf(a.ID) - rankOf(b.ID) })
}

// validateStructure checks what holds for every object regardless of type:
// identity, empty values, references, runtime keys, sizes and parent cycles.
func validateStructure(def *Definition, lim Limits, c *collector) {
	if n := len(def.Objects); n > lim.MaxObjects {
		c.err("Pipeline", true, message(CodeTooManyObjects,
			"The definition has %d objects; the limit is %d.", n, lim.MaxObjects))
	}
	ids := make(map[string]int, len(def.Objects))
	for i := range def.Objects {
		o := &def.Objects[i]
		if o.ID == "" {
			c.err(fmt.Sprintf("pipelineObjects[%d]", i), true, message(CodeEmptyValue, "The object has no id."))
			continue
		}
		if o.Name == "" {
			c.err(o.ID, true, message(CodeEmptyValue, "The object has no name."))
		}
		if _, dup := ids[o.ID]; dup {
			c.err(o.ID, false, message(CodeDuplicateID, "Another object already has the id '%s'.", o.ID))
			continue
		}
		ids[o.ID] = i
	}
	for i := range def.Objects {
		o := &def.Objects[i]
		if o.ID == "" {
			continue
		}
		if n := len(o.Fields); n > lim.MaxFieldsPerObject {
			c.err(o.ID, false, message(CodeTooManyFields,
				"The object has %d fields; the limit is %d.", n, lim.MaxFieldsPerObject))
		}
		size := len(o.ID) + len(o.Name)
		for _, f := range o.Fields {
			size += len(f.Key) + len(f.Value())
			validateField(o, f, ids, c)
		}
		if size > lim.MaxObjectBytes {
			c.err(o.ID, false, message(CodeObjectTooLarge,
				"The object is %d bytes; the limit is %d bytes including field names.", size, lim.MaxObjectBytes))
		}
	}
	validateParentCycles(def, ids, c)
	validateParameters(def, lim, c)
}

func validateField(o *Object, f Field, ids map[string]int, c *collector) {
	if f.StringValue == nil && f.RefValue == nil {
		c.err(o.ID, true, message(CodeEmptyValue, "'%s' has neither a string value nor a reference value.", f.Key))
		return
	}
	// Empty values are fatal whatever else is wrong with the field.
	if f.StringValue != nil && *f.StringValue == "" {
		c.err(o.ID, true, message(CodeEmptyValue, "'%s' has an empty value.", f.Key))
	}
	if f.RefValue != nil && *f.RefValue == "" {
		c.err(o.ID, true, message(CodeEmptyValue, "'%s' has an empty reference.", f.Key))
	}
	if f.StringValue != nil && f.RefValue != nil {
		c.err(o.ID, false, message(CodeInvalidFieldValue, "'%s' has both a string value and a reference value.", f.Key))
	}
	if strings.HasPrefix(f.Key, "@") {
		c.err(o.ID, false, message(CodeRuntimeField,
			"'%s' is a runtime field; fields starting with '@' are set by the service.", f.Key))
	}
	if f.RefValue != nil && *f.RefValue != "" {
		if _, ok := ids[*f.RefValue]; !ok {
			c.err(o.ID, false, message(CodeInvalidReference,
				"'%s' refers to '%s', which is not an object in this pipeline.", f.Key, *f.RefValue))
		}
	}
}

// validateParentCycles reports every object that is its own ancestor,
// because inheritance through such a chain has no answer. Definitions hold at
// most a few hundred objects, so a walk from each object is cheap enough.
func validateParentCycles(def *Definition, ids map[string]int, c *collector) {
	seen := make([]bool, len(def.Objects))
	for i := range def.Objects {
		if def.Objects[i].ID == "" || ids[def.Objects[i].ID] != i {
			continue
		}
		clear(seen)
		stack := parents(def, ids, i, nil)
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if j == i {
				c.err(def.Objects[i].ID, false, message(CodeCyclicParent,
					"The 'parent' chain of '%s' leads back to itself.", def.Objects[i].ID))
				break
			}
			if !seen[j] {
				seen[j] = true
				stack = parents(def, ids, j, stack)
			}
		}
	}
}

// parents appends the indexes of the objects that object i names as parent.
func parents(def *Definition, ids map[string]int, i int, dst []int) []int {
	for _, f := range def.Objects[i].Fields {
		if f.Key == "parent" && f.RefValue != nil {
			if j, ok := ids[*f.RefValue]; ok {
				dst = append(dst, j)
			}
		}
	}
	return dst
}

func validateParameters(def *Definition, lim Limits, c *collector) {
	if n := len(def.ParameterObjects); n > lim.MaxParameters {
		c.err("Pipeline", false, message(CodeTooManyParameters,
			"The definition has %d parameters; the limit is %d.", n, lim.MaxParameters))
	}
	seen := make(map[string]bool, len(def.ParameterObjects))
	for _, p := range def.ParameterObjects {
		if seen[p.ID] {
			c.err(p.ID, false, message(CodeDuplicateParam, "Another parameter already has the id '%s'.", p.ID))
		}
		seen[p.ID] = true
	}
}
