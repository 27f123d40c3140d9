package pipeline

import (
	"strconv"
	"time"
)

// Status is the @status of an instance or an attempt (§5.1).
type Status string

// Instance and attempt statuses. CANCELED has one L, as on AWS.
const (
	StatusWaitingOnDependencies Status = "WAITING_ON_DEPENDENCIES"
	StatusWaitingForRunner      Status = "WAITING_FOR_RUNNER"
	StatusCreating              Status = "CREATING" // resources being started
	StatusRunning               Status = "RUNNING"
	StatusShuttingDown          Status = "SHUTTING_DOWN" // resources done with their work
	StatusFinished              Status = "FINISHED"
	StatusFailed                Status = "FAILED"
	StatusCascadeFailed         Status = "CASCADE_FAILED"
	StatusCanceled              Status = "CANCELED"
	StatusTimedOut              Status = "TIMEDOUT"
	StatusPaused                Status = "PAUSED"
	StatusSkipped               Status = "SKIPPED"
)

// Terminal reports whether an instance or attempt with the status is done:
// nothing happens to it again unless a user reruns it.
func (s Status) Terminal() bool {
	switch s {
	case StatusFinished, StatusFailed, StatusCascadeFailed, StatusCanceled, StatusTimedOut, StatusSkipped:
		return true
	}
	return false
}

// Failed reports whether a terminal status counts as a failure for the
// instances that depend on it (§5.4).
func (s Status) Failed() bool {
	switch s {
	case StatusFailed, StatusCascadeFailed, StatusCanceled, StatusTimedOut:
		return true
	}
	return false
}

// Instance is one run of a component in one schedule interval (§4.4): the
// object DescribeObjects shows in the INSTANCE sphere.
type Instance struct {
	ID          string // @Component_2026-01-01T00:00:00
	ComponentID string
	Type        string // the component's type, shown as the instance's type
	// N is the interval's index in the component's schedule, or the run
	// number of an ondemand pipeline.
	N int
	// Version is the definition version the instance was created from.
	Version int64

	ScheduledStart, ScheduledEnd time.Time
	// Eligible is when the instance may run, dependencies permitting: the
	// start of its interval for cron, the end for timeseries.
	Eligible time.Time

	Status      Status
	ActualStart time.Time // zero until it starts
	ActualEnd   time.Time // zero until it is terminal

	AttemptCount int // @attemptCount
	TriesLeft    int // @triesLeft
	HeadAttempt  string
	// Resource is the id of the resource instance it runs on, if any.
	Resource string
	// Node is, for a precondition instance, the instance it checks for:
	// the runtime field node.
	Node string

	ErrorID, ErrorMessage, ErrorStackTrace string
	CascadeFailedOn                        string // the instance whose failure cascaded here
	CancellationReason                     string
	LateActionsFired                       bool
	// Events records the actions (SnsAlarm, Terminate) the instance
	// fired, oldest first, each as "TIME EVENT TYPE ID: detail", shown as
	// its @event fields.
	Events []string
}

// Attempt is one try at running an instance: the object DescribeObjects
// shows in the ATTEMPT sphere.
type Attempt struct {
	ID         string // @Component_2026-01-01T00:00:00_Attempt=1
	InstanceID string
	N          int // 1-based
	Status     Status
	// TaskID is the id PollForTask handed to a runner for this attempt.
	TaskID   string
	Hostname string

	// NotBefore is when the attempt may be handed to a runner: a retry
	// waits retryDelay after the failure before it.
	NotBefore          time.Time
	ActualStart        time.Time
	ActualEnd          time.Time
	ReportProgressTime time.Time
	// LogLocation is where the runner says the attempt's logs are
	// (@logLocation): an s3:// URI, a file:// URI or an absolute path.
	LogLocation string

	ErrorID, ErrorMessage, ErrorStackTrace string
}

// AttemptID returns the id of attempt n (1-based) of an instance.
func AttemptID(instanceID string, n int) string {
	return instanceID + "_Attempt=" + strconv.Itoa(n)
}
