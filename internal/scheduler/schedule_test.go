package scheduler

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/expr"
	"github.com/culvert/culvert/internal/pipeline"
)

func at(s string) time.Time {
	t, err := expr.ParseDateTime(s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustSchedule(t *testing.T, activation time.Time, fields ...pipeline.Field) Schedule {
	t.Helper()
	o := pipeline.Object{ID: "S", Name: "S", Fields: append([]pipeline.Field{pipeline.String("type", "Schedule")}, fields...)}
	s, err := FromObject(&o, activation)
	if err != nil {
		t.Fatalf("FromObject: %v", err)
	}
	return s
}

func TestIntervalStart(t *testing.T) {
	t.Parallel()
	str := pipeline.String
	tests := []struct {
		name   string
		sched  Schedule
		starts []string
	}{
		{"hourly", mustSchedule(t, time.Time{}, str("period", "1 hour"), str("startDateTime", "2026-01-01T00:00:00")),
			[]string{"2026-01-01T00:00:00", "2026-01-01T01:00:00", "2026-01-01T02:00:00"}},
		{"15 minutes across midnight", mustSchedule(t, time.Time{}, str("period", "15 Minutes"), str("startDateTime", "2026-01-01T23:30:00")),
			[]string{"2026-01-01T23:30:00", "2026-01-01T23:45:00", "2026-01-02T00:00:00", "2026-01-02T00:15:00"}},
		// Each start is counted from the first, so the day does not stay
		// clamped after a short month.
		{"monthly from the 31st", mustSchedule(t, time.Time{}, str("period", "1 month"), str("startDateTime", "2026-01-31T06:00:00")),
			[]string{"2026-01-31T06:00:00", "2026-02-28T06:00:00", "2026-03-31T06:00:00", "2026-04-30T06:00:00"}},
		{"yearly from a leap day", mustSchedule(t, time.Time{}, str("period", "1 year"), str("startDateTime", "2024-02-29T00:00:00")),
			[]string{"2024-02-29T00:00:00", "2025-02-28T00:00:00", "2026-02-28T00:00:00", "2027-02-28T00:00:00", "2028-02-29T00:00:00"}},
		{"weekly", mustSchedule(t, time.Time{}, str("period", "2 weeks"), str("startDateTime", "2026-12-21T00:00:00")),
			[]string{"2026-12-21T00:00:00", "2027-01-04T00:00:00"}},
		{"first activation, to the second", mustSchedule(t, at("2015-07-29T01:06:17").Add(700*time.Millisecond),
			str("period", "1 day"), str("startAt", "FIRST_ACTIVATION_DATE_TIME")),
			[]string{"2015-07-29T01:06:17", "2015-07-30T01:06:17"}},
	}
	for _, tc := range tests {
		for n, want := range tc.starts {
			if got := tc.sched.IntervalStart(n).Format(expr.DateTimeLayout); got != want {
				t.Errorf("%s: IntervalStart(%d) = %s, want %s", tc.name, n, got, want)
			}
		}
		start, end := tc.sched.Interval(1)
		if !start.Equal(tc.sched.IntervalStart(1)) || !end.Equal(tc.sched.IntervalStart(2)) {
			t.Errorf("%s: Interval(1) = [%v, %v), want the starts of 1 and 2", tc.name, start, end)
		}
	}
}

func TestDue(t *testing.T) {
	t.Parallel()
	str := pipeline.String
	hourly := mustSchedule(t, time.Time{}, str("period", "1 hour"), str("startDateTime", "2026-01-01T00:00:00"))
	three := mustSchedule(t, time.Time{}, str("period", "1 hour"), str("startDateTime", "2026-01-01T00:00:00"), str("occurrences", "3"))
	until := mustSchedule(t, time.Time{}, str("period", "1 hour"), str("startDateTime", "2026-01-01T00:00:00"), str("endDateTime", "2026-01-01T03:00:00"))
	year := mustSchedule(t, time.Time{}, str("period", "15 minutes"), str("startDateTime", "2025-01-01T00:00:00"))
	old := mustSchedule(t, time.Time{}, str("period", "15 minutes"), str("startDateTime", "1900-01-01T00:00:00"))
	tests := []struct {
		name          string
		sched         Schedule
		now           string
		cron, timeser int
	}{
		{"before the start", hourly, "2025-12-31T23:59:59", 0, 0},
		{"at the start", hourly, "2026-01-01T00:00:00", 1, 0},
		{"inside the first interval", hourly, "2026-01-01T00:59:59", 1, 0},
		{"at the second start", hourly, "2026-01-01T01:00:00", 2, 1},
		{"mid-morning", hourly, "2026-01-01T02:30:00", 3, 2},
		{"occurrences bound", three, "2026-02-01T00:00:00", 3, 3},
		{"occurrences, early", three, "2026-01-01T01:30:00", 2, 1},
		{"endDateTime bound (starts before it)", until, "2026-02-01T00:00:00", 3, 3},
		{"a year of 15 minutes", year, "2026-01-01T00:00:00", 365*96 + 1, 365 * 96},
		// 126 years of 15-minute intervals is more minutes than a Duration
		// holds as nanoseconds.
		{"since 1900", old, "2026-01-01T00:00:00", int(at("2026-01-01T00:00:00").Sub(at("1900-01-01T00:00:00"))/(15*time.Minute)) + 1, int(at("2026-01-01T00:00:00").Sub(at("1900-01-01T00:00:00")) / (15 * time.Minute))},
	}
	for _, tc := range tests {
		now := at(tc.now)
		if got := tc.sched.Due(now, TypeCron); got != tc.cron {
			t.Errorf("%s: Due(cron) = %d, want %d", tc.name, got, tc.cron)
		}
		if got := tc.sched.Due(now, TypeTimeseries); got != tc.timeser {
			t.Errorf("%s: Due(timeseries) = %d, want %d", tc.name, got, tc.timeser)
		}
	}
	if got := until.Count(); got != 3 {
		t.Errorf("endDateTime 03:00 hourly from 00:00: Count = %d, want 3", got)
	}
	if got := hourly.Count(); got != -1 {
		t.Errorf("endless schedule: Count = %d, want -1", got)
	}
	if until.Exists(3) || !until.Exists(2) || three.Exists(3) || hourly.Exists(-1) || !hourly.Exists(1e6) {
		t.Error("Exists disagrees with the schedule's bounds")
	}
	if got, want := hourly.Eligible(2, TypeTimeseries), at("2026-01-01T03:00:00"); !got.Equal(want) {
		t.Errorf("Eligible(2, timeseries) = %v, want %v", got, want)
	}
	if got, want := hourly.Eligible(2, TypeCron), at("2026-01-01T02:00:00"); !got.Equal(want) {
		t.Errorf("Eligible(2, cron) = %v, want %v", got, want)
	}
}

// TestDueMatchesScan checks the search against counting interval by
// interval, over random calendar schedules.
func TestDueMatchesScan(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	units := []string{"minutes", "hours", "days", "weeks", "months", "years"}
	for range 300 {
		unit := units[rng.IntN(len(units))]
		n := 1 + rng.IntN(40)
		if unit == "minutes" {
			n = 15 + rng.IntN(60)
		}
		start := at("2020-01-01T00:00:00").Add(time.Duration(rng.IntN(4*365*24*60)) * time.Minute)
		s := mustSchedule(t, time.Time{}, pipeline.String("period", strings.Join([]string{itoa(n), unit}, " ")),
			pipeline.String("startDateTime", start.Format(expr.DateTimeLayout)))
		now := start.Add(time.Duration(rng.IntN(200*24*60)) * time.Minute)
		scan := 0
		for !s.IntervalStart(scan).After(now) {
			scan++
		}
		if got := s.Due(now, TypeCron); got != scan {
			t.Fatalf("period %s from %v at %v: Due = %d, scan = %d", s.Period, start, now, got, scan)
		}
	}
}

func itoa(n int) string { return expr.Integer(int64(n)).String() }

func TestFromObjectErrors(t *testing.T) {
	t.Parallel()
	str := pipeline.String
	tests := []struct {
		name   string
		fields []pipeline.Field
		want   string
	}{
		{"not a schedule", []pipeline.Field{str("type", "Ec2Resource")}, "not a Schedule"},
		{"bad period", []pipeline.Field{str("type", "Schedule"), str("period", "soon"), str("startDateTime", "2026-01-01T00:00:00")}, "period"},
		{"no start", []pipeline.Field{str("type", "Schedule"), str("period", "1 hour")}, "needs startDateTime"},
		{"both starts", []pipeline.Field{str("type", "Schedule"), str("period", "1 hour"), str("startDateTime", "2026-01-01T00:00:00"), str("startAt", "FIRST_ACTIVATION_DATE_TIME")}, "both"},
		{"bad start", []pipeline.Field{str("type", "Schedule"), str("period", "1 hour"), str("startDateTime", "2026-01-01")}, "startDateTime"},
		{"not yet activated", []pipeline.Field{str("type", "Schedule"), str("period", "1 hour"), str("startAt", "FIRST_ACTIVATION_DATE_TIME")}, "first activation"},
		{"bad end", []pipeline.Field{str("type", "Schedule"), str("period", "1 hour"), str("startDateTime", "2026-01-01T00:00:00"), str("endDateTime", "later")}, "endDateTime"},
		{"bad occurrences", []pipeline.Field{str("type", "Schedule"), str("period", "1 hour"), str("startDateTime", "2026-01-01T00:00:00"), str("occurrences", "0")}, "occurrences"},
	}
	for _, tc := range tests {
		o := pipeline.Object{ID: "S", Name: "S", Fields: tc.fields}
		_, err := FromObject(&o, time.Time{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	o := pipeline.Object{ID: "R", Fields: []pipeline.Field{str("type", "Ec2Resource")}}
	if _, err := FromObject(&o, time.Time{}); !errors.Is(err, ErrNotSchedule) {
		t.Errorf("FromObject(Ec2Resource) = %v, want ErrNotSchedule", err)
	}
}

func BenchmarkDueYearOf15Minutes(b *testing.B) {
	s := Schedule{Start: at("2025-01-01T00:00:00"), Period: expr.Period{Minutes: 15}}
	now := at("2026-01-01T00:00:00")
	for b.Loop() {
		s.Due(now, TypeCron)
	}
}
