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

func say(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "[runs] "+format+"\n", args...)
}

// maxDistinctErrors is how many distinct error messages a phase keeps.
const maxDistinctErrors = 5

// recorder counts the errors of a phase's goroutines.
type recorder struct {
	mu       sync.Mutex
	errs     int
	distinct []measure.ErrorCount
}

func (r *recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs++
	r.distinct = measure.Tally(r.distinct, err, maxDistinctErrors)
}

// latency summarises a set of durations, in milliseconds.
type latency struct {
	N     int     `json:"n"`
	P50ms float64 `json:"p50_ms"`
	P90ms float64 `json:"p90_ms"`
	P99ms float64 `json:"p99_ms"`
	Maxms float64 `json:"max_ms"`
}

func summarize(d []time.Duration) latency {
	if len(d) == 0 {
		return latency{}
	}
	slices.Sort(d)
	return latency{N: len(d), P50ms: ms(measure.Percentile(d, 50)), P90ms: ms(measure.Percentile(d, 90)), P99ms: ms(measure.Percentile(d, 99)), Maxms: ms(d[len(d)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// usage is the CPU the server (every node of it, summed), the database
// server, this client and the rest of the machine used over a span, and
// the server's memory at its end.
type usage struct {
	ServerCPUs   float64 `json:"server_cpu_s,omitempty"`
	DBCPUs       float64 `json:"db_cpu_s,omitempty"`
	ClientCPUs   float64 `json:"client_cpu_s"`
	OtherCPUs    float64 `json:"other_cpu_s"`
	SpanSeconds  float64 `json:"span_s"`
	ServerRSSKiB int64   `json:"server_rss_kib,omitempty"`
}

// usageReading is a point-in-time reading usage is computed from.
type usageReading struct {
	at                       time.Time
	server, db, self, system time.Duration
	rss                      int64
}

func readUsage(cfg *config) usageReading {
	r := usageReading{at: time.Now(), self: measure.SelfCPU()}
	r.system, _ = measure.SystemBusy()
	if len(cfg.ServerPIDs) > 0 {
		r.server, _ = measure.PIDsCPU(cfg.ServerPIDs)
		r.rss, _ = measure.PIDsMemory(cfg.ServerPIDs)
	}
	if cfg.DBPID > 0 {
		r.db, _ = measure.TreeCPU(cfg.DBPID)
	}
	return r
}

func (r usageReading) since(before usageReading) usage {
	u := usage{
		ServerCPUs:   (r.server - before.server).Seconds(),
		DBCPUs:       (r.db - before.db).Seconds(),
		ClientCPUs:   (r.self - before.self).Seconds(),
		SpanSeconds:  r.at.Sub(before.at).Seconds(),
		ServerRSSKiB: r.rss,
	}
	u.OtherCPUs = max(0, (r.system-before.system).Seconds()-u.ServerCPUs-u.DBCPUs-u.ClientCPUs)
	return u
}

func (u usage) cores(cpu float64) float64 {
	if u.SpanSeconds <= 0 {
		return 0
	}
	return cpu / u.SpanSeconds
}

// report is the whole outcome of a run: what --json writes.
type report struct {
	Started      time.Time         `json:"started"`
	Config       *config           `json:"config"`
	GOMAXPROCS   int               `json:"client_gomaxprocs"`
	NumCPU       int               `json:"num_cpu"`
	Throughput   *throughputResult `json:"throughput,omitempty"`
	Wake         []*wakeResult     `json:"wake,omitempty"`
	ServerRSSKiB int64             `json:"server_rss_kib,omitempty"`
	ServerHWMKiB int64             `json:"server_hwm_kib,omitempty"`
}

func (r *report) pass() bool {
	ok := true
	if t := r.Throughput; t != nil {
		ok = ok && t.met()
	}
	for _, w := range r.Wake {
		ok = ok && w.FromStart.P99ms <= w.Target && w.Errors == 0 && w.Lost == 0
	}
	return ok
}

// met reports whether the throughput target, if any, was met without
// errors.
func (t *throughputResult) met() bool {
	return t.TasksPerSec >= t.Target && t.Errors == 0
}

// targetCols are the target and verdict columns of the throughput row:
// with no target, only errors fail it.
func (t *throughputResult) targetCols() string {
	if t.Target <= 0 {
		if t.Errors > 0 {
			return "-\tFAIL"
		}
		return "-\t(info)"
	}
	return fmt.Sprintf("≥ %.0f\t%s", t.Target, verdict(t.met()))
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// printTable writes the human-readable summary of a run.
func (r *report) printTable(w io.Writer) {
	if eps := r.Config.Endpoints; len(eps) > 1 {
		fmt.Fprintf(w, "\n== culvert pipeline runs (%d endpoints: %s; %d CPUs, shared by client and servers)\n", len(eps), strings.Join(eps, ", "), r.NumCPU)
		fmt.Fprintf(w, "   srv columns: the %d server processes (pids %s) summed\n", len(r.Config.ServerPIDs), r.Config.ServerPIDs.String())
	} else {
		fmt.Fprintf(w, "\n== culvert pipeline runs (%s; %d CPUs, shared by client and server)\n", r.Config.Endpoint, r.NumCPU)
	}
	if r.Config.DBPID > 0 {
		fmt.Fprintf(w, "   db: the database server (pid %d) and its backends; other cores excludes it\n", r.Config.DBPID)
	}
	if t := r.Throughput; t != nil {
		spread := ""
		if t.Endpoints > 1 {
			spread = fmt.Sprintf(", poller i on endpoint i mod %d", t.Endpoints)
		}
		fmt.Fprintf(w, "\n-- throughput: %d pollers (%s client%s), poll → ReportTaskProgress → SetTaskStatus(FINISHED)\n", t.Pollers, t.Client, spread)
		fmt.Fprintf(w, "   %d cron pipelines, %d tasks ready at once, %d intervals of backlog; first task %.0f ms after activation\n",
			t.Pipelines, t.Ready, t.Instances, t.FirstTaskms)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		db := r.Config.DBPID > 0
		dbHead := ""
		if db {
			dbHead = "db cores\tdb CPU µs/task\t"
		}
		fmt.Fprintln(tw, "tasks\twindow s\ttasks/s\ttarget\t\terrors\tempty polls\tsrv cores\tcli cores\tother cores\tsrv CPU µs/task\tcli CPU µs/task\t"+dbHead+"srv RSS MiB\t")
		perTask, cliPerTask, dbPerTask := 0.0, 0.0, 0.0
		if t.Tasks > 0 {
			perTask = t.ServerCPUs / float64(t.Tasks) * 1e6
			cliPerTask = t.ClientCPUs / float64(t.Tasks) * 1e6
			dbPerTask = t.DBCPUs / float64(t.Tasks) * 1e6
		}
		dbCols := ""
		if db {
			dbCols = fmt.Sprintf("%.2f\t%.0f\t", t.cores(t.DBCPUs), dbPerTask)
		}
		fmt.Fprintf(tw, "%d\t%.1f\t%.0f\t%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%s%.1f\t\n",
			t.Tasks, t.Seconds, t.TasksPerSec, t.targetCols(), t.Errors, t.EmptyPolls,
			t.cores(t.ServerCPUs), t.cores(t.ClientCPUs), t.cores(t.OtherCPUs), perTask, cliPerTask, dbCols, float64(t.ServerRSSKiB)/1024)
		tw.Flush()
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "call (in the window)\tn\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
		for _, row := range []struct {
			name string
			l    latency
		}{{"PollForTask", t.Poll}, {"ReportTaskProgress", t.Progress}, {"SetTaskStatus", t.SetState}, {"whole cycle", t.Cycle}} {
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t\n", row.name, row.l.N, row.l.P50ms, row.l.P90ms, row.l.P99ms, row.l.Maxms)
		}
		tw.Flush()
		printErrors(w, t.FirstErrors)
	}
	if len(r.Wake) > 0 {
		fmt.Fprintf(w, "\n-- wake latency: a task made ready while pollers wait on its empty worker group\n")
		if x := r.Wake[0]; x.crossNode() {
			fmt.Fprintf(w, "   across nodes: the pollers wait on %s, the task is made ready through %s\n", x.PollEndpoint, x.TriggerEndpoint)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "trigger\tmeasured from\tn\tp50 ms\tp90 ms\tp99 ms\tmax ms\ttarget p99\t\terrors\tlost\t")
		for _, x := range r.Wake {
			fmt.Fprintf(tw, "%s\tcall start\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t≤ %.0f ms\t%s\t%d\t%d\t\n", x.Trigger, x.FromStart.N,
				x.FromStart.P50ms, x.FromStart.P90ms, x.FromStart.P99ms, x.FromStart.Maxms, x.Target,
				verdict(x.FromStart.P99ms <= x.Target && x.Errors == 0 && x.Lost == 0), x.Errors, x.Lost)
			fmt.Fprintf(tw, "%s\tcall return\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t\t\t\t\t\n", x.Trigger, x.FromReturn.N,
				x.FromReturn.P50ms, x.FromReturn.P90ms, x.FromReturn.P99ms, x.FromReturn.Maxms)
			fmt.Fprintf(tw, "%s\t(the call itself)\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t\t\t\t\t\n", x.Trigger, x.Call.N,
				x.Call.P50ms, x.Call.P90ms, x.Call.P99ms, x.Call.Maxms)
		}
		tw.Flush()
		for _, x := range r.Wake {
			dbCores := ""
			if r.Config.DBPID > 0 {
				dbCores = fmt.Sprintf(", db cores %.2f", x.cores(x.DBCPUs))
			}
			fmt.Fprintf(w, "   %s: %d of %d tasks reached the poller before the %s call returned (counted as 0 ms from its return); srv cores %.2f%s, other cores %.2f\n",
				x.Trigger, x.BeforeReturn, x.FromStart.N, x.Call0, x.cores(x.ServerCPUs), dbCores, x.cores(x.OtherCPUs))
			printErrors(w, x.FirstErrors)
		}
	}
	if r.ServerRSSKiB > 0 {
		fmt.Fprintf(w, "\nserver RSS at the end %.1f MiB, peak %.1f MiB\n", float64(r.ServerRSSKiB)/1024, float64(r.ServerHWMKiB)/1024)
	}
}

func printErrors(w io.Writer, errs []measure.ErrorCount) {
	for _, e := range errs {
		fmt.Fprintf(w, "   error ×%d: %s\n", e.Count, e.Message)
	}
}
