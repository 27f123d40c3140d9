package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/culvert/culvert/internal/measure"
)

// maxDistinctErrors is how many distinct error messages a phase keeps.
const maxDistinctErrors = 5

// phaseResult is the outcome of one phase.
type phaseResult struct {
	Name      string  `json:"name"`
	Ops       int     `json:"ops"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50ms     float64 `json:"p50_ms"`
	P90ms     float64 `json:"p90_ms"`
	P99ms     float64 `json:"p99_ms"`
	Maxms     float64 `json:"max_ms"`
	// Items is what the calls returned in all (objects, descriptions,
	// pipelines listed), where that is meaningful.
	Items int64 `json:"items,omitempty"`
	// CPU seconds spent during the phase by this client and, with
	// --server-pid, by the server.
	ClientCPUs float64 `json:"client_cpu_s"`
	ServerCPUs float64 `json:"server_cpu_s,omitempty"`
	// DBCPUs is what the --db-pid database server and its backends used.
	DBCPUs float64 `json:"db_cpu_s,omitempty"`
	// OtherCPUs is the CPU time the rest of the machine used meanwhile:
	// anything but this client, the server and the database, which
	// competed with them.
	OtherCPUs float64 `json:"other_cpu_s"`
	// Server resident set size at the end of the phase, in KiB.
	ServerRSSKiB int64 `json:"server_rss_kib,omitempty"`
	// The first distinct errors, with how often each occurred.
	FirstErrors []measure.ErrorCount `json:"first_errors,omitempty"`
	Note        string               `json:"note,omitempty"`
}

// report is the whole outcome of a run: what --json writes.
type report struct {
	Label    string         `json:"label"`
	Started  time.Time      `json:"started"`
	Config   *config        `json:"config"`
	Client   clientInfo     `json:"client"`
	DefBytes int            `json:"definition_bytes"`
	Phases   []*phaseResult `json:"phases"`
	// Server memory after the last phase, in KiB: resident and peak.
	ServerRSSKiB int64 `json:"server_rss_kib,omitempty"`
	ServerHWMKiB int64 `json:"server_hwm_kib,omitempty"`
}

func (r *report) phase(name string) *phaseResult {
	for _, p := range r.Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// recorder collects latencies and errors from the workers of one phase.
type recorder struct {
	mu       sync.Mutex
	lat      []time.Duration
	errs     int
	distinct []measure.ErrorCount
	items    int64
	note     string // set by the phase before it returns
}

// merge adds the latencies and item count of one worker.
func (r *recorder) merge(lat []time.Duration, items int64) {
	r.mu.Lock()
	r.lat = append(r.lat, lat...)
	r.items += items
	r.mu.Unlock()
}

func (r *recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs++
	r.distinct = measure.Tally(r.distinct, err, maxDistinctErrors)
}

// result summarises the recorded calls of a phase that took elapsed.
func (r *recorder) result(name string, elapsed time.Duration) *phaseResult {
	slices.Sort(r.lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	p := &phaseResult{
		Name:        name,
		Ops:         len(r.lat),
		Errors:      r.errs,
		Seconds:     elapsed.Seconds(),
		Items:       r.items,
		FirstErrors: r.distinct,
	}
	if elapsed > 0 {
		p.OpsPerSec = float64(p.Ops) / elapsed.Seconds()
	}
	if len(r.lat) > 0 {
		p.P50ms, p.P90ms, p.P99ms = ms(measure.Percentile(r.lat, 50)), ms(measure.Percentile(r.lat, 90)), ms(measure.Percentile(r.lat, 99))
		p.Maxms = ms(r.lat[len(r.lat)-1])
	}
	return p
}

// otherCores is the average number of cores used by other work on the
// machine during the phase.
func (p *phaseResult) otherCores() float64 {
	if p.Seconds <= 0 {
		return 0
	}
	return p.OtherCPUs / p.Seconds
}

// serverCores is the average number of cores the server kept busy.
func (p *phaseResult) serverCores() float64 {
	if p.Seconds <= 0 {
		return 0
	}
	return p.ServerCPUs / p.Seconds
}

// printTable writes the human-readable summary of a run.
func (r *report) printTable(w io.Writer) {
	fmt.Fprintf(w, "\n== %s  (%s; concurrency %d; N=%d M=%d; %d-object definition of %d bytes)\n",
		r.Label, r.endpoints(), r.Config.Concurrency, r.Config.Pipelines, r.Config.Defined, r.Config.Objects, r.DefBytes)
	if n := len(r.Config.ServerPIDs); n > 1 {
		fmt.Fprintf(w, "   srv columns: the %d server processes (pids %s) summed\n", n, r.Config.ServerPIDs.String())
	}
	db := r.Config.DBPID > 0
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	dbHead := ""
	if db {
		dbHead = "db CPU µs/op\tdb cores\t"
	}
	fmt.Fprintln(tw, "phase\tops\terrors\tsecs\tops/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tsrv CPU µs/op\tcli CPU µs/op\t"+dbHead+"srv cores\tcli cores\tother cores\tsrv RSS MiB\t")
	for _, p := range r.Phases {
		dbCols := ""
		if db && p.Ops > 0 && p.Seconds > 0 {
			dbCols = fmt.Sprintf("%.0f\t%.2f\t", p.DBCPUs/float64(p.Ops)*1e6, p.DBCPUs/p.Seconds)
		} else if db {
			dbCols = "-\t-\t"
		}
		srvCPU, srvCores, rss := "-", "-", "-"
		if r.Config.ServerPID > 0 && p.Ops > 0 {
			srvCPU = fmt.Sprintf("%.0f", p.ServerCPUs/float64(p.Ops)*1e6)
			srvCores = fmt.Sprintf("%.2f", p.serverCores())
			rss = fmt.Sprintf("%.0f", float64(p.ServerRSSKiB)/1024)
		}
		cliCPU, cliCores := "-", "-"
		if p.Ops > 0 && p.Seconds > 0 {
			cliCPU = fmt.Sprintf("%.0f", p.ClientCPUs/float64(p.Ops)*1e6)
			cliCores = fmt.Sprintf("%.2f", p.ClientCPUs/p.Seconds)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s%s\t%s\t%.2f\t%s\t\n",
			p.Name, p.Ops, p.Errors, p.Seconds, p.OpsPerSec, p.P50ms, p.P90ms, p.P99ms, p.Maxms, srvCPU, cliCPU, dbCols, srvCores, cliCores, p.otherCores(), rss)
	}
	tw.Flush()
	for _, p := range r.Phases {
		if p.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", p.Name, p.Note)
		}
		for _, e := range p.FirstErrors {
			fmt.Fprintf(w, "  %s error ×%d: %s\n", p.Name, e.Count, clip(e.Message, 300))
		}
	}
	if r.ServerRSSKiB > 0 {
		fmt.Fprintf(w, "  server memory after the run: RSS %.1f MiB, peak RSS %.1f MiB\n",
			float64(r.ServerRSSKiB)/1024, float64(r.ServerHWMKiB)/1024)
	}
}

// endpoints describes where the load went: the one endpoint, or all of
// them and how the goroutines were spread.
func (r *report) endpoints() string {
	eps := r.Config.Endpoints
	if len(eps) <= 1 {
		return r.Config.Endpoint
	}
	return fmt.Sprintf("%d endpoints, goroutine i on endpoint i mod %d: %s", len(eps), len(eps), strings.Join(eps, ", "))
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
