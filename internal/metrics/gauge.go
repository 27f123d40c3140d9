package metrics

import (
	"bytes"
	"fmt"
	"math"
	"sync/atomic"
)

// GaugeVec is a gauge family, one [Gauge] per set of label values.
type GaugeVec struct {
	v *vec[Gauge]
}

// Gauge is a value that can go up and down, such as a queue length.
type Gauge struct {
	bits atomic.Uint64 // math.Float64bits of the value
}

// Gauge registers a gauge family. It panics if name or a label name is
// invalid, or if name is already registered.
func (r *Registry) Gauge(name, help string, labelNames ...string) *GaugeVec {
	gv := &GaugeVec{v: newVec(name, labelNames, func() *Gauge { return new(Gauge) })}
	r.register(&family{name: name, help: help, typ: "gauge", write: gv.write}, labelNames, name)
	return gv
}

// With returns the gauge for labelValues, given in the order of the
// family's label names, creating it at zero on first use. It panics if
// the number of values is not the number of label names.
func (gv *GaugeVec) With(labelValues ...string) *Gauge {
	return gv.v.with(labelValues)
}

// Set sets the gauge to v.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Add adds v, which may be negative.
func (g *Gauge) Add(v float64) { addFloat(&g.bits, v) }

// Value returns the current value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

func (gv *GaugeVec) write(b *bytes.Buffer) {
	for _, c := range gv.v.sorted() {
		writeSeries(b, gv.v.name, gv.v.labelNames, c.values, "")
		writeValue(b, c.m.Value())
	}
}

// GaugeFunc registers an unlabelled gauge whose value is fn's result at
// each scrape, for values the server already keeps elsewhere (open
// connections, store pool size) and should not have to mirror. fn must be
// safe to call from any goroutine and should be quick: it runs while the
// scrape waits. It panics if fn is nil, or if name is invalid or already
// registered.
func (r *Registry) GaugeFunc(name, help string, fn func() float64) {
	if fn == nil {
		// Caught here rather than as a failed scrape much later.
		panic(fmt.Sprintf("metrics: %s: GaugeFunc with a nil func", name))
	}
	write := func(b *bytes.Buffer) {
		writeSeries(b, name, nil, nil, "")
		writeValue(b, fn())
	}
	r.register(&family{name: name, help: help, typ: "gauge", write: write}, nil, name)
}
