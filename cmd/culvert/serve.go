package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"golang.org/x/sync/errgroup"

	"github.com/culvert/culvert/internal/alarm"
	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/datapipeline"
	"github.com/culvert/culvert/internal/leader"
	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/queue"
	"github.com/culvert/culvert/internal/runner"
	"github.com/culvert/culvert/internal/scheduler"
	"github.com/culvert/culvert/internal/sigv4"
	"github.com/culvert/culvert/internal/store"
)

// serveConfig is everything `culvert serve` can be told.
type serveConfig struct {
	Listen       string
	Data         string
	DatabaseURL  string
	LeaderTTL    time.Duration
	Credentials  string
	PollWait     time.Duration
	MaxBody      int64
	MaxObjects   int
	MaxPipelines int
	MemoryLimit  string
	LogLevel     string
	ShutdownWait time.Duration
	DebugListen  string
	Limits       limitFlag
	AlarmWebhook string
	AlarmSNS     string
	// The embedded runner: runners in this process for the worker
	// groups of resources (runsOn).
	EmbeddedRunner bool
	RunnerTasks    int
	RunnerLogDir   string
	// Where GET /logs may read attempts' logs from.
	LogRoots listFlag
	S3Logs   bool
}

// runnerLogDir is the embedded runner's log directory.
func (cfg *serveConfig) runnerLogDir() string {
	if cfg.RunnerLogDir != "" {
		return cfg.RunnerLogDir
	}
	return filepath.Join(cfg.Data, "logs")
}

// limits returns the service limits in force: --limit settings, then
// --max-objects and --max-pipelines, then AWS's defaults.
func (cfg *serveConfig) limits() serverLimits {
	l := *cfg.Limits.l
	if !cfg.Limits.set["maxObjects"] {
		l.Definition.MaxObjects = cfg.MaxObjects
	}
	if !cfg.Limits.set["maxPipelines"] {
		l.MaxPipelines = cfg.MaxPipelines
	}
	return l
}

type serveCommand struct {
	main *Main
}

func (c *serveCommand) flags(cfg *serveConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("culvert serve", flag.ContinueOnError)
	fs.SetOutput(c.main.Stderr)
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "`HOST:PORT` to serve the API on")
	fs.StringVar(&cfg.Data, "data", "culvert-data", "`DIR` holding the embedded SQLite database (unless --database-url) and the embedded runner's logs")
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "PostgreSQL `URL` (postgres://user:password@host:port/database) to store everything in instead of SQLite;\n"+
		"several culvert nodes may share it, and one of them at a time leads (runs the scheduler)")
	fs.DurationVar(&cfg.LeaderTTL, "leader-ttl", 15*time.Second, "how long a leading node's lease lasts unless renewed (PostgreSQL only):\n"+
		"another node takes over within about this long after the leader stops")
	fs.StringVar(&cfg.Credentials, "credentials", "", "`FILE` of access keys, one \"ACCESS_KEY_ID SECRET ACCOUNT_ID\" per line;\n"+
		"without it only the development key AKIDEXAMPLE is accepted, and only on a loopback address")
	fs.DurationVar(&cfg.PollWait, "poll-wait", queue.DefaultWait, "how long PollForTask holds an idle poll (botocore times out reads at 60s)")
	fs.Int64Var(&cfg.MaxBody, "max-body", awsjson.DefaultMaxBodyBytes, "largest request body in `bytes`")
	fs.IntVar(&cfg.MaxObjects, "max-objects", pipeline.DefaultLimits.MaxObjects, "most objects in one pipeline definition")
	fs.IntVar(&cfg.MaxPipelines, "max-pipelines", 0, "most live pipelines per account (0 = no limit)")
	fs.StringVar(&cfg.MemoryLimit, "memory-limit", "1GiB", "soft memory limit for the Go runtime, unless GOMEMLIMIT is set (0 = none)")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&cfg.ShutdownWait, "shutdown-wait", 10*time.Second, "how long SIGTERM waits for requests in flight")
	fs.StringVar(&cfg.DebugListen, "debug-listen", "", "`HOST:PORT` for Go's /debug/pprof profiles (off when empty; keep it on loopback)")
	limits := defaultLimits()
	cfg.Limits.l = &limits
	fs.StringVar(&cfg.AlarmWebhook, "alarm-webhook", "", "`URL` to POST every fired SnsAlarm to, as JSON (off when empty)")
	fs.StringVar(&cfg.AlarmSNS, "alarm-sns", "", "publish every fired SnsAlarm to its topicArn through this SNS-compatible `ENDPOINT` URL,\n"+
		"or through the AWS SDK's own endpoint resolution when \"aws\" (off when empty); credentials come from the AWS SDK's default chain")
	fs.BoolVar(&cfg.EmbeddedRunner, "embedded-runner", true, "run tasks of activities that run on a resource (runsOn an Ec2Resource or EmrCluster)\n"+
		"in this process; off for deployments whose runners run elsewhere, polling the resources' worker groups")
	fs.IntVar(&cfg.RunnerTasks, "runner-tasks", 4, "tasks each resource's embedded runner runs at once")
	fs.StringVar(&cfg.RunnerLogDir, "runner-log-dir", "", "`DIR` of the embedded runner's attempt logs (default DATA/logs)")
	fs.Var(&cfg.LogRoots, "log-roots", "local `DIR`s (comma-separated or repeated) whose attempt logs GET /logs may serve, besides\n"+
		"the embedded runner's log directory: a location a runner reports elsewhere on this machine is refused")
	fs.BoolVar(&cfg.S3Logs, "s3-logs", true, "serve attempt logs whose location is on S3, read with this server's AWS credentials\n"+
		"(the SDK's default chain); turn it off when accounts must not reach what those credentials can")
	fs.Var(&cfg.Limits, "limit", "set a service limit, `NAME=VALUE` (repeatable; durations in Go syntax such as 30s):"+limitsHelp())
	return fs
}

func (c *serveCommand) Run(ctx context.Context, args []string) error {
	var cfg serveConfig
	fs := c.flags(&cfg)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if err := applyEnv(fs, c.main.Getenv); err != nil {
		return err
	}
	logger, err := newLogger(c.main, cfg.LogLevel)
	if err != nil {
		return err
	}
	if err := applyMemoryLimit(cfg.MemoryLimit, c.main.Getenv); err != nil {
		return err
	}
	creds, dev, err := loadCredentials(cfg.Credentials)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer ln.Close()
	if dev {
		if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			return fmt.Errorf("serve: refusing to listen on %s with the built-in development key; "+
				"pass --credentials FILE or listen on a loopback address such as 127.0.0.1", ln.Addr())
		}
		logger.Warn("no --credentials file: accepting only the development key AKIDEXAMPLE (account 123456789012) on loopback")
	}

	var dln net.Listener
	if cfg.DebugListen != "" {
		if dln, err = net.Listen("tcp", cfg.DebugListen); err != nil {
			return fmt.Errorf("serve: --debug-listen: %w", err)
		}
		defer dln.Close()
	}

	db, storeKind, err := openStore(ctx, cfg.DatabaseURL, cfg.Data, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	// Only a store several nodes share has leases; on one that this
	// process owns, this node always leads.
	leases, _ := db.(store.Leases)
	elector, err := leader.New(leader.Config{Leases: leases, TTL: cfg.LeaderTTL, Logger: logger})
	if err != nil {
		return fmt.Errorf("serve: --leader-ttl: %w", err)
	}
	limits := cfg.limits()
	q, err := queue.New(queue.Config{Wait: cfg.PollWait, AckTimeout: limits.AckTimeout, ProgressTimeout: limits.ProgressTimeout}, db)
	if err != nil {
		return err
	}
	logs, err := newAttemptLogs(append([]string{cfg.runnerLogDir()}, cfg.LogRoots...), cfg.S3Logs)
	if err != nil {
		return err
	}
	svc, err := datapipeline.New(datapipeline.Config{
		Limits:       limits.Definition,
		MaxPipelines: limits.MaxPipelines,
		Logger:       logger,
		Logs:         logs,
	}, db, q)
	if err != nil {
		return err
	}
	keys := newInternalKeys(creds)
	verifier := &sigv4.Verifier{Credentials: keys, Service: "datapipeline"}
	api := &awsjson.Handler{
		Target:     "DataPipeline",
		AltTargets: []string{"DataPipeline_20121129"},
		Ops:        svc.Ops(),
		Verify: func(r *http.Request, body []byte) (awsjson.Principal, error) {
			cred, err := verifier.Verify(r, body)
			if err != nil {
				return awsjson.Principal{}, err
			}
			return awsjson.Principal{AccessKeyID: cred.AccessKeyID, AccountID: cred.AccountID}, nil
		},
		MaxBodyBytes: cfg.MaxBody,
		Logger:       logger,
	}

	var ready atomic.Bool
	mux := http.NewServeMux()
	// Everything but /healthz and /logs/ goes to the protocol handler, so a wrong
	// method or path gets an AWS-shaped error rather than Go's plain text.
	mux.Handle("/", api)
	mux.Handle(logsPattern, api.Serve(serveAttemptLogs(svc)))
	mux.Handle("GET /healthz", healthHandler(&ready, storeKind, elector))
	mux.Handle("GET /metrics", newMetrics(api, elector, storeKind).Handler())

	// Requests get a context that ends at shutdown, so long polls return
	// at once instead of holding shutdown for their whole wait.
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	sinks, err := alarmSinks(ctx, &cfg)
	if err != nil {
		return err
	}
	var sinkNames []string
	for _, sink := range sinks {
		sinkNames = append(sinkNames, sink.Name())
	}
	loopCfg := scheduler.LoopConfig{Store: db, Logger: logger, AlarmSinks: sinkNames}
	var fleet *runner.Fleet
	if cfg.EmbeddedRunner {
		if cfg.RunnerTasks < 1 {
			return fmt.Errorf("serve: --runner-tasks is %d; it must be at least 1", cfg.RunnerTasks)
		}
		endpoint, err := loopbackURL(ln.Addr())
		if err != nil {
			return fmt.Errorf("serve: embedded runner: %w", err)
		}
		logDir := cfg.runnerLogDir()
		fleet = runner.NewFleet(runner.FleetConfig{
			API: embeddedAPI(keys, endpoint, cfg.RunnerTasks),
			Runner: runner.Config{
				Tasks: cfg.RunnerTasks, LogDir: logDir, Logger: logger,
				// In-process runners hear of cancels sooner than the
				// minute AWS's Task Runner waits between reports, and
				// shutdown gives them the time requests in flight get.
				ProgressInterval: 15 * time.Second, Grace: cfg.ShutdownWait,
			},
			Logger: logger,
		})
		loopCfg.Resources = fleet.Want
	}
	// What only the leader does: the scheduler runs pipelines (and reaps
	// task leases), the dispatchers deliver their alarms, and through the
	// scheduler's wants the embedded runner serves resources. Each term
	// starts them afresh from the store, as a restart would.
	lead := func(ctx context.Context) error {
		if fleet != nil {
			defer fleet.Reset()
		}
		sched, err := scheduler.NewLoop(loopCfg)
		if err != nil {
			return err
		}
		g, gctx := errgroup.WithContext(ctx)
		for _, sink := range sinks {
			d, err := alarm.NewDispatcher(alarm.Config{Store: db, Sink: sink, Logger: logger})
			if err != nil {
				return err
			}
			g.Go(func() error { return ignoreCanceled(d.Run(gctx)) })
		}
		g.Go(func() error { return ignoreCanceled(sched.Run(gctx)) })
		return g.Wait()
	}
	g, gctx := errgroup.WithContext(ctx)
	// The embedded runner stops before the API does, so that the tasks
	// it hands back reach it.
	fleetDone := make(chan struct{})
	if fleet != nil {
		g.Go(func() error {
			defer close(fleetDone)
			return fleet.Run(gctx)
		})
	} else {
		close(fleetDone)
	}
	g.Go(func() error { return elector.Run(gctx, lead) })
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		logger.Info("shutting down")
		<-fleetDone
		cancelBase()
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownWait)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	if dln != nil {
		dsrv := &http.Server{Handler: debugMux(), ReadHeaderTimeout: 10 * time.Second}
		g.Go(func() error {
			if err := dsrv.Serve(dln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			return dsrv.Close()
		})
		logger.Info("profiles served", "url", "http://"+dln.Addr().String()+"/debug/pprof/")
	}
	ready.Store(true)
	base := "http://" + ln.Addr().String() + "/"
	logger.Info("culvert listening", "url", base, "store", storeKind, "node", elector.Status().Self)
	if c.main.Ready != nil {
		c.main.Ready(base)
	}
	return g.Wait()
}

// alarmSinks returns the alarm sinks --alarm-webhook and --alarm-sns ask
// for.
func alarmSinks(ctx context.Context, cfg *serveConfig) ([]alarm.Sink, error) {
	var sinks []alarm.Sink
	if cfg.AlarmWebhook != "" {
		if err := checkHTTPURL(cfg.AlarmWebhook); err != nil {
			return nil, fmt.Errorf("serve: --alarm-webhook: %w", err)
		}
		sinks = append(sinks, &alarm.Webhook{URL: cfg.AlarmWebhook, Client: &http.Client{Timeout: 30 * time.Second}})
	}
	if cfg.AlarmSNS != "" {
		endpoint := cfg.AlarmSNS
		if endpoint == "aws" {
			endpoint = ""
		} else if err := checkHTTPURL(endpoint); err != nil {
			return nil, fmt.Errorf("serve: --alarm-sns: %w (or \"aws\")", err)
		}
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("serve: --alarm-sns: AWS configuration: %w", err)
		}
		sinks = append(sinks, &alarm.SNS{Config: awsCfg, BaseEndpoint: endpoint})
	}
	return sinks, nil
}

// checkHTTPURL accepts absolute http and https URLs.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http:// or https:// URL", s)
	}
	return nil
}

// debugMux serves net/http/pprof on its own mux, so profiles are never
// reachable through the API listener.
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func newLogger(m *Main, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("serve: --log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// loadCredentials reads the credentials file, or falls back to the
// development key (dev=true) when none is given.
func loadCredentials(path string) (creds sigv4.CredentialStore, dev bool, err error) {
	if path == "" {
		return sigv4.Static{sigv4.DevCredential.AccessKeyID: sigv4.DevCredential}, true, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("serve: --credentials: %w", err)
	}
	defer f.Close()
	st, err := sigv4.ParseCredentials(f)
	if err != nil {
		return nil, false, fmt.Errorf("serve: --credentials %s: %w", path, err)
	}
	if len(st) == 0 {
		return nil, false, fmt.Errorf("serve: --credentials %s holds no keys", path)
	}
	return st, false, nil
}

// applyMemoryLimit bounds the heap so that a large store degrades into more
// GC work instead of an out-of-memory kill. GOMEMLIMIT, when set, wins.
func applyMemoryLimit(limit string, getenv func(string) string) error {
	if getenv("GOMEMLIMIT") != "" {
		return nil
	}
	n, err := parseBytes(limit)
	if err != nil {
		return fmt.Errorf("serve: --memory-limit: %w", err)
	}
	if n > 0 {
		debug.SetMemoryLimit(n)
	}
	return nil
}

// parseBytes reads sizes such as "512MiB", "1GiB", "1GB" or "1048576".
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size such as 512MiB", s)
	}
	return n * mult, nil
}

// ignoreCanceled is err, unless it only says that the work was stopped.
func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
