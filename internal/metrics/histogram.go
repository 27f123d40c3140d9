package metrics

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync/atomic"
)

// DefaultBuckets are upper bounds, in seconds, for API request latency:
// from a cached read (a millisecond) to a large PutPipelineDefinition on a
// slow store (tens of seconds). [Registry.Histogram] copies the buckets it
// is given, so this slice is never changed by the package; callers must not
// change it either.
var DefaultBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// HistogramVec is a histogram family, one [Histogram] per set of label
// values.
type HistogramVec struct {
	v     *vec[Histogram]
	upper []float64 // bucket upper bounds, increasing, without +Inf
	le    []string  // upper formatted for the le label
	// The three sample names, built once rather than at every scrape.
	bucket, sum, count string
}

// Histogram counts observations, such as request durations, into buckets.
type Histogram struct {
	upper []float64
	// counts[i] is the number of observations in (upper[i-1], upper[i]];
	// the last is the +Inf bucket. Counting per bucket rather than
	// cumulatively makes an observation one atomic add, and makes the
	// scrape's _count always equal to its +Inf bucket.
	counts []atomic.Uint64
	sum    atomic.Uint64 // math.Float64bits of the sum of observations
}

// Histogram registers a histogram family with the given bucket upper
// bounds, to which +Inf is added; [DefaultBuckets] suits request latency
// in seconds. It panics if name or a label name is invalid, if a label is
// named "le", if the buckets are not strictly increasing or contain NaN,
// or if name or the names of its samples (name_bucket, name_sum,
// name_count) are already registered.
func (r *Registry) Histogram(name, help string, buckets []float64, labelNames ...string) *HistogramVec {
	upper := slices.Clone(buckets)
	if n := len(upper); n > 0 && math.IsInf(upper[n-1], 1) {
		upper = upper[:n-1]
	}
	le := make([]string, len(upper))
	for i, u := range upper {
		if math.IsNaN(u) || math.IsInf(u, 1) || (i > 0 && u <= upper[i-1]) {
			panic(fmt.Sprintf("metrics: %s: buckets %v are not strictly increasing", name, buckets))
		}
		le[i] = string(appendFloat(nil, u))
	}
	if slices.Contains(labelNames, "le") {
		panic(fmt.Sprintf("metrics: %s: label name \"le\" is reserved for histogram buckets", name))
	}
	hv := &HistogramVec{
		upper:  upper,
		le:     le,
		bucket: name + "_bucket",
		sum:    name + "_sum",
		count:  name + "_count",
	}
	hv.v = newVec(name, labelNames, func() *Histogram {
		return &Histogram{upper: upper, counts: make([]atomic.Uint64, len(upper)+1)}
	})
	r.register(&family{name: name, help: help, typ: "histogram", write: hv.write},
		labelNames, name, hv.bucket, hv.sum, hv.count)
	return hv
}

// With returns the histogram for labelValues, given in the order of the
// family's label names, creating it empty on first use. It panics if the
// number of values is not the number of label names.
func (hv *HistogramVec) With(labelValues ...string) *Histogram {
	return hv.v.with(labelValues)
}

// Observe records v. NaN is counted in the +Inf bucket, as the
// Prometheus client libraries do.
func (h *Histogram) Observe(v float64) {
	h.counts[sort.SearchFloat64s(h.upper, v)].Add(1)
	addFloat(&h.sum, v)
}

func (hv *HistogramVec) write(b *bytes.Buffer) {
	for _, c := range hv.v.sorted() {
		var cum uint64
		for i, le := range hv.le {
			cum += c.m.counts[i].Load()
			writeSeries(b, hv.bucket, hv.v.labelNames, c.values, le)
			writeCount(b, cum)
		}
		cum += c.m.counts[len(hv.le)].Load()
		writeSeries(b, hv.bucket, hv.v.labelNames, c.values, "+Inf")
		writeCount(b, cum)
		writeSeries(b, hv.sum, hv.v.labelNames, c.values, "")
		writeValue(b, math.Float64frombits(c.m.sum.Load()))
		writeSeries(b, hv.count, hv.v.labelNames, c.values, "")
		writeCount(b, cum)
	}
}
