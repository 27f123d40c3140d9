// Package scheduler decides which instances of an active pipeline should
// exist and when they may run.
//
// The decision is schedule arithmetic over a definition, the instances that
// already exist and the current time, so it is kept free of I/O and clocks:
// callers pass now. This file holds the arithmetic of one Schedule object;
// a Schedule answers where its intervals start and end, and how many of
// them are due at a given time, in O(log n) so that a year of 15-minute
// intervals is cheap to reason about.
package scheduler

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/culvert/culvert/internal/expr"
	"github.com/culvert/culvert/internal/pipeline"
)

// Schedule types (the scheduleType field, §4.2).
const (
	TypeCron       = "cron"
	TypeTimeseries = "timeseries"
	TypeOndemand   = "ondemand"
)

// Values of a Schedule's startAt field (§3.3).
const (
	StartAtFirstActivation    = "FIRST_ACTIVATION_DATE_TIME"
	StartAtOndemandActivation = "ONDEMAND_ACTIVATION_TIME"
)

// Schedule is a Schedule object resolved for a pipeline's activation: the
// first interval's start, the period between starts, and where the
// intervals stop.
//
// Interval n (counting from 0) is [Start + n×Period, Start + (n+1)×Period).
// Each start is computed from Start, not from the previous interval, so
// that calendar periods do not drift: a monthly schedule starting on
// January 31 runs on February 28 (or 29) and then on March 31, as Joda-Time
// computes start.plusMonths(n).
type Schedule struct {
	Start  time.Time
	Period expr.Period
	// End, when not zero, bounds the intervals: only those starting before
	// End exist. It comes from endDateTime.
	End time.Time
	// Occurrences, when positive, is the number of intervals there are.
	Occurrences int
}

// ErrNotSchedule is returned by FromObject for an object whose type is not
// Schedule.
var ErrNotSchedule = errors.New("not a Schedule object")

// FromObject resolves the effective view of a Schedule object (see
// pipeline.Resolver). A startAt of FIRST_ACTIVATION_DATE_TIME starts the
// schedule at firstActivation, truncated to the second as AWS's instance
// ids show it. It returns an error describing the first problem found when
// the object is not a usable Schedule; a validated definition has none.
func FromObject(o *pipeline.Object, firstActivation time.Time) (Schedule, error) {
	get := func(key string) (string, bool) {
		f, ok := o.Get(key)
		if !ok || f.StringValue == nil {
			return "", false
		}
		return *f.StringValue, true
	}
	if t, _ := get("type"); t != "Schedule" {
		return Schedule{}, fmt.Errorf("object %s: %w", o.ID, ErrNotSchedule)
	}
	var s Schedule
	period, _ := get("period")
	p, err := expr.ParsePeriod(period)
	if err != nil {
		return Schedule{}, fmt.Errorf("Schedule %s: %w", o.ID, err)
	}
	s.Period = p

	startAt, hasStartAt := get("startAt")
	startDateTime, hasStartDateTime := get("startDateTime")
	switch {
	case hasStartAt && hasStartDateTime:
		return Schedule{}, fmt.Errorf("Schedule %s: both startAt and startDateTime are set", o.ID)
	case hasStartDateTime:
		if s.Start, err = expr.ParseDateTime(startDateTime); err != nil {
			return Schedule{}, fmt.Errorf("Schedule %s: startDateTime: %w", o.ID, err)
		}
	case hasStartAt && strings.EqualFold(startAt, StartAtFirstActivation):
		if firstActivation.IsZero() {
			return Schedule{}, fmt.Errorf("Schedule %s: starts at the first activation, which has not happened", o.ID)
		}
		s.Start = firstActivation.UTC().Truncate(time.Second)
	default:
		return Schedule{}, fmt.Errorf("Schedule %s: needs startDateTime or startAt %s", o.ID, StartAtFirstActivation)
	}

	if end, ok := get("endDateTime"); ok {
		if s.End, err = expr.ParseDateTime(end); err != nil {
			return Schedule{}, fmt.Errorf("Schedule %s: endDateTime: %w", o.ID, err)
		}
	}
	if occ, ok := get("occurrences"); ok {
		n, err := strconv.Atoi(occ)
		if err != nil || n <= 0 {
			return Schedule{}, fmt.Errorf("Schedule %s: occurrences %q is not a positive integer", o.ID, occ)
		}
		s.Occurrences = n
	}
	return s, nil
}

// IntervalStart returns the start of interval n, which need not exist
// (see Exists).
func (s Schedule) IntervalStart(n int) time.Time {
	p := s.Period
	// Hours and minutes are folded into whole days and a remainder, so
	// that n×period never overflows a time.Duration (about 292 years).
	// Schedules are in UTC, where a day is always 24 hours.
	minutes := (p.Hours*60 + p.Minutes) * n
	scaled := expr.Period{
		Years: p.Years * n, Months: p.Months * n,
		Days:    (p.Weeks*7+p.Days)*n + minutes/(24*60),
		Minutes: minutes % (24 * 60),
	}
	return scaled.AddTo(s.Start, 1)
}

// Interval returns the bounds of interval n.
func (s Schedule) Interval(n int) (start, end time.Time) {
	return s.IntervalStart(n), s.IntervalStart(n + 1)
}

// Exists reports whether interval n is one of the schedule's: it is not
// negative, within Occurrences, and starts before End.
func (s Schedule) Exists(n int) bool {
	if n < 0 || (s.Occurrences > 0 && n >= s.Occurrences) {
		return false
	}
	return s.End.IsZero() || s.IntervalStart(n).Before(s.End)
}

// Finite reports whether the schedule has a last interval.
func (s Schedule) Finite() bool { return s.Occurrences > 0 || !s.End.IsZero() }

// Count returns the number of intervals of a finite schedule, and -1 for
// an endless one.
func (s Schedule) Count() int {
	if !s.Finite() {
		return -1
	}
	if s.End.IsZero() {
		return s.Occurrences
	}
	n := s.startedBefore(s.End)
	if s.Occurrences > 0 {
		n = min(n, s.Occurrences)
	}
	return n
}

// Eligible returns when interval n may run under scheduleType: a cron
// instance at the start of its interval, a timeseries instance at its end
// (§4.2).
func (s Schedule) Eligible(n int, scheduleType string) time.Time {
	if strings.EqualFold(scheduleType, TypeTimeseries) {
		return s.IntervalStart(n + 1)
	}
	return s.IntervalStart(n)
}

// Due returns how many intervals, counting from the first, are eligible to
// run at now under scheduleType. Intervals past the schedule's end are not
// counted.
func (s Schedule) Due(now time.Time, scheduleType string) int {
	started := s.startedBefore(now.Add(time.Nanosecond)) // intervals starting at or before now
	if strings.EqualFold(scheduleType, TypeTimeseries) {
		// Interval n is eligible when interval n+1 starts.
		started = max(started-1, 0)
	}
	return s.clamp(started)
}

// clamp limits a count of intervals to the ones that exist.
func (s Schedule) clamp(n int) int {
	if c := s.Count(); c >= 0 && n > c {
		return c
	}
	return n
}

// startedBefore returns the number of intervals (ignoring End and
// Occurrences) that start strictly before t, by exponential then binary
// search over the monotonic IntervalStart.
func (s Schedule) startedBefore(t time.Time) int {
	if !s.Start.Before(t) {
		return 0
	}
	if s.Period == (expr.Period{}) { // every interval starts at Start
		return 1
	}
	// IntervalStart(lo) < t <= IntervalStart(hi) once hi is found.
	lo, hi := 0, 1
	for s.IntervalStart(hi).Before(t) {
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if s.IntervalStart(mid).Before(t) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}
