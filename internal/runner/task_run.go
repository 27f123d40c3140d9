package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/objstore"
)

// Why a task's execution context ended, other than its executor
// returning.
var (
	errCanceled = errors.New("the service canceled the task")
	errTaskGone = errors.New("the task is no longer this runner's")
	errShutdown = errors.New("the runner stopped before the task finished")
	errReturned = errors.New("the executor returned")
)

// runTask acknowledges a task, runs it while reporting progress, and
// reports its outcome (§9.3 steps 2-4).
func (r *Runner) runTask(s *session, out *datapipeline.PollForTaskOutput) {
	to := out.TaskObject
	taskID := aws.ToString(to.TaskId)
	log := r.cfg.Logger.With("pipeline", aws.ToString(to.PipelineId), "attempt", aws.ToString(to.AttemptId))

	// Acknowledge at once: the service gives a claimed task to another
	// runner unless it hears within two minutes. The acknowledgement says
	// where the attempt's logs will be (§9.4, @logLocation), so the task
	// is read first; one that does not read is acknowledged anyway, and
	// then failed.
	task, parseErr := ParseTask(to)
	var fields []types.Field
	if parseErr == nil {
		fields = []types.Field{{Key: aws.String(KeyLogLocation), StringValue: aws.String(r.logLocation(task))}}
	}
	canceled, err := r.progress(s.report, taskID, fields)
	var invalid *types.InvalidRequestException
	if fields != nil && errors.As(err, &invalid) {
		// A service that refuses the location must not cost the task.
		log.Warn("runner: the service refused the log location; acknowledging without it", "err", err)
		canceled, err = r.progress(s.report, taskID, nil)
	}
	switch {
	case err != nil:
		log.Error("runner: could not acknowledge the task; it is left to its lease", "err", err)
		return
	case canceled:
		log.Info("runner: the task was canceled before it started")
		return
	case parseErr != nil:
		r.report(s.report, log, taskID, failf("InvalidTaskObject", "%v", parseErr))
		return
	}
	log = log.With("type", task.Type())
	if s.poll.Err() != nil {
		// Received as the runner began to stop: not worth starting.
		r.handBack(s.report, log, task)
		return
	}

	execCtx, stop := context.WithCancelCause(s.report)
	defer stop(nil)
	defer context.AfterFunc(s.kill, func() { stop(errShutdown) })()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { r.keepReporting(execCtx, stop, log, taskID) })

	log.Info("runner: task started")
	err = redact(r.execute(execCtx, log, task), task.Secrets())
	why := context.Cause(execCtx)
	stop(errReturned)
	switch {
	case errors.Is(why, errCanceled):
		log.Info("runner: task canceled by the service; its work is stopped and nothing is reported")
	case errors.Is(why, errTaskGone):
		log.Warn("runner: task no longer ours (lease lost or withdrawn); its work is stopped and nothing is reported")
	case errors.Is(why, errShutdown) && err != nil:
		r.handBack(s.report, log, task)
	default:
		r.report(s.report, log, taskID, err)
	}
}

// progress reports progress on a task, with fields if any, retrying as
// call does, and returns whether the service canceled it.
// TaskNotFoundException and the other errors that say the task is gone
// are returned as they are.
func (r *Runner) progress(ctx context.Context, taskID string, fields []types.Field) (canceled bool, err error) {
	err = r.call(ctx, "ReportTaskProgress", r.cfg.CallTimeout, func(ctx context.Context) error {
		out, err := r.cfg.API.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: aws.String(taskID), Fields: fields})
		if err == nil {
			canceled = out.Canceled
		}
		return err
	})
	return canceled, err
}

// keepReporting reports progress every ProgressInterval until ctx ends,
// and ends ctx (through stop) when the service cancels the task or says it
// is gone.
func (r *Runner) keepReporting(ctx context.Context, stop context.CancelCauseFunc, log *slog.Logger, taskID string) {
	for sleep(ctx, r.cfg.ProgressInterval) {
		canceled, err := r.progress(ctx, taskID, nil)
		switch {
		case ctx.Err() != nil:
			return
		case taskGone(err):
			log.Warn("runner: progress report refused", "err", err)
			stop(errTaskGone)
			return
		case err != nil:
			log.Error("runner: progress report failed", "err", err)
		case canceled:
			stop(errCanceled)
			return
		}
	}
}

// execute prepares the task's directories and event log, runs its
// executor, and publishes the attempt's logs.
func (r *Runner) execute(ctx context.Context, log *slog.Logger, task *Task) (err error) {
	ex := r.cfg.Executors[task.Type()]
	if ex == nil {
		return failf("UnknownTaskType", "culvert's task runner has no executor for type %q", task.Type())
	}
	logDir := r.attemptLogDir(task)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fmt.Errorf("log directory: %w", err)
	}
	root, err := os.MkdirTemp(r.cfg.WorkRoot, "culvert-attempt-")
	if err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	if r.cfg.KeepWorkDirs {
		log.Info("runner: keeping the working directory", "dir", root)
	} else {
		defer os.RemoveAll(root)
	}
	events, err := os.Create(filepath.Join(logDir, EventLog))
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	defer events.Close()
	job := &Job{
		Task: task, WorkDir: filepath.Join(root, "work"), ScratchDir: filepath.Join(root, "scratch"),
		LogDir: logDir, Files: r.cfg.Files, Databases: r.cfg.Databases, Evaluate: r.evaluator(task),
		Logger: slog.New(redactHandler{
			h:       slog.NewMultiHandler(log.Handler(), slog.NewTextHandler(events, &slog.HandlerOptions{Level: slog.LevelInfo})),
			secrets: task.Secrets(),
		}),
	}
	for _, d := range []string{job.WorkDir, job.ScratchDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return fmt.Errorf("working directory: %w", err)
		}
	}
	err = runExecutor(ctx, ex, job)
	switch te := (*TaskError)(nil); {
	case err == nil:
		job.Logger.Info("runner: task finished")
	case errors.As(redact(err, task.Secrets()), &te):
		job.Logger.Info("runner: task ended", "status", cmpStatus(te.Status), "error_id", te.ID, "error", te.Message)
	default:
		job.Logger.Info("runner: task ended", "err", redact(err, task.Secrets()))
	}
	events.Close()
	r.publishLogs(ctx, log, task, logDir)
	return err
}

// runExecutor runs ex, turning a panic into a TaskRunnerError.
func runExecutor(ctx context.Context, ex Executor, job *Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &TaskError{ID: "TaskRunnerError", Message: fmt.Sprintf("the %s executor panicked: %v", job.Task.Type(), p), StackTrace: string(debug.Stack())}
		}
	}()
	return ex.Execute(ctx, job)
}

func cmpStatus(s Status) Status {
	if s == "" {
		return StatusFailed
	}
	return s
}

// EventLog is the attempt's event log in its log directory: what the
// runner did for the task (staging, connections, rows copied, the
// outcome), for the user, next to stdout.log and stderr.log.
const EventLog = "runner.log"

// KeyLogLocation is the field of the acknowledgement that says where the
// attempt's logs are: an attempt's @logLocation (§3.2).
const KeyLogLocation = "@logLocation"

// evaluator returns the Job's Evaluate for task, or nil if the API cannot
// evaluate expressions.
func (r *Runner) evaluator(task *Task) func(ctx context.Context, objectID, expression string) (string, error) {
	ev, ok := r.cfg.API.(expressionEvaluator)
	if !ok {
		return nil
	}
	return func(ctx context.Context, objectID, expression string) (string, error) {
		var out *datapipeline.EvaluateExpressionOutput
		err := r.call(ctx, "EvaluateExpression", r.cfg.CallTimeout, func(ctx context.Context) (err error) {
			out, err = ev.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{
				PipelineId: aws.String(task.PipelineID), ObjectId: aws.String(objectID), Expression: aws.String(expression)})
			return err
		})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.EvaluatedExpression), nil
	}
}

// expressionEvaluator is the API's EvaluateExpression, which
// *datapipeline.Client has; [API] does not require it.
type expressionEvaluator interface {
	EvaluateExpression(ctx context.Context, in *datapipeline.EvaluateExpressionInput, optFns ...func(*datapipeline.Options)) (*datapipeline.EvaluateExpressionOutput, error)
}

// attemptLogDir is the attempt's log directory:
// <LogDir>/<pipelineId>/<componentId>/<instanceId>/<attemptId> (§9.4).
func (r *Runner) attemptLogDir(t *Task) string {
	return filepath.Join(r.cfg.LogDir, filepath.Join(logPath(t)...))
}

// logLocation is where the attempt's logs are for the user: under the
// pipeline's pipelineLogUri when it has one (§9.4) that is a location the
// service takes (docs/assumptions/0022), else the local log directory as
// a file:// URL. Both end in "/", as directories.
func (r *Runner) logLocation(t *Task) string {
	if base, ok := t.Attempt().String("pipelineLogUri"); ok && base != "" {
		if loc := dirURI(objstore.Join(base, logPath(t)...)); validLogLocation(loc) {
			return loc
		}
	}
	dir := r.attemptLogDir(t)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return "file://" + dirURI(filepath.ToSlash(dir))
}

// maxLogLocation is the longest @logLocation the service takes.
const maxLogLocation = 2048

// validLogLocation reports whether the service takes loc as an
// attempt's @logLocation (docs/assumptions/0022-attempt-logs.md): an
// s3://bucket/… URI, a file:// URL of an absolute path or an absolute
// path, of at most 2048 characters, with no ".." element.
func validLogLocation(loc string) bool {
	if len(loc) > maxLogLocation {
		return false
	}
	var path string
	switch {
	case strings.HasPrefix(loc, "s3://"):
		bucket, _, _ := strings.Cut(loc[len("s3://"):], "/")
		if bucket == "" {
			return false
		}
		path = loc[len("s3://"):]
	case strings.HasPrefix(loc, "file://"):
		path = strings.TrimPrefix(loc[len("file://"):], "localhost")
		if !strings.HasPrefix(path, "/") {
			return false
		}
	case strings.HasPrefix(loc, "/"):
		path = loc
	default:
		return false
	}
	for elem := range strings.SplitSeq(path, "/") {
		if elem == ".." {
			return false
		}
	}
	return true
}

// logPath is an attempt's log directory below a log root, one element per
// id, each made safe as a single path element.
func logPath(t *Task) []string {
	return []string{pathElem(t.PipelineID), pathElem(t.ComponentID()), pathElem(t.InstanceID()), pathElem(t.AttemptID)}
}

// pathElem makes an id safe as one element of a path: no separators, and
// never "", "." or "..", which would not stay inside the log root.
func pathElem(id string) string {
	id = strings.NewReplacer("/", "_", "\\", "_", "\x00", "_").Replace(id)
	if id == "" || id == "." || id == ".." {
		id = "_" + id
	}
	return id
}

// publishLogs copies the attempt's log files to the pipeline's
// pipelineLogUri, when it has one, in the same layout (§9.4). Failures are
// logged: the logs stay in the local log directory.
func (r *Runner) publishLogs(ctx context.Context, log *slog.Logger, t *Task, logDir string) {
	base, ok := t.Attempt().String("pipelineLogUri")
	if !ok || base == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.CallTimeout)
	defer cancel()
	uri := r.logLocation(t)
	if err := r.cfg.Files.Upload(ctx, logDir, uri); err != nil {
		log.Warn("runner: logs not copied to pipelineLogUri; they stay in the log directory", "dir", logDir, "err", err)
		return
	}
	log.Debug("runner: logs copied", "to", uri)
}

// The longest errorId and errorStackTrace SetTaskStatus accepts (the
// model's string shape), and the longest errorMessage the runner sends.
const (
	maxErrorField   = 1024
	maxErrorMessage = 8 << 10
)

// report sends a task's outcome: FINISHED for a nil error, otherwise what
// the error says (Executor). A failed report is logged; the service then
// ends the attempt when its lease runs out.
func (r *Runner) report(ctx context.Context, log *slog.Logger, taskID string, outcome error) {
	in := statusInput(taskID, outcome)
	err := r.call(ctx, "SetTaskStatus", r.cfg.CallTimeout, func(ctx context.Context) error {
		_, err := r.cfg.API.SetTaskStatus(ctx, in)
		return err
	})
	attrs := []any{"status", in.TaskStatus}
	if in.ErrorId != nil {
		attrs = append(attrs, "error_id", *in.ErrorId, "error", aws.ToString(in.ErrorMessage))
	}
	switch {
	case err == nil:
		log.Info("runner: task reported", attrs...)
	case taskGone(err):
		// Possibly a retry of a report the service did get.
		log.Warn("runner: task report refused: the task is no longer ours", append(attrs, "err", err)...)
	default:
		log.Error("runner: task report failed; the attempt will end when its lease runs out", append(attrs, "err", err)...)
	}
}

// statusInput is the SetTaskStatus of a task's outcome.
func statusInput(taskID string, outcome error) *datapipeline.SetTaskStatusInput {
	in := &datapipeline.SetTaskStatusInput{TaskId: aws.String(taskID), TaskStatus: types.TaskStatusFinished}
	if outcome == nil {
		return in
	}
	te := &TaskError{ID: "TaskRunnerError", Message: outcome.Error()}
	errors.As(outcome, &te)
	in.TaskStatus = types.TaskStatusFailed
	if te.Status == StatusFalse {
		in.TaskStatus = types.TaskStatusFalse
	}
	id := te.ID
	if id == "" {
		id = "TaskRunnerError"
	}
	if strings.HasPrefix(id, "Service_") {
		id = "Task_" + id // reserved for the service, which refuses them
	}
	in.ErrorId = aws.String(truncate(id, maxErrorField))
	in.ErrorMessage = aws.String(truncate(te.Message, maxErrorMessage))
	if te.StackTrace != "" {
		in.ErrorStackTrace = aws.String(truncate(te.StackTrace, maxErrorField))
	}
	return in
}

// truncate cuts s to at most n bytes at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// handBack returns a task the runner gave up at shutdown, so that it runs
// again soon: a precondition as FALSE, which checks it again after its
// retryDelay without using up a try; anything else as FAILED with errorId
// TaskRunnerShutdown, which the service retries after retryDelay while the
// instance has tries left. The public API has no way to return an
// activity without using a try (docs/assumptions/0019-task-runner.md).
func (r *Runner) handBack(ctx context.Context, log *slog.Logger, t *Task) {
	log.Warn("runner: handing the task back")
	te := &TaskError{ID: "TaskRunnerShutdown",
		Message: fmt.Sprintf("The task runner %s on %s stopped before the task finished; the task runs again after its retryDelay.",
			r.cfg.RunnerID, r.cfg.Hostname)}
	if IsPrecondition(t.Type()) {
		te.Status = StatusFalse
	}
	r.report(ctx, log, t.ID, te)
}
