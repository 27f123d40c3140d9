package scheduler

import (
	"container/heap"
	"slices"
	"sort"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
)

// Step reconsiders every instance an event or a timer made dirty, applies
// the §4–§5 rules to each until nothing more changes, and returns what
// changed and when the Run next needs a Step (zero: only an event can
// change anything).
func (r *Run) Step(now time.Time) (Changes, time.Time) {
	for r.timers.Len() > 0 && !r.timers[0].at.After(now) {
		r.dirty[heap.Pop(&r.timers).(timer).id] = true
	}
	// Oldest first, so that a free active slot goes to the earliest
	// waiting interval of a backfill.
	for len(r.dirty) > 0 {
		batch := make([]*pipeline.Instance, 0, len(r.dirty))
		for id := range r.dirty {
			if in, ok := r.instances[id]; ok {
				batch = append(batch, in)
			}
		}
		clear(r.dirty)
		sort.Slice(batch, func(i, j int) bool {
			a, b := batch[i], batch[j]
			if !a.ScheduledStart.Equal(b.ScheduledStart) {
				return a.ScheduledStart.Before(b.ScheduledStart)
			}
			return a.ID < b.ID
		})
		for _, in := range batch {
			r.reconcile(in, now)
		}
	}
	if r.finished() && !r.finishedReported {
		r.finishedReported = true
		r.out.Finished = true
	}
	r.summarize(r.out.Instances)
	r.scheduleNext(now)
	if r.summaryChanged {
		r.out.Summary, r.summaryChanged = r.Summary(), false
	}
	out := r.out
	r.out = Changes{}
	clear(r.touched)
	var next time.Time
	if r.timers.Len() > 0 {
		next = r.timers[0].at
	}
	return out, next
}

// reconcile applies the rules to one instance at now.
func (r *Run) reconcile(in *pipeline.Instance, now time.Time) {
	node := r.nodeOf(in)
	if node == nil || in.Status.Terminal() {
		return
	}
	r.checkLate(in, node, now)
	if in.Status.Terminal() {
		return
	}
	switch in.Status {
	case pipeline.StatusWaitingOnDependencies, pipeline.StatusPaused:
		if r.paused[in.ComponentID] {
			r.set(in, pipeline.StatusPaused)
			return
		}
		if in.Status == pipeline.StatusPaused {
			r.set(in, pipeline.StatusWaitingOnDependencies)
		}
		if now.Before(in.Eligible) {
			r.wakeAt(in.Eligible, in.ID)
			return
		}
		if r.held {
			return // deactivating: nothing new starts
		}
		if in.ActualStart.IsZero() {
			// An instance starts when its time comes, waiting on
			// dependencies or not: list-runs shows it from then (its
			// default filter is on @actualStartTime), as AWS does.
			in.ActualStart = now
			r.touch(in)
		}
		switch node.Kind {
		case pipeline.KindResource:
			r.startResource(in, now)
		case pipeline.KindDataNode:
			r.readyDataNode(in, node, now)
		case pipeline.KindPrecondition:
			// Rerun: check again.
			r.startAttempt(in, r.route(in, node), now, now)
		default:
			r.readyActivity(in, node, now)
		}
	case pipeline.StatusCreating, pipeline.StatusWaitingForRunner, pipeline.StatusRunning:
		if node.Kind == pipeline.KindResource {
			if !r.checkTerminateAfter(in, node, now) {
				r.maybeStopResource(in, now)
			}
			return
		}
		r.checkAttemptTimeout(in, node, now)
	}
}

func (r *Run) set(in *pipeline.Instance, s pipeline.Status) {
	if in.Status == s {
		return
	}
	was := in.Status
	in.Status = s
	r.touch(in)
	r.wake(in)
	if r.isResource(in.ComponentID) {
		switch {
		case isUp(s) && !isUp(was):
			r.resourcesUp[in.ComponentID]++
		case !isUp(s) && isUp(was):
			r.resourcesUp[in.ComponentID]--
		}
	}
	switch {
	case isActive(s) && !isActive(was):
		r.activeCount[in.ComponentID]++
	case !isActive(s) && isActive(was):
		r.activeCount[in.ComponentID]--
		r.slotFreed(in.ComponentID)
	}
}

// end makes an instance terminal with status s.
func (r *Run) end(in *pipeline.Instance, s pipeline.Status, now time.Time) {
	if in.ActualStart.IsZero() && s == pipeline.StatusFinished {
		in.ActualStart = now
	}
	in.ActualEnd = now
	r.set(in, s)
	node, _ := r.Graph.Node(in.ComponentID)
	if node == nil {
		return
	}
	if s.Failed() && node.Cascade {
		r.cancelPreconditions(in, node, now)
	}
	var actions []string
	event := ""
	switch {
	case s == pipeline.StatusFinished:
		actions, event = node.OnSuccess, "onSuccess"
	case s.Failed():
		actions, event = node.OnFail, "onFail"
	}
	for _, a := range actions {
		r.out.Actions = append(r.out.Actions, ActionOrder{ActionID: a, InstanceID: in.ID, Event: event})
	}
}

// cancelPreconditions cancels the checks of a failed instance's
// preconditions still under way: the failure of an object "propagates to
// any associated preconditions, which change to the CANCELED state" (§5.4).
func (r *Run) cancelPreconditions(in *pipeline.Instance, node *Node, now time.Time) {
	for _, p := range node.Preconditions {
		pin := r.instances[r.preconditionInstanceID(p, in)]
		if pin == nil || pin.Status.Terminal() {
			continue
		}
		r.stopHeadAttempt(pin, now)
		pin.CancellationReason = in.ID + " is " + string(in.Status)
		r.end(pin, pipeline.StatusCanceled, now)
	}
}

// depState sums up the instances one instance waits on.
type depState struct {
	waiting bool               // some dependency is not done yet
	failed  *pipeline.Instance // a dependency that failed, if any
}

func (d *depState) add(x *pipeline.Instance, exists bool) {
	switch {
	case x == nil:
		if exists {
			d.waiting = true
		}
	case x.Status == pipeline.StatusFinished || x.Status == pipeline.StatusSkipped:
	case x.Status.Failed():
		if d.failed == nil {
			d.failed = x
		}
	default:
		d.waiting = true
	}
}

// blocked applies a dependency failure: with cascade the instance fails
// with it (§5.4); without, it waits for a rerun indefinitely.
func (r *Run) blocked(in *pipeline.Instance, node *Node, d depState, now time.Time) bool {
	if d.failed != nil {
		if node.Cascade {
			in.CascadeFailedOn = d.failed.ID
			r.end(in, pipeline.StatusCascadeFailed, now)
		}
		return true
	}
	return d.waiting
}

func (r *Run) readyActivity(in *pipeline.Instance, node *Node, now time.Time) {
	var d depState
	for _, id := range node.DependsOn {
		d.add(r.at(id, in.ScheduledStart), r.expected(id, in.ScheduledStart))
	}
	for _, id := range node.Inputs {
		d.add(r.at(id, in.ScheduledStart), r.expected(id, in.ScheduledStart))
	}
	if r.blocked(in, node, d, now) {
		return
	}
	if node.RunsOn != "" {
		res := r.at(node.RunsOn, in.ScheduledStart)
		switch {
		case res == nil:
			return // created with its interval; this instance is woken then
		case res.Status.Terminal():
			// "If a resource fails that the activity depends on, the
			// activity is CANCELED" (§5.4).
			if res.Status.Failed() {
				in.CancellationReason = "resource " + res.ID + " is " + string(res.Status)
				r.end(in, pipeline.StatusCanceled, now)
			}
			return
		case res.Status != pipeline.StatusRunning && res.Status != pipeline.StatusCreating:
			// The resource has not started (its interval has not
			// begun): the activity waits for it.
			in.Resource = res.ID
			r.dirty[res.ID] = true
			return
		}
		in.Resource = res.ID
	}
	if !r.preconditionsMet(in, node, now) {
		return
	}
	if r.activeCount[in.ComponentID] >= max(node.MaxActive, 1) {
		r.waitForSlot(in) // woken when an instance of the component leaves its slot
		return
	}
	r.startAttempt(in, r.route(in, node), now, now)
}

// nodeOf returns the graph node an instance was made from: a runnable
// node or a precondition.
func (r *Run) nodeOf(in *pipeline.Instance) *Node {
	if n, ok := r.Graph.Node(in.ComponentID); ok {
		return n
	}
	if in.Node != "" {
		return r.Graph.Preconditions[in.ComponentID]
	}
	return nil
}

// route returns the worker group of an instance's tasks: its resource's
// when it runs on one (runsOn wins over workerGroup, §9.1), its
// workerGroup otherwise. A precondition without either runs where the
// instance it checks runs.
func (r *Run) route(in *pipeline.Instance, node *Node) string {
	switch {
	case node.RunsOn != "":
		return ResourceWorkerGroup(r.PipelineID, node.RunsOn)
	case node.WorkerGroup != "":
		return node.WorkerGroup
	case in.Node != "":
		if c, ok := r.instances[in.Node]; ok {
			if cn := r.nodeOf(c); cn != nil {
				return r.route(c, cn)
			}
		}
	}
	return ""
}

// preconditionInstanceID names the instance of precondition p that checks
// for instance in: @P_<start> when only one component uses p, and
// @P_<component>_<start> when several do, so that ids stay unique.
func (r *Run) preconditionInstanceID(p string, in *pipeline.Instance) string {
	users := 0
	for _, n := range r.Graph.Nodes {
		if slices.Contains(n.Preconditions, p) {
			users++
		}
	}
	if users > 1 {
		return InstanceID(p+"_"+in.ComponentID, in.ScheduledStart)
	}
	return InstanceID(p, in.ScheduledStart)
}

// preconditionsMet checks the instance's preconditions, creating their
// instances (one per precondition, run as tasks) the first time, and
// applies a failed one like a failed dependency.
func (r *Run) preconditionsMet(in *pipeline.Instance, node *Node, now time.Time) bool {
	var d depState
	for _, p := range node.Preconditions {
		pn := r.Graph.Preconditions[p]
		if pn == nil {
			continue
		}
		id := r.preconditionInstanceID(p, in)
		pin, ok := r.instances[id]
		if !ok {
			pin = &pipeline.Instance{
				ID: id, ComponentID: p, Type: pn.Type, N: in.N, Version: r.Version,
				ScheduledStart: in.ScheduledStart, ScheduledEnd: in.ScheduledEnd, Eligible: now,
				Status: pipeline.StatusWaitingOnDependencies, TriesLeft: pn.MaximumRetries + 1, Node: in.ID,
				ActualStart: now,
			}
			r.index(pin)
			r.touch(pin)
			r.startAttempt(pin, r.route(pin, pn), now, now)
		}
		d.add(pin, true)
	}
	return !r.blocked(in, node, d, now)
}

func (r *Run) startAttempt(in *pipeline.Instance, workerGroup string, notBefore, now time.Time) {
	if r.held {
		return
	}
	in.AttemptCount++
	in.TriesLeft--
	a := &pipeline.Attempt{
		ID: pipeline.AttemptID(in.ID, in.AttemptCount), InstanceID: in.ID, N: in.AttemptCount,
		Status: pipeline.StatusWaitingForRunner, NotBefore: notBefore,
	}
	r.attempts[a.ID] = a
	in.HeadAttempt = a.ID
	r.touchAttempt(a)
	r.out.Tasks = append(r.out.Tasks, TaskOrder{AttemptID: a.ID, InstanceID: in.ID, WorkerGroup: workerGroup, NotBefore: notBefore})
	r.touch(in)
	r.set(in, pipeline.StatusWaitingForRunner)
}

func (r *Run) readyDataNode(in *pipeline.Instance, node *Node, now time.Time) {
	// A data node that an activity writes is ready when every instance of
	// the writers in its interval has finished.
	var d depState
	for _, w := range r.writers(in.ComponentID) {
		for _, x := range r.within(w, in.ScheduledStart, in.ScheduledEnd) {
			d.add(x, true)
		}
		if !r.allCreated(w, in.ScheduledStart, in.ScheduledEnd) {
			d.waiting = true
		}
	}
	if r.blocked(in, node, d, now) || !r.preconditionsMet(in, node, now) {
		return
	}
	r.end(in, pipeline.StatusFinished, now)
}

// writers returns the activities that list data node id as an output.
func (r *Run) writers(id string) []string {
	var out []string
	for _, n := range r.Graph.Nodes {
		for _, o := range n.Outputs {
			if o == id {
				out = append(out, n.ID)
				break
			}
		}
	}
	return out
}

// allCreated reports whether component id has an instance for every one
// of its intervals starting in [from, to).
func (r *Run) allCreated(id string, from, to time.Time) bool {
	if r.Graph.Ondemand {
		return len(r.within(id, from, to)) > 0
	}
	n, ok := r.Graph.Node(id)
	if !ok {
		return true
	}
	s := r.Graph.Schedules[n.Schedule]
	first, last := s.startedBefore(from), s.startedBefore(to)
	if c := s.Count(); c >= 0 {
		first, last = min(first, c), min(last, c)
	}
	return len(r.within(id, from, to)) >= last-first
}

// startResource starts a resource instance at the start of its interval:
// it is CREATING until a runner of its worker group claims the first task
// that runs on it, which shows the resource is up (TaskClaimed), then
// RUNNING. Nothing else needs provisioning here: a resource is its worker
// group.
func (r *Run) startResource(in *pipeline.Instance, now time.Time) {
	in.ActualStart = now
	r.touch(in)
	r.set(in, pipeline.StatusCreating)
	if node := r.nodeOf(in); node != nil && r.checkTerminateAfter(in, node, now) {
		return
	}
	r.maybeStopResource(in, now)
}

// maybeStopResource finishes a resource once every activity instance in
// its window that runs on it is done and no more will come. SHUTTING_DOWN
// has nothing to wait for here, so it passes at once.
func (r *Run) maybeStopResource(in *pipeline.Instance, now time.Time) {
	if in.Status != pipeline.StatusRunning && in.Status != pipeline.StatusCreating {
		return
	}
	for _, x := range r.onResource(in) {
		if !x.Status.Terminal() {
			return
		}
	}
	for _, c := range r.consumers[in.ComponentID] {
		if c.rel == relRunsOn && !r.allCreated(c.id, in.ScheduledStart, in.ScheduledEnd) {
			return
		}
	}
	r.end(in, pipeline.StatusFinished, now)
}

// onResource returns the activity instances in a resource instance's
// window that run on it.
func (r *Run) onResource(in *pipeline.Instance) []*pipeline.Instance {
	var out []*pipeline.Instance
	for _, c := range r.consumers[in.ComponentID] {
		if c.rel == relRunsOn {
			out = append(out, r.within(c.id, in.ScheduledStart, in.ScheduledEnd)...)
		}
	}
	return out
}

// checkTerminateAfter ends a resource that has lived for its
// terminateAfter: it is TIMEDOUT, and so is every unfinished activity
// instance that runs on it, whose runners are told to stop (§3.3). It
// reports whether it did.
func (r *Run) checkTerminateAfter(in *pipeline.Instance, node *Node, now time.Time) bool {
	if node.TerminateAfter.IsZero() || in.ActualStart.IsZero() {
		return false
	}
	deadline := node.TerminateAfter.AddTo(in.ActualStart, 1)
	if now.Before(deadline) {
		r.wakeAt(deadline, in.ID)
		return false
	}
	msg := "Resource " + in.ID + " was terminated after terminateAfter (" + node.TerminateAfter.String() + ")."
	for _, x := range r.onResource(in) {
		if x.Status.Terminal() {
			continue
		}
		r.stopHeadAttempt(x, now)
		if a := r.attempts[x.HeadAttempt]; a != nil && a.Status == pipeline.StatusCanceled && a.ActualEnd.Equal(now) {
			a.Status, a.ErrorID, a.ErrorMessage = pipeline.StatusTimedOut, "ResourceTerminated", msg
		}
		x.ErrorID, x.ErrorMessage = "ResourceTerminated", msg
		r.end(x, pipeline.StatusTimedOut, now)
	}
	in.ErrorID, in.ErrorMessage = "TerminateAfter", msg
	r.end(in, pipeline.StatusTimedOut, now)
	return true
}

func (r *Run) checkAttemptTimeout(in *pipeline.Instance, node *Node, now time.Time) {
	if node.AttemptTimeout.IsZero() {
		return
	}
	a := r.attempts[in.HeadAttempt]
	if a == nil || a.Status != pipeline.StatusRunning || a.ActualStart.IsZero() {
		return
	}
	deadline := node.AttemptTimeout.AddTo(a.ActualStart, 1)
	if now.Before(deadline) {
		r.wakeAt(deadline, in.ID)
		return
	}
	r.failAttempt(in, a, pipeline.StatusTimedOut, "AttemptTimeout",
		"The attempt did not finish within attemptTimeout ("+node.AttemptTimeout.String()+").", "", now)
	if a.TaskID != "" {
		r.out.Cancel = append(r.out.Cancel, a.TaskID)
	}
}

// checkLate fires the instance's late actions once, lateAfterTimeout
// after its scheduled start, if it has not finished by then (§5.5).
func (r *Run) checkLate(in *pipeline.Instance, node *Node, now time.Time) {
	if r.Graph.Ondemand || node.LateAfterTimeout.IsZero() || in.LateActionsFired || len(node.OnLateAction) == 0 {
		return
	}
	deadline := node.LateAfterTimeout.AddTo(in.ScheduledStart, 1)
	if now.Before(deadline) {
		r.wakeAt(deadline, in.ID)
		return
	}
	in.LateActionsFired = true
	r.touch(in)
	for _, a := range node.OnLateAction {
		r.out.Actions = append(r.out.Actions, ActionOrder{ActionID: a, InstanceID: in.ID, Event: "onLateAction"})
	}
}

// finished reports whether the pipeline is done: every schedule finite,
// every interval created, and every instance terminal without a failure.
// An instance that FAILED (or CASCADE_FAILED, or TIMEDOUT) keeps the
// pipeline SCHEDULED so that it can still be rerun with SetStatus, which a
// FINISHED pipeline refuses (docs/assumptions/0014).
func (r *Run) finished() bool {
	if len(r.Graph.Nodes) == 0 || len(r.instances) == 0 {
		return false
	}
	for _, x := range r.instances {
		if !x.Status.Terminal() || (x.Status.Failed() && x.Status != pipeline.StatusCanceled) {
			return false
		}
	}
	if r.Graph.Ondemand {
		return true
	}
	for _, n := range r.Graph.Nodes {
		s := r.Graph.Schedules[n.Schedule]
		if !s.Finite() || len(r.byComp[n.ID]) < s.Count() {
			return false
		}
	}
	return true
}
