package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/culvert/culvert/internal/objstore"
	"github.com/culvert/culvert/internal/runner"
	"github.com/culvert/culvert/internal/sqlconn"
)

// runnerConfig is everything `culvert runner` can be told.
type runnerConfig struct {
	Endpoint          string
	WorkerGroup       string
	Tasks             int
	RunnerID          string
	Hostname          string
	LogDir            string
	WorkDir           string
	KeepWorkDirs      bool
	Region            string
	Grace             time.Duration
	ProgressInterval  time.Duration
	HeartbeatInterval time.Duration
	LogLevel          string
	// RDSInstances and RedshiftClusters stand in for the AWS APIs an
	// RdsDatabase's rdsInstanceId and a RedshiftDatabase's clusterId are
	// looked up in (docs/assumptions/0017-databases.md).
	RDSInstances     idURLs
	RedshiftClusters idURLs
}

// idURLs is a repeatable ID=JDBC_URL flag. One value may hold several
// settings separated by white space, which is how CULVERT_RDS_INSTANCE
// sets them from the environment; JDBC URLs hold none.
type idURLs map[string]string

func (m *idURLs) String() string { return "" } // the URLs may hold passwords

func (m *idURLs) Set(v string) error {
	fields := strings.Fields(v)
	if len(fields) == 0 {
		return errors.New("want ID=JDBC_URL")
	}
	for _, f := range fields {
		id, url, ok := strings.Cut(f, "=")
		switch {
		case !ok || id == "":
			// Not quoting f: a URL may hold a password.
			return errors.New("want ID=JDBC_URL, such as prod-db=jdbc:postgresql://db.internal:5432/sales")
		case !strings.HasPrefix(url, "jdbc:"):
			return fmt.Errorf("%s: the URL must be a JDBC URL (jdbc:postgresql://…, jdbc:mysql://…, jdbc:redshift://…)", id)
		}
		if *m == nil {
			*m = idURLs{}
		}
		(*m)[id] = url
	}
	return nil
}

// runnerAliases are the option names of AWS's Task Runner (spec §9.2) that
// culvert's runner accepts for its own, so its command lines carry over;
// --endpoint, --region and --tasks are spelled alike.
var runnerAliases = map[string]string{
	"workerGroup":  "worker-group",
	"taskrunnerId": "runner-id",
	"output":       "log-dir",
}

type runnerCommand struct {
	main *Main
}

func (c *runnerCommand) flags(cfg *runnerConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("culvert runner", flag.ContinueOnError)
	fs.SetOutput(c.main.Stderr)
	fs.StringVar(&cfg.Endpoint, "endpoint", "", "the Data Pipeline endpoint `URL`, such as a culvert server's http://127.0.0.1:8080/;\n"+
		"default $AWS_ENDPOINT_URL_DATA_PIPELINE, then $AWS_ENDPOINT_URL")
	fs.StringVar(&cfg.WorkerGroup, "worker-group", "", "the worker group to poll (required; also --workerGroup)")
	fs.IntVar(&cfg.Tasks, "tasks", 2, "how many tasks run at once")
	fs.StringVar(&cfg.RunnerID, "runner-id", "", "the runner's id in heartbeats (also --taskrunnerId); default culvert-HOSTNAME-PID")
	fs.StringVar(&cfg.Hostname, "hostname", "", "the host name reported with polls; default this machine's")
	fs.StringVar(&cfg.LogDir, "log-dir", "output/logs", "`DIR` for the attempts' logs, PIPELINE/COMPONENT/INSTANCE/ATTEMPT/stdout.log and stderr.log (also --output)")
	fs.StringVar(&cfg.WorkDir, "work-dir", "", "`DIR` in which each attempt gets a fresh working directory; default the system's temporary directory")
	fs.BoolVar(&cfg.KeepWorkDirs, "keep-work-dirs", false, "keep the attempts' working directories, for debugging")
	fs.StringVar(&cfg.Region, "region", "", "the region requests are signed for; default the AWS SDK's ($AWS_REGION, the profile), then us-east-1")
	fs.DurationVar(&cfg.Grace, "grace", 30*time.Second, "on SIGTERM, how long running tasks may go on before they are killed and handed back")
	fs.DurationVar(&cfg.ProgressInterval, "progress-interval", time.Minute, "time between progress reports on a running task")
	fs.DurationVar(&cfg.HeartbeatInterval, "heartbeat-interval", 15*time.Minute, "time between heartbeats")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.Var(&cfg.RDSInstances, "rds-instance", "`ID=JDBC_URL`: the database an RdsDatabase's rdsInstanceId names, such as\n"+
		"prod-db=jdbc:postgresql://db.internal:5432/sales (repeatable; the object gives the credentials)")
	fs.Var(&cfg.RedshiftClusters, "redshift-cluster", "`ID=JDBC_URL`: the cluster a RedshiftDatabase's clusterId names, such as\n"+
		"warehouse=jdbc:redshift://wh.internal:5439/dev (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: culvert runner --endpoint URL --worker-group NAME [flags]\n\n"+
			"Polls the worker group for tasks and runs them: ShellCommandActivity (staging S3DataNodes with\n"+
			"stage true), SqlActivity, CopyActivity between S3 files and SQL tables, and the ShellCommand,\n"+
			"S3KeyExists, S3PrefixNotEmpty and Exists preconditions. EMR, Hive, Pig, Hadoop, RedshiftCopy\n"+
			"and DynamoDB work fails as UnsupportedActivity.\n\n"+
			"Credentials come from the AWS SDK's default chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,\n"+
			"the shared files, AWS_PROFILE; S3 too, with AWS_ENDPOINT_URL_S3 for an S3-compatible server.\n"+
			"SIGTERM or SIGINT stops it after the grace period.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// Run runs the task runner until ctx ends.
func (c *runnerCommand) Run(ctx context.Context, args []string) error {
	var cfg runnerConfig
	fs := c.flags(&cfg)
	if err := fs.Parse(rewriteAliases(args)); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("runner: unexpected argument %q", fs.Arg(0))
	}
	if err := applyEnv(fs, c.main.Getenv); err != nil {
		return err
	}
	for _, name := range []string{"AWS_ENDPOINT_URL_DATA_PIPELINE", "AWS_ENDPOINT_URL"} {
		if cfg.Endpoint == "" {
			cfg.Endpoint = c.main.Getenv(name)
		}
	}
	switch {
	case cfg.WorkerGroup == "":
		fs.Usage()
		return errors.New("runner: --worker-group is required")
	case cfg.Endpoint == "":
		return errors.New("runner: no endpoint: pass --endpoint URL or set AWS_ENDPOINT_URL_DATA_PIPELINE")
	case cfg.Tasks < 1:
		return fmt.Errorf("runner: --tasks is %d; it must be at least 1", cfg.Tasks)
	case cfg.Grace < 0 || cfg.ProgressInterval <= 0 || cfg.HeartbeatInterval <= 0:
		return errors.New("runner: --grace must not be negative, --progress-interval and --heartbeat-interval must be positive")
	}
	if cfg.Grace == 0 {
		cfg.Grace = time.Nanosecond // no grace: kill at once (zero would mean the default)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("runner: --log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(c.main.Stderr, &slog.HandlerOptions{Level: level}))

	var opts []func(*awsconfig.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("runner: AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1" // AWS's Task Runner's default (§9.2)
	}
	// S3 is configured as the SDK finds it, with its own endpoint
	// (AWS_ENDPOINT_URL_S3), not the Data Pipeline endpoint.
	files, err := objstore.Load(ctx, objstore.Config{Region: cfg.Region})
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	r, err := runner.New(runner.Config{
		Files:             files,
		Databases:         sqlconn.Resolver{RDSInstances: cfg.RDSInstances, RedshiftClusters: cfg.RedshiftClusters},
		API:               runner.NewClient(awsCfg, cfg.Endpoint, cfg.Tasks),
		WorkerGroup:       cfg.WorkerGroup,
		Tasks:             cfg.Tasks,
		RunnerID:          cfg.RunnerID,
		Hostname:          cfg.Hostname,
		LogDir:            cfg.LogDir,
		WorkRoot:          cfg.WorkDir,
		KeepWorkDirs:      cfg.KeepWorkDirs,
		Grace:             cfg.Grace,
		ProgressInterval:  cfg.ProgressInterval,
		HeartbeatInterval: cfg.HeartbeatInterval,
		Logger:            logger,
	})
	if err != nil {
		return err
	}
	logger.Info("culvert runner starting", "endpoint", cfg.Endpoint, "region", awsCfg.Region, "version", version)
	return r.Run(ctx)
}

// rewriteAliases renames AWS Task Runner option names to culvert's, in
// both -name and --name forms, with or without =value, up to a "--".
func rewriteAliases(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		dashes := "-"
		if strings.HasPrefix(a, "--") {
			dashes = "--"
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a, dashes), "=")
		if to, ok := runnerAliases[name]; ok && strings.HasPrefix(a, "-") {
			a = dashes + to
			if hasValue {
				a += "=" + value
			}
		}
		out = append(out, a)
	}
	return out
}
