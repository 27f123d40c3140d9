package pipeline

import (
	"strconv"
	"strings"
	"time"

	"github.com/culvert/culvert/internal/expr"
)

// checkSchedules judges Schedule objects and how objects use them (§3.3
// Schedule, §4.2, §7.3): the period's range, the on-demand forms, the end
// after the start, one schedule type per on-demand pipeline, and a schedule
// for every scheduled object of a pipeline that is not on demand.
//
// CheckTypes already requires exactly one of startAt and startDateTime,
// forbids occurrences with endDateTime, requires a literal startDateTime,
// and restricts startAt to its two values; these rules do not repeat that.
func (v *ruleChecker) checkSchedules() {
	onDemandSchedules := 0
	for i := range v.def.Objects {
		if !v.live[i] {
			continue
		}
		if s, ok := ownString(&v.def.Objects[i], "scheduleType"); ok && !isExpr(s) {
			isOnDemand := strings.EqualFold(s, scheduleTypeOnDemand)
			switch {
			case v.onDemand && !isOnDemand:
				v.err(i, CodeInvalidSchedule, "'scheduleType' is '%s', but Default makes the pipeline on demand; "+
					"an on-demand pipeline has one schedule type, set on Default only.", s)
			case !v.onDemand && isOnDemand && i != v.r.dflt:
				v.err(i, CodeInvalidSchedule, "'scheduleType' 'ondemand' applies to a whole pipeline: "+
					"set it on Default, not on single objects.")
			}
		}
		if t := v.types[i]; t != nil && t.Kind == KindSchedule {
			if v.checkSchedule(i) {
				onDemandSchedules++
				if v.onDemand && onDemandSchedules > 1 {
					v.err(i, CodeInvalidSchedule, "An on-demand pipeline may have only one Schedule; remove this one.")
				}
			}
			continue
		}
		if !v.onDemand && scheduled(v.kind(i)) {
			if _, ok := v.effective(i).Get("schedule"); !ok {
				v.err(i, CodeMissingField, "'schedule' is required on %s objects unless the pipeline is on demand; "+
					"set it on the object, on its parent or on Default.", v.types[i].Name)
			}
		}
	}
}

// checkSchedule judges Schedule i on its effective view and reports
// whether it is an on-demand Schedule.
func (v *ruleChecker) checkSchedule(i int) (onDemand bool) {
	period, hasPeriod := v.str(i, "period")
	startAt, _ := v.str(i, "startAt")
	odPeriod := hasPeriod && strings.EqualFold(period, onDemandPeriod)
	odStart := strings.EqualFold(startAt, onDemandActivationTime)
	switch {
	case odPeriod != odStart:
		v.err(i, CodeInvalidSchedule, "An on-demand Schedule needs both 'period' ONDEMAND_PERIOD and "+
			"'startAt' ONDEMAND_ACTIVATION_TIME; a Schedule with only one of them has no meaning.")
	case odPeriod && !v.onDemand:
		v.err(i, CodeInvalidSchedule, "This on-demand Schedule needs 'scheduleType' 'ondemand' on Default.")
	case !odPeriod && v.onDemand:
		v.err(i, CodeInvalidSchedule, "An on-demand pipeline does not use Schedule objects; remove this one and "+
			"the 'schedule' references to it (or make it period ONDEMAND_PERIOD, startAt ONDEMAND_ACTIVATION_TIME).")
	}
	if hasPeriod && !odPeriod && !isExpr(period) {
		if p, err := expr.ParsePeriod(period); err == nil && (!atLeast(p, v.lim.MinSchedulePeriod) || !atMostYears(p, 3)) {
			v.err(i, CodeValueOutOfRange, "'period' value '%s' is out of range: a Schedule's period is at least "+
				"%s and at most 3 years.", period, durationText(v.lim.MinSchedulePeriod))
		}
	}
	start, okStart := v.str(i, "startDateTime")
	end, okEnd := v.str(i, "endDateTime")
	if okStart && okEnd {
		s, err1 := expr.ParseDateTime(start)
		e, err2 := expr.ParseDateTime(end)
		if err1 == nil && err2 == nil && !e.After(s) {
			v.err(i, CodeInvalidSchedule, "'endDateTime' %s must be later than 'startDateTime' %s.", end, start)
		}
	}
	return odPeriod && odStart
}

// numberRule bounds the values of one field wherever it is written.
type numberRule struct {
	key string
	typ FieldType // TypeInteger, TypeDouble or TypePeriod
	// min and max bound integers and doubles; for periods min is in
	// minutes. hasMax says whether max applies.
	min, max float64
	hasMax   bool
	// exclusive bounds exclude min and max themselves.
	exclusive bool
	why       string
}

// numberRules are the documented bounds (§3.2, §3.3, §8.1), sorted by key.
// Counts are only kept from being negative: AWS documents no other bound.
var numberRules = []numberRule{
	{key: "coreInstanceCount", typ: TypeInteger, why: "must not be negative"},
	{key: "instanceCount", typ: TypeInteger, why: "must not be negative"},
	{key: "iops", typ: TypeInteger, why: "must not be negative"},
	{key: "maxActiveInstances", typ: TypeInteger, min: 1, why: "must be at least 1"},
	{key: "maximumRetries", typ: TypeInteger, max: 5, hasMax: true, why: "must be between 0 and 5 (AWS allows at most 5 retries per task)"},
	{key: "minInstanceCount", typ: TypeInteger, why: "must not be negative"},
	{key: "occurrences", typ: TypeInteger, min: 1, why: "must be a positive integer"},
	{key: "readThroughputPercent", typ: TypeDouble, min: 0.1, max: 1, hasMax: true, why: "must be between 0.1 and 1.0"},
	{key: "resizeClusterMaxInstances", typ: TypeInteger, why: "must not be negative"},
	{key: "retryDelay", typ: TypePeriod, min: 2, why: "must be at least 2 minutes (the minimum delay between retries)"},
	{key: "sizeInGB", typ: TypeInteger, why: "must not be negative"},
	{key: "spotBidPrice", typ: TypeDouble, max: 20, hasMax: true, exclusive: true, why: "must be more than 0 and less than 20.00"},
	{key: "taskInstanceCount", typ: TypeInteger, why: "must not be negative"},
	{key: "volumesPerInstance", typ: TypeInteger, why: "must not be negative"},
	{key: "writeThroughputPercent", typ: TypeDouble, min: 0.1, max: 1, hasMax: true, why: "must be between 0.1 and 1.0"},
}

// numberRule returns the rule for key, with the bounds that are service
// limits taken from the checker's Limits.
func (v *ruleChecker) numberRule(key string) *numberRule {
	r := lookupNumberRule(key)
	if r == nil {
		return nil
	}
	d := DefaultLimits
	switch {
	case key == "maximumRetries" && v.lim.MaxRetries != d.MaxRetries:
		c := *r
		c.max = float64(v.lim.MaxRetries)
		c.why = "must be between 0 and " + strconv.Itoa(v.lim.MaxRetries) + " (this server's limit maxRetries)"
		return &c
	case key == "retryDelay" && v.lim.MinRetryDelay != d.MinRetryDelay:
		c := *r
		c.min = v.lim.MinRetryDelay.Minutes()
		c.why = "must be at least " + durationText(v.lim.MinRetryDelay) + " (this server's limit minRetryDelay)"
		return &c
	}
	return r
}

func lookupNumberRule(key string) *numberRule {
	for i := range numberRules {
		if numberRules[i].key == key {
			return &numberRules[i]
		}
	}
	return nil
}

// checkNumbers bounds numeric values where they are written, so a bad value
// on Default is one error, not one per inheriting object. A field on a typed
// object is judged only if its type has the field (CheckTypes reports it
// otherwise); on Default and pure parents every field is judged. Values that
// do not parse are CheckTypes' to report, and expressions are judged when
// evaluated.
func (v *ruleChecker) checkNumbers() {
	for i := range v.def.Objects {
		if !v.live[i] {
			continue
		}
		for _, f := range v.def.Objects[i].Fields {
			if f.StringValue == nil || isExpr(*f.StringValue) {
				continue
			}
			rule := v.numberRule(f.Key)
			if rule == nil {
				continue
			}
			if t := v.types[i]; t != nil {
				if _, ok := t.Field(f.Key); !ok {
					continue
				}
			}
			val := strings.TrimSpace(*f.StringValue)
			if f.Key == "maxActiveInstances" && v.onDemand {
				if n, err := strconv.ParseInt(val, 10, 64); err == nil && n > int64(v.lim.MaxActiveInstances) {
					v.err(i, CodeValueOutOfRange, "'maxActiveInstances' value '%s' must be at most %d in an on-demand pipeline.",
						val, v.lim.MaxActiveInstances)
					continue
				}
			}
			if !rule.within(val) {
				v.err(i, CodeValueOutOfRange, "'%s' value %s %s.", f.Key, shown(isSecretKey(f.Key), val), rule.why)
			}
		}
	}
}

// within reports whether val honours the rule; values that do not parse
// pass, as their syntax is reported elsewhere.
func (r *numberRule) within(val string) bool {
	var x float64
	switch r.typ {
	case TypeInteger:
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return true
		}
		x = float64(n)
	case TypeDouble:
		d, err := strconv.ParseFloat(val, 64)
		if err != nil || strings.ContainsAny(val, "xXpPnNiI_") {
			return true
		}
		x = d
	case TypePeriod:
		p, err := expr.ParsePeriod(val)
		if err != nil {
			return true
		}
		return atLeast(p, time.Duration(r.min*float64(time.Minute)))
	}
	if r.exclusive {
		return x > r.min && (!r.hasMax || x < r.max)
	}
	return x >= r.min && (!r.hasMax || x <= r.max)
}

// ownString returns the first string value of key that o sets itself.
func ownString(o *Object, key string) (string, bool) {
	f, ok := o.Get(key)
	if !ok || f.StringValue == nil {
		return "", false
	}
	return *f.StringValue, true
}
