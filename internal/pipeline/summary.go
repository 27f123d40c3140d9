package pipeline

import "time"

// Health values of @healthStatus (§5.6).
const (
	HealthHealthy = "HEALTHY"
	HealthError   = "ERROR"
)

// ComponentSummary is what a pipeline's run says of one component: its
// health, from the latest of its instances to end (§5.6), and its
// scheduling bookkeeping (§3.2: @latestRunTime, @latestCompletedRunTime,
// @nextRunTime, as scheduled start times). Zero values are unknown.
type ComponentSummary struct {
	Health             string    `json:"health,omitempty"`
	HealthUpdated      time.Time `json:"healthUpdated,omitzero"`
	HealthFrom         string    `json:"healthFrom,omitempty"` // the instance that set Health
	LatestRun          time.Time `json:"latestRun,omitzero"`
	LatestCompletedRun time.Time `json:"latestCompletedRun,omitzero"`
	NextRun            time.Time `json:"nextRun,omitzero"`
}

// RunSummary is what a pipeline's run says of each component, kept with
// the pipeline so that DescribePipelines and DescribeObjects show health
// and run times without reading the run.
type RunSummary struct {
	Components map[string]ComponentSummary `json:"components,omitempty"`
}

// Pipeline returns the pipeline's own summary: ERROR if any component is
// in error, else HEALTHY if any is healthy (§5.6), from the component whose
// health changed last; the latest runs and the next run of any component.
func (s *RunSummary) Pipeline() ComponentSummary {
	var p ComponentSummary
	var errorAt, healthyAt time.Time
	var errorFrom, healthyFrom string
	for _, c := range s.Components {
		switch {
		case c.Health == HealthError && !c.HealthUpdated.Before(errorAt):
			errorAt, errorFrom = c.HealthUpdated, c.HealthFrom
		case c.Health == HealthHealthy && !c.HealthUpdated.Before(healthyAt):
			healthyAt, healthyFrom = c.HealthUpdated, c.HealthFrom
		}
		if c.LatestRun.After(p.LatestRun) {
			p.LatestRun = c.LatestRun
		}
		if c.LatestCompletedRun.After(p.LatestCompletedRun) {
			p.LatestCompletedRun = c.LatestCompletedRun
		}
		if !c.NextRun.IsZero() && (p.NextRun.IsZero() || c.NextRun.Before(p.NextRun)) {
			p.NextRun = c.NextRun
		}
	}
	switch {
	case errorFrom != "":
		p.Health, p.HealthUpdated, p.HealthFrom = HealthError, errorAt, errorFrom
	case healthyFrom != "":
		p.Health, p.HealthUpdated, p.HealthFrom = HealthHealthy, healthyAt, healthyFrom
	}
	return p
}

// Fields returns the summary as the runtime fields DescribePipelines and
// DescribeObjects show, leaving out what is unknown.
func (c ComponentSummary) Fields() []Field {
	var fs []Field
	fs = appendString(fs, "@healthStatus", c.Health)
	fs = appendTime(fs, "@healthStatusUpdatedTime", c.HealthUpdated)
	fs = appendString(fs, "@healthStatusFromInstanceId", c.HealthFrom)
	fs = appendTime(fs, "@latestRunTime", c.LatestRun)
	fs = appendTime(fs, "@latestCompletedRunTime", c.LatestCompletedRun)
	return appendTime(fs, "@nextRunTime", c.NextRun)
}

// HealthOf returns the health an instance ending with status gives its
// component (§5.6), or "" for an ending that says nothing of it (SKIPPED).
func HealthOf(s Status) string {
	switch s {
	case StatusFinished:
		return HealthHealthy
	case StatusFailed, StatusCascadeFailed, StatusTimedOut, StatusCanceled:
		return HealthError
	}
	return ""
}
