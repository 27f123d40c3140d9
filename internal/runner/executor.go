package runner

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/culvert/culvert/internal/sqlconn"
)

// Executor runs the tasks of one or more attempt types.
type Executor interface {
	// Execute runs job's task to its end. It returns nil if the task
	// finished, a [*TaskError] to report it FAILED or FALSE with error
	// details, and any other error to report it FAILED with errorId
	// TaskRunnerError and the error's text.
	//
	// When ctx ends (the task was canceled, or the runner gives it up at
	// shutdown) Execute must stop the work, killing every process it
	// started, and return promptly. The runner then reports nothing for a
	// canceled task and hands back one it gave up, unless Execute returns
	// nil: the work did finish, and is reported FINISHED.
	Execute(ctx context.Context, job *Job) error
}

// ExecutorFunc adapts a function to [Executor].
type ExecutorFunc func(ctx context.Context, job *Job) error

// Execute calls f.
func (f ExecutorFunc) Execute(ctx context.Context, job *Job) error { return f(ctx, job) }

// Job is one task as an executor sees it, with what the runner prepared
// for it.
type Job struct {
	Task *Task
	// WorkDir is a fresh, empty directory: the working directory of the
	// attempt's commands. The runner removes it afterwards, unless told to
	// keep it for debugging.
	WorkDir string
	// ScratchDir is a fresh, empty directory for the executor's own files
	// (a downloaded script), outside WorkDir; removed with it.
	ScratchDir string
	// LogDir exists and is where the attempt's logs go:
	// <log dir>/<pipelineId>/<componentId>/<instanceId>/<attemptId>/
	// (spec §9.4). The runner copies it to pipelineLogUri afterwards.
	LogDir string
	// Files reads and writes the files the task names by URI.
	Files Files
	// Databases resolves RdsDatabase and RedshiftDatabase ids to JDBC
	// URLs.
	Databases sqlconn.Resolver
	// Evaluate evaluates an expression in the context of an object of the
	// task's pipeline (an instance or attempt id) with the service's
	// EvaluateExpression (spec §9.3 step 3); nil when the runner's API
	// cannot. Its errors are the API's: an InvalidRequestException when
	// the expression does not evaluate there.
	Evaluate func(ctx context.Context, objectID, expression string) (string, error)
	// Logger writes to the runner's log and to the attempt's event log,
	// runner.log in LogDir: what the executor did, for the user.
	Logger *slog.Logger
}

// Status is an outcome SetTaskStatus reports.
type Status string

// The outcomes of a task (spec §1.3 SetTaskStatus).
const (
	StatusFinished Status = "FINISHED"
	StatusFailed   Status = "FAILED"
	StatusFalse    Status = "FALSE" // a precondition that is not met
)

// TaskError is how an executor reports a task that did not finish.
type TaskError struct {
	// Status is StatusFailed or StatusFalse; empty means StatusFailed.
	Status Status
	// ID is the errorId, such as ShellCommandFailed. IDs starting with
	// Service_ are the service's; the runner renames them.
	ID         string
	Message    string
	StackTrace string
}

func (e *TaskError) Error() string {
	s := e.Status
	if s == "" {
		s = StatusFailed
	}
	return fmt.Sprintf("%s %s: %s", s, e.ID, e.Message)
}

// failf returns a FAILED [*TaskError].
func failf(id, format string, args ...any) *TaskError {
	return &TaskError{Status: StatusFailed, ID: id, Message: fmt.Sprintf(format, args...)}
}

// Executors maps an attempt's type to the executor that runs it.
type Executors map[string]Executor

// DefaultExecutors returns the executors of this runner: [Shell] for
// ShellCommandActivity and ShellCommandPrecondition, [SQL] for
// SqlActivity, [Copy] for CopyActivity, [Precondition] for S3KeyExists,
// S3PrefixNotEmpty and Exists, and [Unsupported] for the types that need
// AWS infrastructure this machine does not have (EMR, Hive, Pig, Hadoop,
// Redshift's COPY, DynamoDB). Callers replace entries to change
// executors.
func DefaultExecutors() Executors {
	shell := &Shell{}
	e := Executors{
		"CopyActivity":             Copy{},
		"Exists":                   Precondition{},
		"S3KeyExists":              Precondition{},
		"S3PrefixNotEmpty":         Precondition{},
		"ShellCommandActivity":     shell,
		"ShellCommandPrecondition": shell,
		"SqlActivity":              SQL{},
	}
	for typ, need := range unsupportedTypes {
		e[typ] = Unsupported{Needs: need}
	}
	return e
}

// preconditionTypes are the precondition types a runner may be handed. A
// precondition that the runner gives up at shutdown is reported FALSE,
// which checks it again later without using up a try.
var preconditionTypes = []string{
	"DynamoDBDataExists", "DynamoDBTableExists", "Exists", "S3KeyExists", "S3PrefixNotEmpty", "ShellCommandPrecondition",
}

// IsPrecondition reports whether typ is a precondition type.
func IsPrecondition(typ string) bool { return slices.Contains(preconditionTypes, typ) }
