package pipeline

import (
	"strconv"
	"strings"
	"time"

	"github.com/culvert/culvert/internal/expr"
)

// Codes of the problems the cross-field rules find, in the style of
// validate.go's. They are culvert's own: AWS documents no text for these
// checks (§7.2, §7.3).
const (
	CodeValueOutOfRange      = "VALUE_OUT_OF_RANGE"
	CodeInvalidSchedule      = "INVALID_SCHEDULE"
	CodeCyclicDependency     = "CYCLIC_DEPENDENCY"
	CodeInvalidParameter     = "INVALID_PARAMETER"
	CodeInvalidParamValue    = "INVALID_PARAMETER_VALUE"
	CodeMissingParamValue    = "MISSING_PARAMETER_VALUE"
	CodeUndefinedParameter   = "UNDEFINED_PARAMETER"
	CodeInvalidExpression    = "INVALID_EXPRESSION"
	CodeEditRemovesObject    = "EDIT_REMOVES_OBJECT"
	CodeEditChangesPeriod    = "EDIT_CHANGES_PERIOD"
	CodeEditChangesReference = "EDIT_CHANGES_REFERENCE"
	CodeEditOutputToExisting = "EDIT_OUTPUT_TO_EXISTING"
	CodeEditChangesStart     = "EDIT_CHANGES_START"
)

// Values of Schedule and scheduleType fields the rules look for.
const (
	scheduleTypeOnDemand   = "ondemand"
	onDemandPeriod         = "ONDEMAND_PERIOD"
	onDemandActivationTime = "ONDEMAND_ACTIVATION_TIME"
)

// ruleChecker holds what the cross-field rules share: the resolver, and
// for every object whether it is checked and its catalog type.
type ruleChecker struct {
	def *Definition
	r   *Resolver
	c   *collector
	// live[i] is true for the objects the rules judge: those with an id,
	// the first of their id, and not on a parent cycle. Validate reports
	// the others already, and their effective views have no answer.
	live []bool
	// types[i] is object i's effective catalog type, nil if it has none or
	// an unknown one (CheckTypes reports that).
	types []*TypeSpec
	// isParent[i] is true when some object names i as its parent.
	isParent []bool
	// onDemand is true when Default's scheduleType is ondemand: that is
	// where AWS wants it set for the whole pipeline (§4.2).
	onDemand bool
	lim      Limits
}

func newRuleChecker(def *Definition, r *Resolver, c *collector) *ruleChecker {
	n := len(def.Objects)
	v := &ruleChecker{def: def, r: r, c: c, live: make([]bool, n), types: make([]*TypeSpec, n), isParent: make([]bool, n)}
	for i := range def.Objects {
		o := &def.Objects[i]
		for _, f := range o.Fields {
			if f.Key == "parent" && f.RefValue != nil {
				if j, ok := r.index[*f.RefValue]; ok {
					v.isParent[j] = true
				}
			}
		}
		if o.ID == "" || r.index[o.ID] != i {
			continue
		}
		e := r.resolve(i)
		if e.err != nil {
			continue
		}
		v.live[i] = true
		if name, _, ok := effectiveType(e); ok {
			v.types[i], _ = LookupType(name)
		}
	}
	if r.dflt >= 0 && v.live[r.dflt] {
		if s, ok := v.str(r.dflt, "scheduleType"); ok {
			v.onDemand = strings.EqualFold(s, scheduleTypeOnDemand)
		}
	}
	return v
}

// effective returns the effective view of live object i.
func (v *ruleChecker) effective(i int) *Object { return &v.r.resolve(i).obj }

// str returns the first effective string value of key on live object i.
func (v *ruleChecker) str(i int, key string) (string, bool) {
	f, ok := v.effective(i).Get(key)
	if !ok || f.StringValue == nil {
		return "", false
	}
	return *f.StringValue, true
}

// kind returns the kind of live object i's type, KindDefault when it has
// none and KindOther when its type is unknown.
func (v *ruleChecker) kind(i int) Kind {
	if v.types[i] != nil {
		return v.types[i].Kind
	}
	if _, _, ok := effectiveType(v.r.resolve(i)); ok {
		return KindOther
	}
	return KindDefault
}

// secret reports whether key holds a secret on live object i: a '*' key,
// or one the catalog marks secret on its type.
func (v *ruleChecker) secret(i int, key string) bool {
	if isSecretKey(key) {
		return true
	}
	if t := v.types[i]; t != nil {
		if spec, ok := t.Field(key); ok {
			return spec.Secret
		}
	}
	return false
}

// scheduled reports whether objects of kind k are given instances per
// schedule interval, and so need a schedule: data nodes, activities and
// resources (§3.2, §4.2). Preconditions run in the context of the object
// that uses them; databases, formats, actions and utilities never run.
func scheduled(k Kind) bool {
	return k == KindActivity || k == KindDataNode || k == KindResource
}

func (v *ruleChecker) err(i int, code, format string, args ...any) {
	v.c.err(v.def.Objects[i].ID, false, message(code, format, args...))
}

// isExpr reports whether a value holds an expression, whose value is only
// known when it is evaluated.
func isExpr(s string) bool { return strings.Contains(s, "#{") }

// periodMinutes splits a period into its fixed part, in minutes, and its
// calendar part, in months.
func periodMinutes(p expr.Period) (minutes int64, months int64) {
	minutes = int64(p.Minutes) + 60*int64(p.Hours) + 24*60*(int64(p.Days)+7*int64(p.Weeks))
	months = int64(p.Months) + 12*int64(p.Years)
	return minutes, months
}

// atMostYears reports whether a one-unit period is at most n years.
// Periods have one unit, so they compare unit by unit, as Hyperion's
// validator does (§4.1): 3 years is 36 months, 156 weeks, 1,095 days,
// 26,280 hours or 1,576,800 minutes.
func atMostYears(p expr.Period, n int64) bool {
	minutes, months := periodMinutes(p)
	if months > 0 {
		return minutes == 0 && months <= 12*n
	}
	if p.Weeks > 0 {
		return int64(p.Weeks) <= 52*n
	}
	return minutes <= n*365*24*60
}

// atLeast reports whether a one-unit period is at least d.
func atLeast(p expr.Period, d time.Duration) bool {
	minutes, months := periodMinutes(p)
	return months > 0 || time.Duration(minutes)*time.Minute >= d
}

// durationText renders a limit for a message the way periods are
// written: "15 minutes", "2 minutes", "30 seconds".
func durationText(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	}
	return plural(int64(d/time.Second), "second")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}
