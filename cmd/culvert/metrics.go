package main

import (
	"time"

	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/leader"
	"github.com/culvert/culvert/internal/metrics"
)

// newMetrics returns the registry GET /metrics serves: the API's requests
// by operation and outcome, and leadership, which an operator of several
// nodes alerts on (exactly one node must lead).
func newMetrics(api *awsjson.Handler, elector *leader.Elector, storeKind string) *metrics.Registry {
	reg := metrics.NewRegistry()
	requests := reg.Counter("culvert_api_requests_total",
		"API requests answered, by operation (empty when the request named none) and AWS error code (empty on success).",
		"operation", "code")
	latency := reg.Histogram("culvert_api_request_duration_seconds",
		"Time to answer an API request, by operation; PollForTask includes its long-poll wait.",
		metrics.DefaultBuckets, "operation")
	api.Observe = func(op string, status int, code string, d time.Duration) {
		requests.With(op, code).Inc()
		latency.With(op).Observe(d.Seconds())
	}
	reg.Gauge("culvert_info", "Always 1; its labels say which build and store the node runs.", "version", "store").
		With(version, storeKind).Set(1)
	reg.GaugeFunc("culvert_leader", "1 while this node leads (runs the scheduler, reaps leases, delivers alarms), else 0.", func() float64 {
		if elector.Status().Leader {
			return 1
		}
		return 0
	})
	reg.GaugeFunc("culvert_leader_term", "The term of the leader lease as this node last saw it.", func() float64 {
		return float64(elector.Status().Term)
	})
	reg.GaugeFunc("culvert_leader_changes", "Hand-overs of the leader lease this node has seen since it started.", func() float64 {
		return float64(elector.Status().Changes)
	})
	return reg
}
