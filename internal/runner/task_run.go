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
	// runner unless it hears within two minutes.
	canceled, err := r.progress(s.report, taskID)
	switch {
	case err != nil:
		log.Error("runner: could not acknowledge the task; it is left to its lease", "err", err)
		return
	case canceled:
		log.Info("runner: the task was canceled before it started")
		return
	}
	task, err := ParseTask(to)
	if err != nil {
		r.report(s.report, log, taskID, failf("InvalidTaskObject", "%v", err))
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
	err = r.execute(execCtx, log, task)
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

// progress reports progress on a task, retrying as call does, and returns
// whether the service canceled it. TaskNotFoundException and the other
// errors that say the task is gone are returned as they are.
func (r *Runner) progress(ctx context.Context, taskID string) (canceled bool, err error) {
	err = r.call(ctx, "ReportTaskProgress", r.cfg.CallTimeout, func(ctx context.Context) error {
		out, err := r.cfg.API.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: aws.String(taskID)})
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
		canceled, err := r.progress(ctx, taskID)
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

// execute prepares the task's directories and runs its executor.
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
	job := &Job{
		Task: task, WorkDir: filepath.Join(root, "work"), ScratchDir: filepath.Join(root, "scratch"),
		LogDir: logDir, Files: r.cfg.Files, Logger: log,
	}
	for _, d := range []string{job.WorkDir, job.ScratchDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return fmt.Errorf("working directory: %w", err)
		}
	}
	defer r.publishLogs(ctx, log, task, logDir)
	defer func() {
		if p := recover(); p != nil {
			err = &TaskError{ID: "TaskRunnerError", Message: fmt.Sprintf("the %s executor panicked: %v", task.Type(), p), StackTrace: string(debug.Stack())}
		}
	}()
	return ex.Execute(ctx, job)
}

// attemptLogDir is the attempt's log directory:
// <LogDir>/<pipelineId>/<componentId>/<instanceId>/<attemptId> (§9.4).
func (r *Runner) attemptLogDir(t *Task) string {
	return filepath.Join(r.cfg.LogDir, filepath.Join(logPath(t)...))
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
	entries, err := os.ReadDir(logDir)
	if err != nil {
		log.Warn("runner: cannot list the attempt's logs", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.CallTimeout)
	defer cancel()
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		uri := joinURI(base, append(logPath(t), e.Name())...)
		if err := copyFile(ctx, r.cfg.Files, uri, filepath.Join(logDir, e.Name())); err != nil {
			log.Warn("runner: logs not copied to pipelineLogUri; they stay in the log directory", "dir", logDir, "err", err)
			return
		}
	}
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
