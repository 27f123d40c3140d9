package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/queue"
)

// serverLimits are AWS's service limits (spec §8.1) as this server applies
// them. AWS's values are the defaults; `culvert serve --limit NAME=VALUE`
// changes them, for example to let tests retry after a second.
type serverLimits struct {
	Definition      pipeline.Limits
	MaxPipelines    int // live pipelines per account; 0 = no limit
	AckTimeout      time.Duration
	ProgressTimeout time.Duration
}

func defaultLimits() serverLimits {
	return serverLimits{Definition: pipeline.DefaultLimits, AckTimeout: queue.AckTimeout, ProgressTimeout: queue.ProgressTimeout}
}

// limitSpec describes one adjustable limit. Names are the spec's, in
// camelCase.
type limitSpec struct {
	name string
	help string
	// count is set for limits counted in units; the others are Go
	// durations.
	count    bool
	intField func(*serverLimits) *int
	durField func(*serverLimits) *time.Duration
}

var limitSpecs = []limitSpec{
	{name: "maxPipelines", help: "live pipelines per account (0 = no limit)", count: true,
		intField: func(l *serverLimits) *int { return &l.MaxPipelines }},
	{name: "maxObjects", help: "objects per pipeline definition", count: true,
		intField: func(l *serverLimits) *int { return &l.Definition.MaxObjects }},
	{name: "maxFieldsPerObject", help: "fields per object", count: true,
		intField: func(l *serverLimits) *int { return &l.Definition.MaxFieldsPerObject }},
	{name: "maxObjectBytes", help: "UTF-8 bytes per object, field names included", count: true,
		intField: func(l *serverLimits) *int { return &l.Definition.MaxObjectBytes }},
	{name: "maxParameters", help: "parameters per definition", count: true,
		intField: func(l *serverLimits) *int { return &l.Definition.MaxParameters }},
	{name: "maxRetries", help: "the largest maximumRetries", count: true,
		intField: func(l *serverLimits) *int { return &l.Definition.MaxRetries }},
	{name: "maxActiveInstances", help: "the largest maxActiveInstances of an on-demand pipeline", count: true,
		intField: func(l *serverLimits) *int { return &l.Definition.MaxActiveInstances }},
	{name: "minRetryDelay", help: "the smallest retryDelay",
		durField: func(l *serverLimits) *time.Duration { return &l.Definition.MinRetryDelay }},
	{name: "minSchedulePeriod", help: "the smallest Schedule period",
		durField: func(l *serverLimits) *time.Duration { return &l.Definition.MinSchedulePeriod }},
	{name: "ackTimeout", help: "how long a runner has to acknowledge a task it received",
		durField: func(l *serverLimits) *time.Duration { return &l.AckTimeout }},
	{name: "reportProgressTimeout", help: "a task's lease after each progress report, unless its pipeline sets one",
		durField: func(l *serverLimits) *time.Duration { return &l.ProgressTimeout }},
}

// limitFlag is the repeatable --limit NAME=VALUE flag. A value may also
// hold several settings separated by commas, which is how CULVERT_LIMIT
// sets them from the environment.
type limitFlag struct {
	l *serverLimits
	// set records the names given, so --max-objects and --max-pipelines
	// do not override them.
	set map[string]bool
}

func (f *limitFlag) String() string { return "" }

func (f *limitFlag) Set(v string) error {
	for _, setting := range strings.Split(v, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(setting), "=")
		if !ok {
			return fmt.Errorf("want NAME=VALUE, not %q; limits: %s", setting, limitNames())
		}
		spec, ok := lookupLimit(name)
		if !ok {
			return fmt.Errorf("unknown limit %q; limits: %s", name, limitNames())
		}
		if spec.count {
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 || (n == 0 && spec.name != "maxPipelines") {
				return fmt.Errorf("limit %s: %q is not a positive whole number", name, value)
			}
			*spec.intField(f.l) = n
		} else {
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				return fmt.Errorf("limit %s: %q is not a positive Go duration such as 30s or 2m", name, value)
			}
			*spec.durField(f.l) = d
		}
		if f.set == nil {
			f.set = map[string]bool{}
		}
		f.set[spec.name] = true
	}
	return nil
}

func lookupLimit(name string) (limitSpec, bool) {
	for _, s := range limitSpecs {
		if strings.EqualFold(s.name, name) {
			return s, true
		}
	}
	return limitSpec{}, false
}

func limitNames() string {
	names := make([]string, len(limitSpecs))
	for i, s := range limitSpecs {
		names[i] = s.name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// limitsHelp lists the limits with their defaults, for serve's usage.
func limitsHelp() string {
	d := defaultLimits()
	var b strings.Builder
	for _, s := range limitSpecs {
		var def string
		if s.count {
			def = strconv.Itoa(*s.intField(&d))
		} else {
			def = s.durField(&d).String()
		}
		fmt.Fprintf(&b, "\n  %-22s %s (default %s)", s.name, s.help, def)
	}
	return b.String()
}
