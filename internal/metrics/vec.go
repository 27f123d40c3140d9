package metrics

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// vec maps label values to the metric M holding their value.
//
// With is on the request path, so lookups take no lock and allocate
// nothing: the map is immutable once published, and a new label set copies
// it under mu and publishes the copy. That makes adding the n-th label set
// O(n), which is cheap for the bounded label sets metrics should have
// (operations × status codes) and is paid once per label set.
type vec[M any] struct {
	name       string
	labelNames []string
	newMetric  func() *M
	mu         sync.Mutex // serialises inserts
	children   atomic.Pointer[map[string]child[M]]
}

type child[M any] struct {
	values []string
	m      *M
}

func newVec[M any](name string, labelNames []string, newMetric func() *M) *vec[M] {
	v := &vec[M]{name: name, labelNames: slices.Clone(labelNames), newMetric: newMetric}
	v.children.Store(&map[string]child[M]{})
	if len(labelNames) == 0 {
		// An unlabelled metric exists from the start, so it is scraped
		// as 0 rather than absent until first used.
		v.with(nil)
	}
	return v
}

// with returns the metric for values, creating it on first use.
func (v *vec[M]) with(values []string) *M {
	if len(values) != len(v.labelNames) {
		// The clone keeps values, usually the caller's variadic slice,
		// from escaping to the heap on every call.
		panic(fmt.Sprintf("metrics: %s: got %d label values %q, want %d for labels %q",
			v.name, len(values), slices.Clone(values), len(v.labelNames), v.labelNames))
	}
	var buf [128]byte
	key := appendKey(buf[:0], values)
	// The string(key) conversion in a map index does not allocate.
	if c, ok := (*v.children.Load())[string(key)]; ok {
		return c.m
	}
	return v.insert(string(key), values)
}

func (v *vec[M]) insert(key string, values []string) *M {
	v.mu.Lock()
	defer v.mu.Unlock()
	old := *v.children.Load()
	if c, ok := old[key]; ok {
		return c.m // another goroutine inserted it first
	}
	next := maps.Clone(old)
	// Cloned because the caller's strings may share memory with a
	// request that should not be pinned for the life of the process.
	vals := make([]string, len(values))
	for i, s := range values {
		vals[i] = strings.Clone(s)
	}
	c := child[M]{values: vals, m: v.newMetric()}
	next[key] = c
	v.children.Store(&next)
	return c.m
}

// appendKey encodes values unambiguously: each is preceded by its length,
// so no choice of separator can make two label sets collide.
func appendKey(b []byte, values []string) []byte {
	for _, s := range values {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// sorted returns the children ordered by label values, for a
// deterministic scrape.
func (v *vec[M]) sorted() []child[M] {
	m := *v.children.Load()
	cs := make([]child[M], 0, len(m))
	for _, c := range m {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b child[M]) int { return slices.Compare(a.values, b.values) })
	return cs
}
