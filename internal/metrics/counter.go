package metrics

import (
	"bytes"
	"fmt"
	"math"
	"sync/atomic"
)

// CounterVec is a counter family, one [Counter] per set of label values.
type CounterVec struct {
	v *vec[Counter]
}

// Counter is a value that only goes up, such as a number of requests.
type Counter struct {
	// Whole increments, the common case, are a single atomic add to n;
	// only fractional ones pay for a compare-and-swap loop on bits.
	n    atomic.Uint64
	bits atomic.Uint64 // math.Float64bits of the sum of the rest
}

// Counter registers a counter family. By convention its name ends in
// _total. It panics if name or a label name is invalid, or if name is
// already registered.
func (r *Registry) Counter(name, help string, labelNames ...string) *CounterVec {
	cv := &CounterVec{v: newVec(name, labelNames, func() *Counter { return new(Counter) })}
	r.register(&family{name: name, help: help, typ: "counter", write: cv.write}, labelNames, name)
	return cv
}

// With returns the counter for labelValues, given in the order of the
// family's label names, creating it at zero on first use. It panics if
// the number of values is not the number of label names.
func (cv *CounterVec) With(labelValues ...string) *Counter {
	return cv.v.with(labelValues)
}

// Inc adds 1.
func (c *Counter) Inc() { c.n.Add(1) }

// Add adds v. It panics if v is negative or NaN: a counter that goes down
// reads as a restart to Prometheus.
func (c *Counter) Add(v float64) {
	if !(v >= 0) {
		panic(fmt.Sprintf("metrics: Counter.Add(%v): counters only go up", v))
	}
	if n := uint64(v); float64(n) == v {
		c.n.Add(n)
		return
	}
	addFloat(&c.bits, v)
}

// Value returns the current value.
func (c *Counter) Value() float64 {
	return float64(c.n.Load()) + math.Float64frombits(c.bits.Load())
}

func (cv *CounterVec) write(b *bytes.Buffer) {
	for _, c := range cv.v.sorted() {
		writeSeries(b, cv.v.name, cv.v.labelNames, c.values, "")
		if f := math.Float64frombits(c.m.bits.Load()); f != 0 {
			writeValue(b, float64(c.m.n.Load())+f)
		} else {
			writeCount(b, c.m.n.Load())
		}
	}
}

// addFloat adds v to the float64 whose bits are in p.
func addFloat(p *atomic.Uint64, v float64) {
	for {
		old := p.Load()
		if p.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}
