// Package metrics is a small metrics registry that culvert serves in the
// Prometheus text exposition format (version 0.0.4), so that an operator's
// Prometheus can scrape request counts and latencies without culvert
// depending on the Prometheus client library.
//
// A [Registry] holds metric families: counters ([Registry.Counter]), gauges
// ([Registry.Gauge], [Registry.GaugeFunc]) and histograms
// ([Registry.Histogram]), each with optional labels. Updates sit on every
// API request, so they are atomic operations on values found through a
// lock-free, allocation-free lookup (vec.go); the work of sorting and
// formatting is left to the scrape ([Registry.WriteTo],
// [Registry.Handler]), whose output is deterministic.
//
// Mistakes in registration (an invalid or repeated name, the wrong number
// of label values) are programmer errors and panic, so they surface the
// first time the server starts rather than as a missing series.
//
// The package imports only the standard library (deps_test.go enforces
// this) and knows nothing of culvert's API: the server decides what to
// measure. Tests pin the exact exposition output in metrics_test.go.
package metrics
