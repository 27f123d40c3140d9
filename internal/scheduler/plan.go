package scheduler

import (
	"time"

	"github.com/culvert/culvert/internal/expr"
	"github.com/culvert/culvert/internal/pipeline"
)

// Component is a scheduled component of an active definition, as the
// planner sees it.
type Component struct {
	ID       string
	Schedule Schedule
	// ScheduleType is cron or timeseries; it moves when an instance may
	// run, not which instances exist.
	ScheduleType string
	// Resource components (Ec2Resource, EmrCluster) are created at the
	// start of their interval whatever the schedule type (§4.2).
	Resource bool
}

// Instance is an instance the planner decided to create.
type Instance struct {
	ID          string // "@" + component id + "_" + scheduled start (§4.4)
	ComponentID string
	N           int // interval index within the component's schedule
	Start, End  time.Time
	// Eligible is when the instance may run, dependencies permitting.
	Eligible time.Time
	Status   pipeline.Status
}

// InstanceID returns the id AWS gives the instance of component id whose
// interval starts at start: @SayHello_2012-12-12T00:00:00.
func InstanceID(componentID string, start time.Time) string {
	return "@" + componentID + "_" + start.UTC().Format(expr.DateTimeLayout)
}

// PlanInput is everything Plan decides from.
type PlanInput struct {
	Components []Component
	// Created maps a component id to the number of its intervals that
	// already have an instance: intervals are created in order, so this
	// one number is the component's whole creation state.
	Created map[string]int
	Now     time.Time
	// SkipBefore, when not zero, is the startTimestamp of an activation:
	// intervals starting before it are created SKIPPED rather than run.
	SkipBefore time.Time
	// Ahead is how long before its eligibility an instance is created
	// ("slightly ahead of schedule, but run on schedule").
	Ahead time.Duration
	// MaxCreate, when positive, bounds the instances of one plan, so that
	// a long backfill is persisted in several bounded transactions.
	MaxCreate int
}

// Plan is what Plan decided.
type Plan struct {
	// Create lists the instances to create, component by component in
	// input order and interval order within a component.
	Create []Instance
	// Wake is when planning has something to do next: zero when every
	// schedule is exhausted, Now when MaxCreate cut the plan short.
	Wake time.Time
}

// PlanInstances decides which instances to create at in.Now. It is a pure function:
// the same input always gives the same plan, and applying a plan then
// planning again with the updated Created map creates nothing twice, which
// is what lets a restarted scheduler resume without duplicating or losing
// an instance.
func PlanInstances(in PlanInput) Plan {
	var out Plan
	budget := in.MaxCreate
	// Sizing the result first halves a long backfill's allocation.
	size := 0
	for _, c := range in.Components {
		size += max(0, c.Schedule.Due(in.Now.Add(in.Ahead), c.ScheduleType)-in.Created[c.ID])
	}
	if in.MaxCreate > 0 {
		size = min(size, in.MaxCreate)
	}
	out.Create = make([]Instance, 0, size)
	for _, c := range in.Components {
		n := in.Created[c.ID]
		for c.Schedule.Exists(n) {
			eligible := c.eligible(n)
			if eligible.Add(-in.Ahead).After(in.Now) {
				out.Wake = earliest(out.Wake, eligible.Add(-in.Ahead))
				break
			}
			if in.MaxCreate > 0 && budget == 0 {
				out.Wake = in.Now
				break
			}
			start, end := c.Schedule.Interval(n)
			status := pipeline.StatusWaitingOnDependencies
			if !in.SkipBefore.IsZero() && start.Before(in.SkipBefore) {
				status = pipeline.StatusSkipped
			}
			out.Create = append(out.Create, Instance{
				ID: InstanceID(c.ID, start), ComponentID: c.ID, N: n,
				Start: start, End: end, Eligible: eligible, Status: status,
			})
			budget--
			n++
		}
	}
	return out
}

func (c Component) eligible(n int) time.Time {
	if c.Resource {
		return c.Schedule.IntervalStart(n)
	}
	return c.Schedule.Eligible(n, c.ScheduleType)
}

// earliest returns the earlier of two wake-up times, where zero means
// none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
