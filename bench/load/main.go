// Command load is culvert's load generator: it drives any AWS Data Pipeline
// endpoint (culvert, moto, or anything else that speaks the API) with the
// real aws-sdk-go-v2 client from many goroutines and reports, per phase,
// throughput (ops/s), latency percentiles and errors. Given several
// endpoints (nodes of one culvert sharing a database), client goroutine i
// calls endpoint i mod n, so that the load spreads evenly with no proxy in
// between.
//
// The phases run in order, each timed on its own:
//
//	create                 CreatePipeline ×N, distinct names and uniqueIds
//	put                    PutPipelineDefinition of a 100-object definition on M of them
//	get                    GetPipelineDefinition on those M, for --duration
//	describe-objects       DescribeObjects, 25 object ids a call, on those M
//	describe-pipelines-1   DescribePipelines with 1 id, across all N
//	describe-pipelines-25  DescribePipelines with 25 ids, across all N
//	list                   ListPipelines following markers, checking the total
//
// SDK retries are off so that every failure is counted rather than hidden,
// and the HTTP transport buffers request bodies so that the transport can
// replay a request on a fresh connection (see aws/aws-sdk-go-v2#2737).
//
// With --server-pid the server's CPU time and resident memory are read from
// /proc around every phase, which gives server CPU per operation: the
// figure to watch on a small machine, where the client competes with the
// server for the same cores. Several pids (one per node) are summed. With
// --db-pid, the CPU of the database server the nodes share (PostgreSQL's
// postmaster and its backends) is reported apart.
//
// Usage:
//
//	load --endpoint http://127.0.0.1:8080 [--label culvert] [--json out.json] [flags]
//	load --endpoint http://127.0.0.1:8081,http://127.0.0.1:8082 --server-pid PID1,PID2 [--db-pid PID] [flags]
//	load compare --culvert culvert.json --moto moto.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/datapipeline"

	"github.com/culvert/culvert/internal/measure"
)

// config is everything one load run can be told.
type config struct {
	Endpoint     string          `json:"endpoint"` // as given: one URL, or several comma-separated
	Endpoints    []string        `json:"endpoints"`
	Label        string          `json:"label"`
	Region       string          `json:"region"`
	Concurrency  int             `json:"concurrency"`
	Pipelines    int             `json:"pipelines"` // N
	Defined      int             `json:"defined"`   // M
	Objects      int             `json:"objects"`   // objects per definition
	Duration     time.Duration   `json:"duration"`  // per read phase
	MaxOps       int             `json:"max_ops"`   // per read phase, 0 = no cap
	ListDuration time.Duration   `json:"list_duration"`
	ServerPID    int             `json:"server_pid,omitempty"` // the first of ServerPIDs
	ServerPIDs   measure.PIDList `json:"server_pids,omitempty"`
	DBPID        int             `json:"db_pid,omitempty"`
	Timeout      time.Duration   `json:"timeout"`
	JSONPath     string          `json:"-"`
	Hook         string          `json:"-"`
	ClientGOGC   int             `json:"client_gogc"` // this process's GOGC
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "compare" {
		os.Exit(compareMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	var c config
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Endpoint, "endpoint", "", "`URL` of the Data Pipeline endpoint, e.g. http://127.0.0.1:8080 (required); or several,\n"+
		"comma-separated (nodes sharing one database): client goroutine i calls endpoint i mod n")
	fs.StringVar(&c.Label, "label", "", "name of the server under test, shown in the output (default: the endpoint)")
	fs.StringVar(&c.Region, "region", "us-east-1", "region to sign for")
	fs.IntVar(&c.Concurrency, "concurrency", 16, "concurrent client goroutines")
	fs.IntVar(&c.Pipelines, "pipelines", 5000, "pipelines to create (N)")
	fs.IntVar(&c.Defined, "defined", 500, "pipelines to put a definition on (M, at most N)")
	fs.IntVar(&c.Objects, "objects", 100, "objects in the definition")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "how long each read phase runs; 0 = exactly one pass over its set")
	fs.IntVar(&c.MaxOps, "max-ops", 0, "most calls of each read phase (0 = no cap)")
	fs.DurationVar(&c.ListDuration, "list-duration", 2*time.Second, "how long to keep repeating full listings; 0 = one listing")
	fs.Var(&c.ServerPIDs, "server-pid", "`PID` of the server, to report its CPU time and RSS per phase (Linux /proc); or several,\n"+
		"comma-separated, one per node: their CPU and RSS are summed")
	fs.IntVar(&c.DBPID, "db-pid", 0, "`PID` of a database server the endpoints share (PostgreSQL's postmaster), to report its CPU\n"+
		"and its child processes' (the backends) per phase, apart from the server's")
	fs.DurationVar(&c.Timeout, "timeout", 60*time.Second, "per-call timeout")
	fs.StringVar(&c.JSONPath, "json", "", "also write the results as JSON to `FILE`")
	fs.StringVar(&c.Hook, "hook", "", "command run as `CMD` start|stop PHASE around every phase, e.g. to attach a profiler;\n"+
		"it gets LOAD_PID and SERVER_PID in its environment")
	fs.IntVar(&c.ClientGOGC, "client-gogc", 400, "GOGC `percent` of this client, unless GOGC is set: above Go's default of 100 so that\n"+
		"the client's garbage collector takes less of the CPU it shares with the server")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case len(measure.SplitList(c.Endpoint)) == 0:
		return nil, errors.New("--endpoint is required")
	case c.Concurrency < 1:
		return nil, errors.New("--concurrency must be at least 1")
	case c.Pipelines < 1:
		return nil, errors.New("--pipelines must be at least 1")
	case c.Defined < 1 || c.Defined > c.Pipelines:
		return nil, errors.New("--defined must be between 1 and --pipelines")
	case c.Objects < 6:
		return nil, errors.New("--objects must be at least 6 (one of each type, and a second schedule)")
	}
	c.Endpoints = measure.SplitList(c.Endpoint)
	if len(c.ServerPIDs) > 0 {
		c.ServerPID = c.ServerPIDs[0]
	}
	if c.Label == "" {
		c.Label = c.Endpoint
	}
	return &c, nil
}

func runMain(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	cfg.ClientGOGC = measure.ClientGC(cfg.ClientGOGC)
	rep, err := run(context.Background(), cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	rep.printTable(stdout)
	if cfg.JSONPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(cfg.JSONPath, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "load: --json:", err)
			return 1
		}
	}
	return 0
}

// newClients returns a Data Pipeline client for each endpoint, with
// retries off and a transport sized for the goroutines that call it.
func newClients(cfg *config) []*datapipeline.Client {
	n := len(cfg.Endpoints)
	per := (cfg.Concurrency + n - 1) / n
	cs := make([]*datapipeline.Client, n)
	for i, ep := range cfg.Endpoints {
		cs[i] = measure.NewClient(ep, cfg.Region, 2*per, cfg.Timeout)
	}
	return cs
}

// hook runs the --hook command, if any, for one phase boundary.
func (c *config) hook(event, phase string, stderr io.Writer) error {
	if c.Hook == "" {
		return nil
	}
	cmd := exec.Command("sh", "-c", c.Hook+` "$@"`, "hook", event, phase)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	// SERVER_PID is every server pid, comma-separated, as perf -p takes
	// them.
	cmd.Env = append(os.Environ(), fmt.Sprintf("LOAD_PID=%d", os.Getpid()), "SERVER_PID="+c.ServerPIDs.String())
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("--hook %s %s: %w", event, phase, err)
	}
	return nil
}

// clientInfo describes the machine the load ran on.
type clientInfo struct {
	GoVersion  string `json:"go_version"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
}

func thisClient() clientInfo {
	return clientInfo{GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU()}
}
