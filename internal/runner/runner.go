package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"

	"github.com/culvert/culvert/internal/objstore"
	"github.com/culvert/culvert/internal/sdkhttp"
	"github.com/culvert/culvert/internal/sqlconn"
)

// API is the part of the Data Pipeline API a task runner calls.
// *datapipeline.Client implements it; tests use fakes. Errors are the
// SDK's: a smithy API error such as *types.TaskNotFoundException,
// *types.InvalidRequestException or *types.InternalServiceError when the
// service answered with one, and a transport error when it could not be
// reached.
type API interface {
	// PollForTask returns a task of the input's worker group, holding the
	// call open until one is ready or the service's long poll ends; then
	// the output has no TaskObject. Errors: InvalidRequestException,
	// InternalServiceError, transport errors.
	PollForTask(ctx context.Context, in *datapipeline.PollForTaskInput, optFns ...func(*datapipeline.Options)) (*datapipeline.PollForTaskOutput, error)
	// ReportTaskProgress acknowledges a task or reports progress on it,
	// extending its lease; Canceled says to stop working on it. Errors:
	// TaskNotFoundException (the lease is lost or the task withdrawn),
	// PipelineNotFoundException, PipelineDeletedException,
	// InvalidRequestException, InternalServiceError, transport errors.
	ReportTaskProgress(ctx context.Context, in *datapipeline.ReportTaskProgressInput, optFns ...func(*datapipeline.Options)) (*datapipeline.ReportTaskProgressOutput, error)
	// ReportTaskRunnerHeartbeat says the runner is alive; Terminate says to
	// stop. Errors: InvalidRequestException, InternalServiceError,
	// transport errors.
	ReportTaskRunnerHeartbeat(ctx context.Context, in *datapipeline.ReportTaskRunnerHeartbeatInput, optFns ...func(*datapipeline.Options)) (*datapipeline.ReportTaskRunnerHeartbeatOutput, error)
	// SetTaskStatus reports a task's outcome. Errors: the same as
	// ReportTaskProgress's.
	SetTaskStatus(ctx context.Context, in *datapipeline.SetTaskStatusInput, optFns ...func(*datapipeline.Options)) (*datapipeline.SetTaskStatusOutput, error)
}

// NewClient returns a Data Pipeline client for a runner: cfg's credentials
// and region, endpoint if not empty, the buffering HTTP client of
// [sdkhttp] with enough idle connections for slots polling at once, and no
// SDK retries, because [Runner] retries every call itself.
func NewClient(cfg aws.Config, endpoint string, slots int) *datapipeline.Client {
	hc := sdkhttp.NewClient(slots + 2)
	if b, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		// The SDK applies AWS_CA_BUNDLE (and its other transport
		// settings) only to a client it builds: keep its transport,
		// with the idle connections the slots need.
		t := b.GetTransport().Clone()
		t.MaxIdleConnsPerHost, t.MaxIdleConns = max(slots+2, 2), 2*max(slots+2, 2)
		hc = &http.Client{Transport: &sdkhttp.Transport{Base: t}}
	}
	return datapipeline.NewFromConfig(cfg, func(o *datapipeline.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.HTTPClient = hc
		o.Retryer = aws.NopRetryer{}
	})
}

// Config configures a [Runner].
type Config struct {
	API         API    // required
	WorkerGroup string // required: the worker group polled
	// Tasks is how many tasks run at once, each slot polling on its own;
	// default 2, as AWS's Task Runner.
	Tasks int
	// RunnerID identifies the runner in heartbeats; default
	// culvert-<hostname>-<pid>.
	RunnerID string
	// Hostname is sent with polls and heartbeats and shows on attempts;
	// default the machine's host name.
	Hostname string
	// LogDir holds the attempts' logs, one directory each:
	// <pipelineId>/<componentId>/<instanceId>/<attemptId>/; default
	// output/logs, where AWS's Task Runner keeps its logs.
	LogDir string
	// WorkRoot is where the attempts' working directories are made;
	// default the system's temporary directory.
	WorkRoot string
	// KeepWorkDirs keeps working directories after their attempts, for
	// debugging.
	KeepWorkDirs bool
	// Executors run the tasks by type; default DefaultExecutors().
	Executors Executors
	// Files reaches the files tasks name, on S3 and locally; default an
	// [objstore.Store] configured as the AWS SDK's default chain finds it
	// (objstore.Load).
	Files Files
	// Databases resolves the RdsDatabase and RedshiftDatabase ids of
	// SqlActivity and the SQL data nodes to JDBC URLs; the zero Resolver
	// knows none.
	Databases sqlconn.Resolver
	// ProgressInterval is the time between progress reports on a running
	// task after its acknowledgement; default 60 seconds (§9.3).
	ProgressInterval time.Duration
	// HeartbeatInterval is the time between heartbeats; default 15
	// minutes (§9.3).
	HeartbeatInterval time.Duration
	// Grace is how long running tasks may go on once the runner stops,
	// before they are killed and handed back; default 30 seconds.
	Grace time.Duration
	// HandBackWait bounds the reports after the grace period; default 15
	// seconds.
	HandBackWait time.Duration
	// PollTimeout bounds one PollForTask; default 100 seconds, past the 90
	// seconds AWS holds a long poll.
	PollTimeout time.Duration
	// CallTimeout bounds one try of any other call; default 30 seconds.
	CallTimeout time.Duration
	// Backoff is the wait after the n-th failed try of a call (n from
	// 1); default DefaultBackoff.
	Backoff func(n int) time.Duration
	Logger  *slog.Logger // default slog.Default()
}

func (c Config) withDefaults() Config {
	if c.Tasks == 0 {
		c.Tasks = 2
	}
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
		if c.Hostname == "" {
			c.Hostname = "localhost"
		}
	}
	if c.RunnerID == "" {
		c.RunnerID = "culvert-" + c.Hostname + "-" + strconv.Itoa(os.Getpid())
	}
	if c.LogDir == "" {
		c.LogDir = "output/logs"
	}
	if c.WorkRoot == "" {
		c.WorkRoot = os.TempDir()
	}
	if c.Executors == nil {
		c.Executors = DefaultExecutors()
	}
	if c.ProgressInterval == 0 {
		c.ProgressInterval = time.Minute
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = 15 * time.Minute
	}
	if c.Grace == 0 {
		c.Grace = 30 * time.Second
	}
	if c.HandBackWait == 0 {
		c.HandBackWait = 15 * time.Second
	}
	if c.PollTimeout == 0 {
		c.PollTimeout = 100 * time.Second
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.API == nil:
		return errors.New("runner: Config.API is required")
	case c.WorkerGroup == "":
		return errors.New("runner: Config.WorkerGroup is required")
	case c.Tasks < 1:
		return fmt.Errorf("runner: Config.Tasks is %d; it must be at least 1", c.Tasks)
	case c.ProgressInterval < 0 || c.HeartbeatInterval < 0 || c.Grace < 0 || c.HandBackWait < 0 || c.PollTimeout < 0 || c.CallTimeout < 0:
		return errors.New("runner: Config durations must not be negative")
	}
	return nil
}

// Runner polls one worker group and runs its tasks.
type Runner struct {
	cfg Config
}

// New returns a Runner. It returns an error naming the field if cfg is
// incomplete or invalid, and the error of objstore.Load if cfg has no Files
// and the AWS configuration cannot be read.
func New(cfg Config) (*Runner, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// Absolute, because files move between these directories and URIs,
	// which name local files by absolute path only.
	for _, d := range []*string{&cfg.LogDir, &cfg.WorkRoot} {
		abs, err := filepath.Abs(*d)
		if err != nil {
			return nil, fmt.Errorf("runner: %w", err)
		}
		*d = abs
	}
	if cfg.Files == nil {
		// Credentials are resolved at the first S3 request, so a runner
		// that only touches local files needs none.
		st, err := objstore.Load(context.Background(), objstore.Config{})
		if err != nil {
			return nil, fmt.Errorf("runner: object storage: %w", err)
		}
		cfg.Files = st
	}
	return &Runner{cfg: cfg}, nil
}

// errTerminated is why polling stops when a heartbeat says terminate.
var errTerminated = errors.New("the service told the runner to terminate")

// Run runs the runner until ctx ends or a heartbeat answers terminate.
// Then it stops polling at once, lets running tasks go on for the grace
// period, kills those still running and hands them back, and returns nil.
//
// Run first sends a heartbeat, and returns its error if the service
// refuses it (bad credentials, an invalid request): a runner that cannot
// work should say so at once. After that every failed call is retried
// (call.go) or logged; none stops the runner.
func (r *Runner) Run(ctx context.Context) error {
	log := r.cfg.Logger
	var first *datapipeline.ReportTaskRunnerHeartbeatOutput
	err := r.call(ctx, "ReportTaskRunnerHeartbeat", r.cfg.CallTimeout, func(ctx context.Context) (err error) {
		first, err = r.cfg.API.ReportTaskRunnerHeartbeat(ctx, r.heartbeatInput())
		return err
	})
	switch {
	case ctx.Err() != nil:
		return nil
	case err != nil:
		return fmt.Errorf("runner: first heartbeat: %w", err)
	case first.Terminate:
		log.Info("runner: the service says terminate; not starting", "worker_group", r.cfg.WorkerGroup)
		return nil
	}
	log.Info("runner: polling", "worker_group", r.cfg.WorkerGroup, "tasks", r.cfg.Tasks,
		"runner_id", r.cfg.RunnerID, "hostname", r.cfg.Hostname, "log_dir", r.cfg.LogDir)

	// Three lifetimes: polling ends with ctx (or a terminate); running
	// tasks are killed when the grace period after that ends; reports,
	// which must outlive both to hand tasks back, end last.
	pollCtx, stopPolling := context.WithCancelCause(ctx)
	defer stopPolling(nil)
	killCtx, killAll := context.WithCancel(context.WithoutCancel(ctx))
	defer killAll()
	reportCtx, stopReports := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReports()
	s := &session{poll: pollCtx, kill: killCtx, report: reportCtx}

	var wg sync.WaitGroup
	wg.Go(func() { r.heartbeats(pollCtx, stopPolling) })
	for range r.cfg.Tasks {
		wg.Go(func() { r.slot(s) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	<-pollCtx.Done()
	log.Info("runner: stopping; no more polls, running tasks have the grace period",
		"why", context.Cause(pollCtx), "grace", r.cfg.Grace)
	grace := time.NewTimer(r.cfg.Grace)
	defer grace.Stop()
	select {
	case <-done:
		log.Info("runner: stopped")
		return nil
	case <-grace.C:
	}
	log.Warn("runner: grace period over; killing running tasks and handing them back")
	killAll()
	final := time.NewTimer(r.cfg.HandBackWait)
	defer final.Stop()
	select {
	case <-done:
	case <-final.C:
		log.Error("runner: hand-backs did not finish in time; their tasks are left to their leases", "waited", r.cfg.HandBackWait)
		stopReports()
		<-done
	}
	log.Info("runner: stopped")
	return nil
}

// session holds the contexts of one Run.
type session struct {
	poll   context.Context // ends when polling stops
	kill   context.Context // ends when the grace period is over
	report context.Context // ends when reports are given up
}

func (r *Runner) heartbeatInput() *datapipeline.ReportTaskRunnerHeartbeatInput {
	return &datapipeline.ReportTaskRunnerHeartbeatInput{
		TaskrunnerId: aws.String(r.cfg.RunnerID), WorkerGroup: aws.String(r.cfg.WorkerGroup), Hostname: aws.String(r.cfg.Hostname),
	}
}

// heartbeats sends a heartbeat every HeartbeatInterval until ctx ends, and
// stops polling when one answers terminate (§9.3 step 5).
func (r *Runner) heartbeats(ctx context.Context, stopPolling context.CancelCauseFunc) {
	for sleep(ctx, r.cfg.HeartbeatInterval) {
		var out *datapipeline.ReportTaskRunnerHeartbeatOutput
		err := r.call(ctx, "ReportTaskRunnerHeartbeat", r.cfg.CallTimeout, func(ctx context.Context) (err error) {
			out, err = r.cfg.API.ReportTaskRunnerHeartbeat(ctx, r.heartbeatInput())
			return err
		})
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			r.cfg.Logger.Error("runner: heartbeat refused", "err", err)
		case out.Terminate:
			r.cfg.Logger.Info("runner: the service says terminate")
			stopPolling(errTerminated)
			return
		}
	}
}

// minPollGap is the least time between the starts of two polls of a slot
// that came back empty, in case a service answers at once instead of
// holding the poll open.
const minPollGap = time.Second

// slot polls for a task and runs it, over and over, until polling stops.
func (r *Runner) slot(s *session) {
	in := &datapipeline.PollForTaskInput{WorkerGroup: aws.String(r.cfg.WorkerGroup), Hostname: aws.String(r.cfg.Hostname)}
	refused := 0
	for s.poll.Err() == nil {
		start := time.Now()
		var out *datapipeline.PollForTaskOutput
		err := r.call(s.poll, "PollForTask", r.cfg.PollTimeout, func(ctx context.Context) (err error) {
			out, err = r.cfg.API.PollForTask(ctx, in)
			return err
		})
		switch {
		case err == nil && out.TaskObject != nil:
			// Even if polling stopped meanwhile: the task is claimed,
			// and runTask hands it back.
			r.runTask(s, out)
			continue
		case s.poll.Err() != nil:
			return
		case err != nil:
			// Refused (a bad worker group, revoked credentials): keep
			// trying, slowly, since only a person can mend it.
			refused++
			r.cfg.Logger.Error("runner: PollForTask refused", "err", err)
			sleep(s.poll, r.cfg.Backoff(refused))
			continue
		}
		refused = 0
		sleep(s.poll, minPollGap-time.Since(start))
	}
}
