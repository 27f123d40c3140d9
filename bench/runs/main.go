// Command runs measures how fast culvert runs pipelines, through the real
// aws-sdk-go-v2 client, against two of the targets:
//
//	throughput  tasks/s through PollForTask → ReportTaskProgress →
//	            SetTaskStatus(FINISHED) with 16 concurrent pollers, the
//	            scheduler creating the next tasks as runners finish them
//	            (target ≥ 2,000 tasks/s)
//	wake        from the moment a task is made ready to its delivery to a
//	            poller already waiting on an empty worker group
//	            (target p99 ≤ 20 ms)
//
// Given several endpoints (nodes of one culvert sharing a database), the
// throughput pollers spread over them, poller i on endpoint i mod n, and
// the wake phases keep their pollers on endpoint 0 while making the task
// ready through endpoint 1: what they measure is then a task made ready on
// one node reaching a poller waiting on another (target p99 ≤ 50 ms).
//
// It creates and activates its own pipelines, so it wants a fresh server;
// bench/runs.sh starts one. SDK retries are off so that every failure is
// counted, and request bodies are buffered so that net/http can replay a
// request whose pooled connection had closed (aws/aws-sdk-go-v2#2737).
//
// Usage:
//
//	runs --endpoint http://127.0.0.1:8080 [--server-pid PID] [--json out.json] [flags]
//	runs --endpoint URL1,URL2,URL3 --server-pid PID1,PID2,PID3 [--db-pid PID] [flags]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/datapipeline"

	"github.com/culvert/culvert/internal/measure"
)

// config is everything one run can be told.
type config struct {
	Endpoint   string          `json:"endpoint"` // as given: one URL, or several comma-separated
	Endpoints  []string        `json:"endpoints"`
	Region     string          `json:"region"`
	ServerPID  int             `json:"server_pid,omitempty"` // the first of ServerPIDs
	ServerPIDs measure.PIDList `json:"server_pids,omitempty"`
	DBPID      int             `json:"db_pid,omitempty"`
	Phases     string          `json:"phases"`
	Timeout    time.Duration   `json:"timeout"`

	// throughput
	Pollers       int           `json:"pollers"`
	Pipelines     int           `json:"pipelines"`
	Activities    int           `json:"activities"`
	MaxActive     int           `json:"max_active"`
	BackfillDays  int           `json:"backfill_days"`
	Warmup        time.Duration `json:"warmup"`
	Duration      time.Duration `json:"duration"`
	ThroughputMin float64       `json:"throughput_target"`
	Client        string        `json:"client"`

	// wake
	WakePollers    int           `json:"wake_pollers"`
	WakeIterations int           `json:"wake_iterations"`
	WakeWarmup     int           `json:"wake_warmup"`
	WakeGap        time.Duration `json:"wake_gap"`
	WakeP99Max     time.Duration `json:"wake_p99_target"`

	JSONPath string `json:"-"`
	// ClientProfile is where this client writes its own CPU profile of
	// each phase's measured part, to see what the client costs.
	ClientProfile string `json:"-"`
	ClientGOGC    int    `json:"client_gogc"`
	// DebugEndpoint is the server's --debug-listen; with ProfileDir, a Go
	// CPU profile of the server is taken over each phase's measured part.
	DebugEndpoint string `json:"debug_endpoint,omitempty"`
	ProfileDir    string `json:"profile_dir,omitempty"`
}

// The wake targets: a poller on the node where the task becomes ready,
// and one on another node of a shared database, which learns of the task
// through the database.
const (
	defaultWakeTarget          = 20 * time.Millisecond
	defaultCrossNodeWakeTarget = 50 * time.Millisecond
)

func main() { os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr)) }

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	var c config
	fs := flag.NewFlagSet("runs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Endpoint, "endpoint", "", "`URL` of culvert, e.g. http://127.0.0.1:8080 (required); or several, comma-separated, of nodes\n"+
		"sharing one database: throughput poller i polls endpoint i mod n; the wake phases' pollers wait on the first\n"+
		"endpoint and the task is made ready through the second")
	fs.StringVar(&c.Region, "region", "us-east-1", "region to sign for")
	fs.Var(&c.ServerPIDs, "server-pid", "`PID` of the server, to report its CPU time and RSS (Linux /proc); or several, comma-separated,\n"+
		"one per node: their CPU and RSS are summed")
	fs.IntVar(&c.DBPID, "db-pid", 0, "`PID` of a database server the endpoints share (PostgreSQL's postmaster), to report its CPU and\n"+
		"its child processes' (the backends) apart from the server's")
	fs.StringVar(&c.Phases, "phases", "throughput,wake-activate,wake-rerun", "comma-separated phases to run, in this order")
	fs.DurationVar(&c.Timeout, "timeout", 90*time.Second, "per-call timeout: longer than the server's --poll-wait")

	fs.IntVar(&c.Pollers, "pollers", 16, "throughput: concurrent pollers (task runners)")
	fs.IntVar(&c.Pipelines, "pipelines", 4, "throughput: cron pipelines running at once")
	fs.IntVar(&c.Activities, "activities", 16, "throughput: independent ShellCommandActivities per pipeline")
	fs.IntVar(&c.MaxActive, "max-active", 4, "throughput: maxActiveInstances of each activity")
	fs.IntVar(&c.BackfillDays, "backfill-days", 14, "throughput: days of 15-minute intervals behind each pipeline (the work available)")
	fs.DurationVar(&c.Warmup, "warmup", 3*time.Second, "throughput: time run before the measured window")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "throughput: the measured window")
	fs.Float64Var(&c.ThroughputMin, "throughput-target", 2000, "throughput: target tasks/s (0 = none: the figure is for information)")
	fs.StringVar(&c.Client, "client", "sdk", "throughput: the runners' client, sdk (aws-sdk-go-v2) or lean (net/http and the SDK's\n"+
		"SigV4 signer: the same requests without the SDK's middleware, leaving more of a shared machine to the server)")

	fs.IntVar(&c.WakePollers, "wake-pollers", 4, "wake: pollers waiting on the worker group")
	fs.IntVar(&c.WakeIterations, "wake-iterations", 250, "wake: measured wakes per trigger")
	fs.IntVar(&c.WakeWarmup, "wake-warmup", 10, "wake: wakes per trigger before the measured ones (not counted)")
	fs.DurationVar(&c.WakeGap, "wake-gap", 50*time.Millisecond, "wake: idle time between a wake's task finishing and the next trigger,\n"+
		"so that every wake starts from an idle server with its pollers waiting")
	fs.DurationVar(&c.WakeP99Max, "wake-target", 0, "wake: target p99 (default 20ms with one endpoint, 50ms with several, where\n"+
		"the task is made ready on one node and delivered by another)")

	fs.StringVar(&c.DebugEndpoint, "debug-endpoint", "", "`URL` of the server's --debug-listen (net/http/pprof), e.g. http://127.0.0.1:6060")
	fs.StringVar(&c.ProfileDir, "profile-dir", "", "with --debug-endpoint, write the server's CPU and allocation profiles of each phase's measured part to `DIR`/PHASE.cpu.pprof and PHASE.allocs.pprof")
	fs.StringVar(&c.JSONPath, "json", "", "also write the results as JSON to `FILE`")
	fs.StringVar(&c.ClientProfile, "client-profile", "", "write this client's CPU profile of each phase's measured part to `DIR`/PHASE.client.cpu.pprof")
	fs.IntVar(&c.ClientGOGC, "client-gogc", 400, "GOGC `percent` of this client, unless GOGC is set: the client shares the CPU with the server")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case len(measure.SplitList(c.Endpoint)) == 0:
		return nil, errors.New("--endpoint is required")
	case c.Pollers < 1 || c.WakePollers < 1:
		return nil, errors.New("--pollers and --wake-pollers must be at least 1")
	case c.Pipelines < 1 || c.Activities < 1 || c.MaxActive < 1 || c.BackfillDays < 1:
		return nil, errors.New("--pipelines, --activities, --max-active and --backfill-days must be at least 1")
	case c.Client != "sdk" && c.Client != "lean":
		return nil, fmt.Errorf("--client must be sdk or lean, not %q", c.Client)
	case c.WakeIterations < 1:
		return nil, errors.New("--wake-iterations must be at least 1")
	}
	for _, p := range strings.Split(c.Phases, ",") {
		switch p {
		case "throughput", "wake-activate", "wake-rerun":
		default:
			return nil, fmt.Errorf("--phases: unknown phase %q", p)
		}
	}
	c.Endpoints = measure.SplitList(c.Endpoint)
	if len(c.ServerPIDs) > 0 {
		c.ServerPID = c.ServerPIDs[0]
	}
	if c.WakeP99Max <= 0 {
		c.WakeP99Max = defaultWakeTarget
		if len(c.Endpoints) > 1 {
			c.WakeP99Max = defaultCrossNodeWakeTarget
		}
	}
	return &c, nil
}

func runMain(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "runs:", err)
		return 2
	}
	cfg.ClientGOGC = measure.ClientGC(cfg.ClientGOGC)
	rep := &report{Started: time.Now().UTC(), Config: cfg, GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU()}
	cs := newClients(cfg)
	ctx := context.Background()
	// A run id keeps the names and worker groups of this run apart from
	// those of an earlier run against the same server.
	runID := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffff)
	failed := false
	for _, p := range strings.Split(cfg.Phases, ",") {
		var err error
		switch p {
		case "throughput":
			rep.Throughput, err = runThroughput(ctx, cs, cfg, runID, stderr)
		case "wake-activate":
			var w *wakeResult
			if w, err = runWake(ctx, cs, cfg, runID, triggerActivate, stderr); w != nil {
				rep.Wake = append(rep.Wake, w)
			}
		case "wake-rerun":
			var w *wakeResult
			if w, err = runWake(ctx, cs, cfg, runID, triggerRerun, stderr); w != nil {
				rep.Wake = append(rep.Wake, w)
			}
		}
		if err != nil {
			// The phases that ran are still reported.
			fmt.Fprintf(stderr, "runs: %s: %v\n", p, err)
			failed = true
			break
		}
	}
	if len(cfg.ServerPIDs) > 0 {
		rep.ServerRSSKiB, rep.ServerHWMKiB = measure.PIDsMemory(cfg.ServerPIDs)
	}
	rep.printTable(stdout)
	if cfg.JSONPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(cfg.JSONPath, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "runs: --json:", err)
			return 1
		}
	}
	if failed || !rep.pass() {
		return 1
	}
	return 0
}

// profile takes a CPU profile and an allocation profile of the server
// over the next d, in the background, when --debug-endpoint and
// --profile-dir are set; wait returns once both are written.
func (c *config) profile(phase string, d time.Duration, stderr io.Writer) (wait func()) {
	if c.DebugEndpoint == "" || c.ProfileDir == "" {
		return func() {}
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	var wg sync.WaitGroup
	for _, p := range []struct{ path, file string }{
		{"profile", phase + ".cpu.pprof"},
		{"allocs", phase + ".allocs.pprof"}, // a delta over the window, as the CPU profile
	} {
		wg.Go(func() {
			url := fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", strings.TrimSuffix(c.DebugEndpoint, "/"), p.path, secs)
			if err := fetchTo(url, filepath.Join(c.ProfileDir, p.file)); err != nil {
				say(stderr, "%s: %s profile: %v", phase, p.path, err)
			}
		})
	}
	return wg.Wait
}

// fetchTo writes the body of a GET of url to the file path.
func fetchTo(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// clientProfile starts a CPU profile of this client when
// --client-profile is set; stop ends it and writes it.
func (c *config) clientProfile(phase string, stderr io.Writer) (stop func()) {
	if c.ClientProfile == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(c.ClientProfile, phase+".client.cpu.pprof"))
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		say(stderr, "%s: client CPU profile: %v", phase, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			say(stderr, "%s: client CPU profile: %v", phase, err)
		}
	}
}

// newClients returns a Data Pipeline client for each endpoint, with
// retries off and a transport with an idle connection for every
// concurrent caller.
func newClients(cfg *config) []*datapipeline.Client {
	cs := make([]*datapipeline.Client, len(cfg.Endpoints))
	for i, ep := range cfg.Endpoints {
		cs[i] = measure.NewClient(ep, cfg.Region, 2*max(cfg.Pollers, cfg.WakePollers+1), cfg.Timeout)
	}
	return cs
}
