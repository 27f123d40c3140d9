package scheduler

import (
	"errors"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
)

// Errors of the event methods. Callers translate them to the wire.
var (
	// ErrUnknownObject: no instance or attempt has the id.
	ErrUnknownObject = errors.New("no such instance or attempt")
	// ErrNotApplicable: the instance's status does not allow the change,
	// such as canceling a finished instance.
	ErrNotApplicable = errors.New("not applicable to the object's status")
)

// TaskClaimed records that a runner received attempt id's task.
func (r *Run) TaskClaimed(attemptID, taskID, hostname string, now time.Time) error {
	a, in, err := r.openAttempt(attemptID)
	if err != nil {
		return err
	}
	a.Status, a.TaskID, a.Hostname = pipeline.StatusRunning, taskID, hostname
	if a.ActualStart.IsZero() {
		a.ActualStart = now
	}
	r.touchAttempt(a)
	if in.ActualStart.IsZero() {
		in.ActualStart = now
		r.touch(in)
	}
	r.set(in, pipeline.StatusRunning)
	r.dirty[in.ID] = true // attemptTimeout starts now
	if res := r.instances[in.Resource]; res != nil && res.Status == pipeline.StatusCreating {
		r.set(res, pipeline.StatusRunning) // a runner of the resource is up
	}
	return nil
}

// TaskProgress records a runner's progress report on attempt id: when it
// came and, when the runner named one, where the attempt's logs are.
func (r *Run) TaskProgress(attemptID string, now time.Time, logLocation string) error {
	a, _, err := r.openAttempt(attemptID)
	if err != nil {
		return err
	}
	a.ReportProgressTime = now
	if logLocation != "" {
		a.LogLocation = logLocation
	}
	r.touchAttempt(a)
	return nil
}

// TaskDone records the outcome of attempt id's task: FINISHED, or FAILED
// with the runner's error details. A failure is retried after retryDelay
// while the instance has tries left (§5.3).
func (r *Run) TaskDone(attemptID string, status pipeline.Status, errorID, errorMessage, errorStack string, now time.Time) error {
	a, in, err := r.openAttempt(attemptID)
	if err != nil {
		return err
	}
	switch status {
	case pipeline.StatusFinished:
		a.Status, a.ActualEnd = pipeline.StatusFinished, now
		r.touchAttempt(a)
		r.end(in, pipeline.StatusFinished, now)
	case pipeline.StatusFailed, pipeline.StatusTimedOut:
		r.failAttempt(in, a, status, errorID, errorMessage, errorStack, now)
	default:
		return ErrNotApplicable
	}
	return nil
}

// TaskFalse records that a precondition's check found it not met yet
// (SetTaskStatus FALSE). The check runs again after retryDelay, without
// using up a try, until preconditionTimeout has passed since the first
// check; then the precondition has failed (§5.3).
func (r *Run) TaskFalse(attemptID string, now time.Time) error {
	a, in, err := r.openAttempt(attemptID)
	if err != nil {
		return err
	}
	node := r.nodeOf(in)
	if node == nil || node.Kind != pipeline.KindPrecondition {
		return ErrNotApplicable
	}
	const msg = "The precondition is not met."
	a.Status, a.ActualEnd, a.ErrorID, a.ErrorMessage = pipeline.StatusFailed, now, "PreconditionNotMet", msg
	r.touchAttempt(a)
	if !node.PreconditionTimeout.IsZero() && !now.Before(node.PreconditionTimeout.AddTo(in.ActualStart, 1)) {
		in.ErrorID = "PreconditionTimeout"
		in.ErrorMessage = "The precondition was not met within preconditionTimeout (" + node.PreconditionTimeout.String() + ")."
		r.end(in, pipeline.StatusFailed, now)
		return nil
	}
	if r.held {
		return nil
	}
	in.TriesLeft++ // a check that says "not yet" is not a failed try
	r.startAttempt(in, r.route(in, node), node.RetryDelay.AddTo(now, 1), now)
	return nil
}

// TaskLost records that the runner holding attempt id's task stopped
// acknowledging or reporting progress: the attempt times out and is
// retried like a failure.
func (r *Run) TaskLost(attemptID string, now time.Time) error {
	return r.TaskDone(attemptID, pipeline.StatusTimedOut, "LeaseExpired",
		"The task runner stopped reporting progress on the task, so its lease expired.", "", now)
}

func (r *Run) openAttempt(attemptID string) (*pipeline.Attempt, *pipeline.Instance, error) {
	a, ok := r.attempts[attemptID]
	if !ok {
		return nil, nil, ErrUnknownObject
	}
	in, ok := r.instances[a.InstanceID]
	if !ok {
		return nil, nil, ErrUnknownObject
	}
	if a.Status.Terminal() || in.HeadAttempt != a.ID || in.Status.Terminal() {
		return nil, nil, ErrNotApplicable
	}
	return a, in, nil
}

func (r *Run) failAttempt(in *pipeline.Instance, a *pipeline.Attempt, status pipeline.Status, errorID, errorMessage, errorStack string, now time.Time) {
	a.Status, a.ActualEnd = status, now
	a.ErrorID, a.ErrorMessage, a.ErrorStackTrace = errorID, errorMessage, errorStack
	r.touchAttempt(a)
	in.ErrorID, in.ErrorMessage, in.ErrorStackTrace = errorID, errorMessage, errorStack
	node := r.nodeOf(in)
	if node != nil && in.TriesLeft > 0 && !r.held {
		r.startAttempt(in, r.route(in, node), node.RetryDelay.AddTo(now, 1), now)
		return
	}
	final := pipeline.StatusFailed
	if status == pipeline.StatusTimedOut && node != nil && node.Kind == pipeline.KindResource {
		final = pipeline.StatusTimedOut
	}
	r.end(in, final, now)
}

// Cancel is SetStatus TRY_CANCEL: an instance that has not finished is
// CANCELED, and the runner of its running attempt is told to stop (§5.2).
func (r *Run) Cancel(instanceID string, now time.Time) error {
	in, ok := r.instances[instanceID]
	if !ok {
		return ErrUnknownObject
	}
	if in.Status.Terminal() {
		return ErrNotApplicable
	}
	r.stopHeadAttempt(in, now)
	in.CancellationReason = "Canceled with SetStatus TRY_CANCEL."
	r.end(in, pipeline.StatusCanceled, now)
	return nil
}

// stopHeadAttempt cancels the instance's attempt if it is still open, and
// tells its runner to stop.
func (r *Run) stopHeadAttempt(in *pipeline.Instance, now time.Time) {
	a := r.attempts[in.HeadAttempt]
	if a == nil || a.Status.Terminal() {
		return
	}
	a.Status, a.ActualEnd = pipeline.StatusCanceled, now
	r.touchAttempt(a)
	if a.TaskID != "" {
		r.out.Cancel = append(r.out.Cancel, a.TaskID)
	}
}

// MarkFinished is SetStatus MARK_FINISHED: the instance counts as
// finished without running, so its consumers may proceed.
func (r *Run) MarkFinished(instanceID string, now time.Time) error {
	in, ok := r.instances[instanceID]
	if !ok {
		return ErrUnknownObject
	}
	if in.Status == pipeline.StatusFinished {
		return nil
	}
	r.stopHeadAttempt(in, now)
	r.end(in, pipeline.StatusFinished, now)
	return nil
}

// Rerun is SetStatus RERUN: a terminal instance starts over with its full
// tries, and, with cascade, so do the consumers its failure cascaded to
// (§5.4).
func (r *Run) Rerun(instanceID string, now time.Time) error {
	in, ok := r.instances[instanceID]
	if !ok {
		return ErrUnknownObject
	}
	if !in.Status.Terminal() {
		return ErrNotApplicable
	}
	r.reset(in)
	// Consumers that failed because of this instance follow it, and so,
	// transitively, do the consumers whose failure cascaded from theirs.
	rerun := map[string]bool{in.ID: true}
	for grew := true; grew; {
		grew = false
		for _, x := range r.instances {
			if x.Status == pipeline.StatusCascadeFailed && rerun[x.CascadeFailedOn] && !rerun[x.ID] {
				rerun[x.ID], grew = true, true
				r.reset(x)
			}
		}
	}
	r.finishedReported = false
	return nil
}

func (r *Run) reset(in *pipeline.Instance) {
	if node := r.nodeOf(in); node != nil {
		in.TriesLeft = node.MaximumRetries + 1
	}
	in.ActualEnd = time.Time{}
	in.ErrorID, in.ErrorMessage, in.ErrorStackTrace = "", "", ""
	in.CascadeFailedOn, in.CancellationReason = "", ""
	r.touch(in)
	r.set(in, pipeline.StatusWaitingOnDependencies)
	r.dirty[in.ID] = true
}

// Pause is SetStatus PAUSE on a component: its waiting instances are
// PAUSED, including those whose task no runner has claimed yet (the task
// is withdrawn), and no new attempt starts until Resume (§5.2). Attempts a
// runner holds go on.
func (r *Run) Pause(componentID string, now time.Time) {
	r.paused[componentID] = true
	for _, x := range r.byComp[componentID] {
		r.withdraw(x, "PAUSE", now)
		if x.Status == pipeline.StatusWaitingOnDependencies {
			r.dirty[x.ID] = true
		}
	}
}

// withdraw takes back the attempt of an instance that waits for a runner
// none has claimed yet: the attempt is CANCELED without using up a try, its
// task is withdrawn, and the instance waits again, for a RESUME or a
// reactivation to start a new attempt. why names the request. A runner
// that claimed the task meanwhile is told to stop when it reports.
func (r *Run) withdraw(in *pipeline.Instance, why string, now time.Time) {
	if in.Status != pipeline.StatusWaitingForRunner {
		return
	}
	a := r.attempts[in.HeadAttempt]
	if a == nil || a.Status != pipeline.StatusWaitingForRunner {
		return
	}
	r.stopHeadAttempt(in, now)
	a.ErrorMessage = "Withdrawn before a runner claimed it: " + why + "."
	in.TriesLeft++
	r.set(in, pipeline.StatusWaitingOnDependencies)
	r.dirty[in.ID] = true
}

// Resume is SetStatus RESUME on a component.
func (r *Run) Resume(componentID string) {
	delete(r.paused, componentID)
	for _, x := range r.byComp[componentID] {
		if x.Status == pipeline.StatusPaused {
			r.dirty[x.ID] = true
		}
	}
}

// Hold stops or resumes starting attempts, for a pipeline that is
// deactivating or was reactivated. Attempts a runner holds go on; those no
// runner has claimed yet are withdrawn, to start again on reactivation.
func (r *Run) Hold(on bool, now time.Time) {
	if r.held == on {
		return
	}
	r.held = on
	if on {
		for _, in := range r.instances {
			r.withdraw(in, "DeactivatePipeline", now)
		}
	} else {
		for id, in := range r.instances {
			if !in.Status.Terminal() {
				r.dirty[id] = true
			}
		}
	}
}

// Active returns how many instances hold an active slot: their attempts
// are with a runner or waiting for one.
func (r *Run) Active() int {
	n := 0
	for _, c := range r.activeCount {
		n += c
	}
	return n
}

// CancelActive is DeactivatePipeline with cancelActive: every instance
// with an attempt out is CANCELED and its runner told to stop.
func (r *Run) CancelActive(now time.Time) {
	for _, in := range r.instances {
		if isActive(in.Status) {
			r.stopHeadAttempt(in, now)
			in.CancellationReason = "Canceled by DeactivatePipeline."
			r.end(in, pipeline.StatusCanceled, now)
		}
	}
}

// AddOndemandRun creates the instances of one run of an ondemand
// pipeline, activated at at: one per node, all at that instant. An
// activation within the same second as the previous one adds nothing.
func (r *Run) AddOndemandRun(at time.Time) {
	at = at.UTC().Truncate(time.Second)
	var plan []Instance
	for _, n := range r.Graph.Nodes {
		plan = append(plan, Instance{
			ID: InstanceID(n.ID, at), ComponentID: n.ID, N: len(r.byComp[n.ID]),
			Start: at, End: at, Eligible: at, Status: pipeline.StatusWaitingOnDependencies,
		})
	}
	r.Add(plan)
	r.finishedReported = false
}
