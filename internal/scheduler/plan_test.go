package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/expr"
)

func hourlyFrom(start string) Schedule {
	return Schedule{Start: at(start), Period: expr.Period{Hours: 1}}
}

// ids renders a plan's instances as "id status" for compact comparison.
func ids(p Plan) []string {
	var out []string
	for _, in := range p.Create {
		out = append(out, in.ID+" "+string(in.Status))
	}
	return out
}

func TestPlanInstances(t *testing.T) {
	t.Parallel()
	act := Component{ID: "Act", Schedule: hourlyFrom("2026-01-01T00:00:00"), ScheduleType: TypeCron}
	ts := Component{ID: "Ts", Schedule: hourlyFrom("2026-01-01T00:00:00"), ScheduleType: TypeTimeseries}
	res := Component{ID: "Res", Schedule: hourlyFrom("2026-01-01T00:00:00"), ScheduleType: TypeTimeseries, Resource: true}
	three := Component{ID: "Three", Schedule: Schedule{Start: at("2026-01-01T00:00:00"), Period: expr.Period{Hours: 1}, Occurrences: 3}, ScheduleType: TypeCron}

	tests := []struct {
		name     string
		in       PlanInput
		want     []string
		wantWake string // "" for zero
	}{
		{
			name:     "backfill of a cron schedule, then the next start",
			in:       PlanInput{Components: []Component{act}, Now: at("2026-01-01T02:30:00")},
			want:     []string{"@Act_2026-01-01T00:00:00 WAITING_ON_DEPENDENCIES", "@Act_2026-01-01T01:00:00 WAITING_ON_DEPENDENCIES", "@Act_2026-01-01T02:00:00 WAITING_ON_DEPENDENCIES"},
			wantWake: "2026-01-01T03:00:00",
		},
		{
			name:     "created ahead of time",
			in:       PlanInput{Components: []Component{act}, Now: at("2026-01-01T02:55:00"), Ahead: 5 * time.Minute, Created: map[string]int{"Act": 3}},
			want:     []string{"@Act_2026-01-01T03:00:00 WAITING_ON_DEPENDENCIES"},
			wantWake: "2026-01-01T03:55:00",
		},
		{
			name:     "timeseries waits for the end of the interval; its resource does not",
			in:       PlanInput{Components: []Component{ts, res}, Now: at("2026-01-01T00:30:00")},
			want:     []string{"@Res_2026-01-01T00:00:00 WAITING_ON_DEPENDENCIES"},
			wantWake: "2026-01-01T01:00:00",
		},
		{
			name:     "nothing twice: what was created is not planned again",
			in:       PlanInput{Components: []Component{act}, Now: at("2026-01-01T02:30:00"), Created: map[string]int{"Act": 3}},
			wantWake: "2026-01-01T03:00:00",
		},
		{
			name: "a finite schedule ends, and nothing wakes",
			in:   PlanInput{Components: []Component{three}, Now: at("2026-02-01T00:00:00"), Created: map[string]int{"Three": 1}},
			want: []string{"@Three_2026-01-01T01:00:00 WAITING_ON_DEPENDENCIES", "@Three_2026-01-01T02:00:00 WAITING_ON_DEPENDENCIES"},
		},
		{
			name:     "an activation's start timestamp skips earlier intervals",
			in:       PlanInput{Components: []Component{act}, Now: at("2026-01-01T02:30:00"), SkipBefore: at("2026-01-01T01:30:00")},
			want:     []string{"@Act_2026-01-01T00:00:00 SKIPPED", "@Act_2026-01-01T01:00:00 SKIPPED", "@Act_2026-01-01T02:00:00 WAITING_ON_DEPENDENCIES"},
			wantWake: "2026-01-01T03:00:00",
		},
		{
			name:     "a bounded plan wakes at once to go on",
			in:       PlanInput{Components: []Component{act, three}, Now: at("2026-01-01T02:30:00"), MaxCreate: 4},
			want:     []string{"@Act_2026-01-01T00:00:00 WAITING_ON_DEPENDENCIES", "@Act_2026-01-01T01:00:00 WAITING_ON_DEPENDENCIES", "@Act_2026-01-01T02:00:00 WAITING_ON_DEPENDENCIES", "@Three_2026-01-01T00:00:00 WAITING_ON_DEPENDENCIES"},
			wantWake: "2026-01-01T02:30:00",
		},
		{
			name:     "before the start",
			in:       PlanInput{Components: []Component{act}, Now: at("2025-12-31T00:00:00")},
			wantWake: "2026-01-01T00:00:00",
		},
	}
	for _, tc := range tests {
		got := PlanInstances(tc.in)
		if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
			t.Errorf("%s: instances (-want +got):\n%s", tc.name, diff)
		}
		wake := ""
		if !got.Wake.IsZero() {
			wake = got.Wake.Format(expr.DateTimeLayout)
		}
		if wake != tc.wantWake {
			t.Errorf("%s: Wake = %q, want %q", tc.name, wake, tc.wantWake)
		}
	}
}

// TestPlanInstancesResumes applies bounded plans one after another, as the
// scheduler loop and a restart would, and checks that together they create
// exactly the instances of one unbounded plan.
func TestPlanInstancesResumes(t *testing.T) {
	t.Parallel()
	comps := []Component{
		{ID: "A", Schedule: Schedule{Start: at("2026-01-01T00:00:00"), Period: expr.Period{Minutes: 15}}, ScheduleType: TypeCron},
		{ID: "B", Schedule: Schedule{Start: at("2026-01-01T00:00:00"), Period: expr.Period{Months: 1}}, ScheduleType: TypeTimeseries},
	}
	now := at("2026-03-01T00:00:00")
	all := PlanInstances(PlanInput{Components: comps, Now: now})
	created := map[string]int{}
	var pieces []Instance
	for range 10000 {
		p := PlanInstances(PlanInput{Components: comps, Now: now, Created: created, MaxCreate: 97})
		for _, in := range p.Create {
			if in.N != created[in.ComponentID] {
				t.Fatalf("%s created out of order: interval %d, expected %d", in.ID, in.N, created[in.ComponentID])
			}
			created[in.ComponentID]++
		}
		pieces = append(pieces, p.Create...)
		if !p.Wake.Equal(now) {
			break
		}
	}
	// A: every quarter hour from Jan 1 to Mar 1 inclusive; B: January and
	// February, which have ended.
	if want := 59*96 + 1 + 2; len(all.Create) != want {
		t.Errorf("unbounded plan created %d instances, want %d", len(all.Create), want)
	}
	count := func(is []Instance) map[string]int {
		m := map[string]int{}
		for _, in := range is {
			m[in.ID]++
		}
		return m
	}
	if diff := cmp.Diff(count(all.Create), count(pieces)); diff != "" {
		t.Errorf("bounded plans differ from one plan (-one +bounded):\n%s", diff)
	}
}

// BenchmarkPlanYearBackfill plans a year of a 15-minute schedule for ten
// activities: 350,400 instances, the scheduler benchmark's shape.
func BenchmarkPlanYearBackfill(b *testing.B) {
	var comps []Component
	for i := range 10 {
		comps = append(comps, Component{ID: fmt.Sprintf("Act%d", i),
			Schedule: Schedule{Start: at("2025-01-01T00:00:00"), Period: expr.Period{Minutes: 15}}, ScheduleType: TypeCron})
	}
	now := at("2025-12-31T23:59:59")
	for b.Loop() {
		p := PlanInstances(PlanInput{Components: comps, Now: now})
		if len(p.Create) != 350400 {
			b.Fatalf("planned %d instances", len(p.Create))
		}
	}
}

func TestEarliest(t *testing.T) {
	t.Parallel()
	a, b := at("2026-01-01T00:00:00"), at("2026-01-01T01:00:00")
	var none time.Time
	for _, tc := range []struct{ x, y, want time.Time }{
		{a, b, a}, {b, a, a}, {a, none, a}, {none, b, b}, {none, none, none},
	} {
		if got := earliest(tc.x, tc.y); !got.Equal(tc.want) {
			t.Errorf("earliest(%v, %v) = %v, want %v (zero is no wake-up)", tc.x, tc.y, got, tc.want)
		}
	}
}
