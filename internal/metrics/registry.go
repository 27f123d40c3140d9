package metrics

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ContentType is the media type of the text exposition format that
// [Registry.WriteTo] writes.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Registry is a set of metric families. Its methods are safe for
// concurrent use; registration is expected at startup, updates at any
// time, and scrapes from any number of goroutines.
type Registry struct {
	mu sync.Mutex
	// families is sorted by name and replaced, never modified, on
	// registration, so a scrape can take it and write without the lock.
	families []*family
	// names holds every sample name written by a registered family, so a
	// counter "x_count" cannot silently collide with a histogram "x".
	names map[string]bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{names: map[string]bool{}}
}

// family is one metric family: its # HELP and # TYPE lines and whatever
// writes its samples.
type family struct {
	name, help, typ string
	write           func(b *bytes.Buffer)
}

// register adds a family, panicking if its name, any of the sample names
// it writes, or its label names are invalid or already taken.
func (r *Registry) register(f *family, labelNames []string, sampleNames ...string) {
	if !validName(f.name, true) {
		panic(fmt.Sprintf("metrics: invalid metric name %q: want [a-zA-Z_:][a-zA-Z0-9_:]*", f.name))
	}
	for i, l := range labelNames {
		if !validName(l, false) || strings.HasPrefix(l, "__") {
			panic(fmt.Sprintf("metrics: %s: invalid label name %q: want [a-zA-Z_][a-zA-Z0-9_]* not starting with __", f.name, l))
		}
		if slices.Contains(labelNames[:i], l) {
			panic(fmt.Sprintf("metrics: %s: label name %q repeated", f.name, l))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range sampleNames {
		if r.names[n] {
			panic(fmt.Sprintf("metrics: %s: name %q is already registered", f.name, n))
		}
	}
	for _, n := range sampleNames {
		r.names[n] = true
	}
	i, _ := slices.BinarySearchFunc(r.families, f.name, func(g *family, name string) int {
		return strings.Compare(g.name, name)
	})
	r.families = slices.Insert(slices.Clip(r.families), i, f)
}

// validName reports whether s matches the Prometheus metric name pattern
// (colon allowed) or label name pattern (colon not allowed).
func validName(s string, colon bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c == ':' && colon:
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// WriteTo writes every family in the text exposition format, families
// sorted by name and samples by label values, so that two scrapes of the
// same state are byte-identical. Families with labels but no samples yet
// are left out, as the Prometheus client libraries do. Gauge functions are
// called during WriteTo.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	r.render(&b)
	return b.WriteTo(w)
}

func (r *Registry) render(b *bytes.Buffer) {
	r.mu.Lock()
	families := r.families
	r.mu.Unlock()
	for _, f := range families {
		// A family with no samples yet takes its header back out.
		start := b.Len()
		writeHeader(b, f.name, f.help, f.typ)
		head := b.Len()
		f.write(b)
		if b.Len() == head {
			b.Truncate(start)
		}
	}
}

// Handler returns a handler serving the registry to GET and HEAD with
// [ContentType]; other methods get 405 Method Not Allowed.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Rendering first gives the response a length, for HEAD too,
		// rather than a chunked body.
		var b bytes.Buffer
		r.render(&b)
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		if req.Method == http.MethodHead {
			return
		}
		b.WriteTo(w) // the scraper is gone if this fails; nothing to do
	})
}
