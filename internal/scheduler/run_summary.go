package scheduler

import (
	"time"

	"github.com/culvert/culvert/internal/pipeline"
)

// summarize folds changed instances into the run's summary: a component's
// health comes from its instance that ended last (a failed precondition's
// counts against the component it checks for), its latest run from the
// latest scheduled start of its instances that started, its latest
// completed run from those that finished. Folding is order-independent and
// idempotent, so a restarted Run summarizing every instance at once agrees
// with one that saw them change step by step.
func (r *Run) summarize(changed []*pipeline.Instance) {
	for _, in := range changed {
		comp, health := in.ComponentID, pipeline.HealthOf(in.Status)
		if _, ok := r.Graph.Node(comp); !ok {
			node, ok := r.instances[in.Node]
			if !ok || health != pipeline.HealthError {
				continue // only a precondition's failure tells of its node
			}
			comp = node.ComponentID
		}
		c := r.summary.Components[comp]
		was := c
		if !in.ActualStart.IsZero() && in.ScheduledStart.After(c.LatestRun) {
			c.LatestRun = in.ScheduledStart
		}
		if in.Status.Terminal() && health != "" && !in.ActualEnd.Before(c.HealthUpdated) {
			c.Health, c.HealthUpdated, c.HealthFrom = health, in.ActualEnd, in.ID
		}
		if in.Status == pipeline.StatusFinished && in.ScheduledStart.After(c.LatestCompletedRun) {
			c.LatestCompletedRun = in.ScheduledStart
		}
		if c != was {
			r.setSummary(comp, c)
		}
	}
}

// scheduleNext sets each scheduled component's next run: the scheduled
// start of its first interval not yet eligible at now, none once its
// schedule is exhausted or for an ondemand pipeline.
func (r *Run) scheduleNext(now time.Time) {
	if r.Graph.Ondemand {
		return
	}
	for _, comp := range r.Graph.Components() {
		c := r.summary.Components[comp.ID]
		var next time.Time
		if n := comp.Schedule.Due(now, comp.ScheduleType); comp.Schedule.Exists(n) {
			next = comp.Schedule.IntervalStart(n)
		}
		if !next.Equal(c.NextRun) {
			c.NextRun = next
			r.setSummary(comp.ID, c)
		}
	}
}

func (r *Run) setSummary(comp string, c pipeline.ComponentSummary) {
	if r.summary.Components == nil {
		r.summary.Components = map[string]pipeline.ComponentSummary{}
	}
	r.summary.Components[comp] = c
	r.summaryChanged = true
}

// Summary returns a copy of the run's summary.
func (r *Run) Summary() *pipeline.RunSummary {
	s := &pipeline.RunSummary{Components: make(map[string]pipeline.ComponentSummary, len(r.summary.Components))}
	for k, v := range r.summary.Components {
		s.Components[k] = v
	}
	return s
}
