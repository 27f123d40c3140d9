package metrics

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	var b strings.Builder
	n, err := r.WriteTo(&b)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(b.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d bytes", n, b.Len())
	}
	return b.String()
}

// TestWriteTo pins the exposition of each kind of family, including the
// order of families and samples, which is not the order of registration
// or first use.
func TestWriteTo(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	reqs := r.Counter("culvert_requests_total", "API requests served.", "op", "code")
	r.GaugeFunc("culvert_goroutines", "Goroutines running.", func() float64 { return 42 })
	lat := r.Histogram("culvert_request_duration_seconds", "API request latency.", []float64{0.01, 0.1, 1}, "op")
	queue := r.Gauge("culvert_queue_depth", "Tasks waiting.\nPer worker group.")
	r.Counter("culvert_unused_total", "Never incremented, so absent.", "op")
	up := r.Counter("culvert_up_total", "Unlabelled, so present at zero.")

	reqs.With("PollForTask", "").Add(3)
	reqs.With("CreatePipeline", "").Inc()
	reqs.With("CreatePipeline", "InvalidRequestException").Inc()
	reqs.With("CreatePipeline", "InvalidRequestException").Add(0.5)
	queue.With().Set(-2.5)
	for _, d := range []float64{0.005, 0.01, 0.05, 2} {
		lat.With("CreatePipeline").Observe(d)
	}
	lat.With("ActivatePipeline").Observe(0.25)
	_ = up

	want := `# HELP culvert_goroutines Goroutines running.
# TYPE culvert_goroutines gauge
culvert_goroutines 42
# HELP culvert_queue_depth Tasks waiting.\nPer worker group.
# TYPE culvert_queue_depth gauge
culvert_queue_depth -2.5
# HELP culvert_request_duration_seconds API request latency.
# TYPE culvert_request_duration_seconds histogram
culvert_request_duration_seconds_bucket{op="ActivatePipeline",le="0.01"} 0
culvert_request_duration_seconds_bucket{op="ActivatePipeline",le="0.1"} 0
culvert_request_duration_seconds_bucket{op="ActivatePipeline",le="1"} 1
culvert_request_duration_seconds_bucket{op="ActivatePipeline",le="+Inf"} 1
culvert_request_duration_seconds_sum{op="ActivatePipeline"} 0.25
culvert_request_duration_seconds_count{op="ActivatePipeline"} 1
culvert_request_duration_seconds_bucket{op="CreatePipeline",le="0.01"} 2
culvert_request_duration_seconds_bucket{op="CreatePipeline",le="0.1"} 3
culvert_request_duration_seconds_bucket{op="CreatePipeline",le="1"} 3
culvert_request_duration_seconds_bucket{op="CreatePipeline",le="+Inf"} 4
culvert_request_duration_seconds_sum{op="CreatePipeline"} 2.065
culvert_request_duration_seconds_count{op="CreatePipeline"} 4
# HELP culvert_requests_total API requests served.
# TYPE culvert_requests_total counter
culvert_requests_total{op="CreatePipeline",code=""} 1
culvert_requests_total{op="CreatePipeline",code="InvalidRequestException"} 1.5
culvert_requests_total{op="PollForTask",code=""} 3
# HELP culvert_up_total Unlabelled, so present at zero.
# TYPE culvert_up_total counter
culvert_up_total 0
`
	if diff := cmp.Diff(want, scrape(t, r)); diff != "" {
		t.Errorf("WriteTo mismatch (-want +got):\n%s", diff)
	}
}

// TestEscaping pins the format's escapes: in label values backslash,
// double quote and newline; in help text backslash and newline only.
func TestEscaping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{name: "plain", value: "abc", want: `abc`},
		{name: "backslash", value: `a\b`, want: `a\\b`},
		{name: "quote", value: `say "hi"`, want: `say \"hi\"`},
		{name: "newline", value: "a\nb", want: `a\nb`},
		{name: "all", value: "\\\"\n", want: `\\\"\n`},
		{name: "utf8 kept", value: "héllo ✓", want: "héllo ✓"},
		{name: "invalid utf8 replaced", value: "a\xffb", want: "a\uFFFDb"},
		{name: "tab kept", value: "a\tb", want: "a\tb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := NewRegistry()
			r.Counter("c", `help "quoted" \ with`+"\nnewline", "l").With(tc.value).Inc()
			want := `# HELP c help "quoted" \\ with\nnewline` + "\n# TYPE c counter\n" + `c{l="` + tc.want + `"} 1` + "\n"
			if diff := cmp.Diff(want, scrape(t, r)); diff != "" {
				t.Errorf("WriteTo mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLabelSetsDistinct pins that label sets cannot collide however their
// values are split.
func TestLabelSetsDistinct(t *testing.T) {
	t.Parallel()
	cv := NewRegistry().Counter("c", "", "a", "b")
	sets := [][]string{{"ab", ""}, {"a", "b"}, {"", "ab"}, {"a\x01", "b"}, {"a", "\x01b"}}
	seen := map[*Counter][]string{}
	for _, s := range sets {
		c := cv.With(s...)
		if prev, ok := seen[c]; ok {
			t.Errorf("With(%q) and With(%q) returned the same counter", prev, s)
		}
		seen[c] = s
		if again := cv.With(s...); again != c {
			t.Errorf("With(%q) returned a different counter the second time", s)
		}
	}
}

func TestValues(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	c := r.Counter("c", "").With()
	c.Inc()
	c.Add(2)
	c.Add(0.25)
	if got := c.Value(); got != 3.25 {
		t.Errorf("Counter.Value() = %v, want 3.25", got)
	}
	g := r.Gauge("g", "").With()
	g.Set(5)
	g.Add(-7.5)
	if got := g.Value(); got != -2.5 {
		t.Errorf("Gauge.Value() = %v, want -2.5", got)
	}
}

func TestSpecialValues(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	g := r.Gauge("g", "", "v")
	g.With("inf").Set(math.Inf(1))
	g.With("nan").Set(math.NaN())
	g.With("neginf").Set(math.Inf(-1))
	g.With("small").Set(1e-7)
	g.With("big").Set(1e22)
	h := r.Histogram("h", "", []float64{1, math.Inf(1)})
	h.With().Observe(math.NaN())
	want := `# HELP g 
# TYPE g gauge
g{v="big"} 1e+22
g{v="inf"} +Inf
g{v="nan"} NaN
g{v="neginf"} -Inf
g{v="small"} 1e-07
# HELP h 
# TYPE h histogram
h_bucket{le="1"} 0
h_bucket{le="+Inf"} 1
h_sum NaN
h_count 1
`
	if diff := cmp.Diff(want, scrape(t, r)); diff != "" {
		t.Errorf("WriteTo mismatch (-want +got):\n%s", diff)
	}
}

// TestHistogramBucketBounds pins that a bucket's bound is inclusive.
func TestHistogramBucketBounds(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	h := r.Histogram("h", "", []float64{1, 2}).With()
	for _, v := range []float64{-1, 1, 1.5, 2, 2.000001} {
		h.Observe(v)
	}
	got := scrape(t, r)
	for _, line := range []string{`h_bucket{le="1"} 2`, `h_bucket{le="2"} 4`, `h_bucket{le="+Inf"} 5`, `h_count 5`} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("scrape lacks %q:\n%s", line, got)
		}
	}
}

// TestRegistrationPanics pins that registration mistakes fail loudly and
// say what is wrong.
func TestRegistrationPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		register func(r *Registry)
		want     string // substring of the panic message
	}{
		{
			name:     "duplicate name",
			register: func(r *Registry) { r.Counter("x_total", ""); r.Gauge("x_total", "") },
			want:     `"x_total" is already registered`,
		},
		{
			name:     "duplicate gauge func",
			register: func(r *Registry) { f := func() float64 { return 0 }; r.GaugeFunc("g", "", f); r.GaugeFunc("g", "", f) },
			want:     `"g" is already registered`,
		},
		{
			name:     "counter collides with histogram sample",
			register: func(r *Registry) { r.Histogram("lat", "", DefaultBuckets); r.Counter("lat_count", "") },
			want:     `"lat_count" is already registered`,
		},
		{
			name:     "histogram collides with counter",
			register: func(r *Registry) { r.Counter("lat_sum", ""); r.Histogram("lat", "", DefaultBuckets) },
			want:     `"lat_sum" is already registered`,
		},
		{name: "nil gauge func", register: func(r *Registry) { r.GaugeFunc("g", "", nil) }, want: "nil func"},
		{name: "empty name", register: func(r *Registry) { r.Counter("", "") }, want: `invalid metric name ""`},
		{name: "name with dash", register: func(r *Registry) { r.Counter("a-b", "") }, want: `invalid metric name "a-b"`},
		{name: "name with leading digit", register: func(r *Registry) { r.Gauge("1a", "") }, want: `invalid metric name "1a"`},
		{name: "label with colon", register: func(r *Registry) { r.Counter("c", "", "a:b") }, want: `invalid label name "a:b"`},
		{name: "reserved label", register: func(r *Registry) { r.Counter("c", "", "__name__") }, want: `invalid label name "__name__"`},
		{name: "repeated label", register: func(r *Registry) { r.Counter("c", "", "op", "op") }, want: `label name "op" repeated`},
		{name: "le label", register: func(r *Registry) { r.Histogram("h", "", nil, "le") }, want: `"le" is reserved`},
		{name: "decreasing buckets", register: func(r *Registry) { r.Histogram("h", "", []float64{1, 0.5}) }, want: "not strictly increasing"},
		{name: "repeated bucket", register: func(r *Registry) { r.Histogram("h", "", []float64{1, 1}) }, want: "not strictly increasing"},
		{name: "NaN bucket", register: func(r *Registry) { r.Histogram("h", "", []float64{math.NaN()}) }, want: "not strictly increasing"},
		{
			name:     "too few label values",
			register: func(r *Registry) { r.Counter("c", "", "op", "code").With("Op") },
			want:     `c: got 1 label values ["Op"], want 2 for labels ["op" "code"]`,
		},
		{
			name:     "too many label values",
			register: func(r *Registry) { r.Gauge("g", "").With("x") },
			want:     `g: got 1 label values ["x"], want 0`,
		},
		{name: "negative add", register: func(r *Registry) { r.Counter("c", "").With().Add(-1) }, want: "counters only go up"},
		{name: "NaN add", register: func(r *Registry) { r.Counter("c", "").With().Add(math.NaN()) }, want: "counters only go up"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				p := recover()
				msg, _ := p.(string)
				if p == nil || !strings.Contains(msg, tc.want) {
					t.Errorf("panic = %v, want a message containing %q", p, tc.want)
				}
			}()
			tc.register(NewRegistry())
		})
	}
}

// TestValidNames pins names the format allows, which must not panic.
func TestValidNames(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	r.Counter("a", "", "_")
	r.Counter("ns:sub_total", "", "Op", "_private", "x9")
	r.Gauge("_", "")
	r.Histogram("h", "", nil, "op") // only the +Inf bucket
	r.Histogram("h2", "", []float64{math.Inf(-1), 0, math.Inf(1)})
}

// TestConcurrentUpdates pins that no update is lost when many goroutines
// create and update the same series at once; run it with -race.
func TestConcurrentUpdates(t *testing.T) {
	t.Parallel()
	const goroutines, perG = 16, 2000
	r := NewRegistry()
	cv := r.Counter("c_total", "", "op")
	hv := r.Histogram("h", "", []float64{1}, "op")
	gv := r.Gauge("g", "", "op")
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Go(func() {
			for j := range perG {
				cv.With("Same").Inc()
				cv.With(fmt.Sprint("Op", j%7)).Add(0.5)
				hv.With("Same").Observe(float64(i % 2))
				gv.With("Same").Add(1)
				if j%100 == 0 {
					scrape(t, r) // scrapes race with updates too
				}
			}
		})
	}
	wg.Wait()
	const total = goroutines * perG
	if got := cv.With("Same").Value(); got != total {
		t.Errorf("counter = %v, want %v", got, total)
	}
	var fractional float64
	for k := range 7 {
		fractional += cv.With(fmt.Sprint("Op", k)).Value()
	}
	if fractional != total/2 {
		t.Errorf("fractional counters sum to %v, want %v", fractional, total/2)
	}
	if got := gv.With("Same").Value(); got != total {
		t.Errorf("gauge = %v, want %v", got, total)
	}
	got := scrape(t, r)
	for _, line := range []string{
		fmt.Sprintf(`h_bucket{op="Same",le="1"} %d`, total),
		fmt.Sprintf(`h_count{op="Same"} %d`, total),
		fmt.Sprintf(`h_sum{op="Same"} %d`, total/2),
		fmt.Sprintf(`c_total{op="Same"} %d`, total),
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("scrape lacks %q", line)
		}
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	r.Counter("c_total", "Count.").With().Add(7)
	const body = "# HELP c_total Count.\n# TYPE c_total counter\nc_total 7\n"
	type result struct {
		Status      int
		ContentType string
		Length      int64
		Allow       string
		Body        string
	}
	tests := []struct {
		method string
		want   result
	}{
		{method: "GET", want: result{Status: 200, ContentType: ContentType, Length: int64(len(body)), Body: body}},
		{method: "HEAD", want: result{Status: 200, ContentType: ContentType, Length: int64(len(body))}},
		{method: "POST", want: result{Status: 405, ContentType: "text/plain; charset=utf-8", Length: 19, Allow: "GET, HEAD", Body: "method not allowed\n"}},
		{method: "DELETE", want: result{Status: 405, ContentType: "text/plain; charset=utf-8", Length: 19, Allow: "GET, HEAD", Body: "method not allowed\n"}},
	}
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, srv.URL+"/metrics", nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			data, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			got := result{
				Status:      res.StatusCode,
				ContentType: res.Header.Get("Content-Type"),
				Length:      res.ContentLength,
				Allow:       res.Header.Get("Allow"),
				Body:        string(data),
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", tc.method, diff)
			}
		})
	}
}

// TestWithNoAllocs pins that the request path allocates nothing once a
// label set exists.
func TestWithNoAllocs(t *testing.T) {
	r := NewRegistry()
	cv := r.Counter("c_total", "", "op", "code")
	hv := r.Histogram("h", "", DefaultBuckets, "op")
	cv.With("DescribePipelines", "").Inc()
	hv.With("DescribePipelines").Observe(0.01)
	allocs := testing.AllocsPerRun(100, func() {
		cv.With("DescribePipelines", "").Inc()
		hv.With("DescribePipelines").Observe(0.01)
	})
	if allocs != 0 {
		t.Errorf("With + Inc + Observe allocated %v times per run, want 0", allocs)
	}
}

func BenchmarkCounterWithInc(b *testing.B) {
	cv := NewRegistry().Counter("requests_total", "", "op", "code")
	ops := []string{"CreatePipeline", "DescribePipelines", "PollForTask", "ReportTaskProgress", "SetTaskStatus"}
	for _, op := range ops {
		cv.With(op, "").Inc()
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			cv.With(ops[i%len(ops)], "").Inc()
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				cv.With(ops[i%len(ops)], "").Inc()
				i++
			}
		})
	})
	b.Run("parallel same series", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				cv.With("PollForTask", "").Inc()
			}
		})
	})
}

func BenchmarkHistogramObserve(b *testing.B) {
	hv := NewRegistry().Histogram("latency_seconds", "", DefaultBuckets, "op")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		v := 0.0
		for pb.Next() {
			hv.With("DescribePipelines").Observe(v)
			v += 0.003
		}
	})
}
