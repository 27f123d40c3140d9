package scheduler

import (
	"container/heap"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
)

// Run is the state of one activated pipeline's instances and attempts, as
// the scheduler loop holds it in memory. It is a state machine driven by
// events (instances created by the planner, task outcomes, SetStatus, the
// passing of time); each event updates the Run and records the changes the
// caller must persist, which Step returns. A Run does no I/O and reads no
// clock, so every rule of §4–§5 is tested by feeding it events.
//
// A Run is not safe for concurrent use.
type Run struct {
	PipelineID string
	Version    int64
	Graph      *Graph
	paused     map[string]bool

	instances map[string]*pipeline.Instance
	attempts  map[string]*pipeline.Attempt
	byComp    map[string][]*pipeline.Instance // ordered by ScheduledStart
	consumers map[string][]consumer           // component id → who depends on it

	dirty  map[string]bool // instance ids to reconsider at the next Step
	timers timerHeap
	out    Changes
	// touched dedupes out.Instances and out.Attempts.
	touched map[any]bool

	// activeCount counts each component's instances holding an active
	// slot (WAITING_FOR_RUNNER or RUNNING), for maxActiveInstances.
	activeCount map[string]int
	// resourcesUp counts each resource component's instances that are
	// CREATING or RUNNING: its worker group needs a runner (ResourceGroups).
	resourcesUp map[string]int
	// slotWait holds, per component, the instances that were ready but
	// for a free active slot, earliest first: who gets a freed slot.
	slotWait   map[string]*instanceHeap
	inSlotWait map[*pipeline.Instance]bool

	finishedReported bool
	// held is set while the pipeline deactivates: no attempt starts.
	held bool

	// summary is the run's health and run times (run_summary.go);
	// summaryChanged says a Step must report it.
	summary        pipeline.RunSummary
	summaryChanged bool
}

// consumer is an edge of the graph, seen from the component depended on.
type consumer struct {
	id  string // the consuming component
	rel relation
}

type relation uint8

const (
	relDependsOn relation = iota // consumer lists the component in dependsOn
	relInput                     // consumer lists the data node in input
	relOutput                    // the data node is an output of the consumer (an activity)
	relRunsOn                    // consumer runs on the resource
)

// Changes is what the caller must persist after events, in one
// transaction, for the Run in memory and the store to agree.
type Changes struct {
	Instances []*pipeline.Instance // created or changed, each once, in the order first touched
	Attempts  []*pipeline.Attempt  // created or changed
	Tasks     []TaskOrder          // tasks to enqueue for new attempts
	Cancel    []string             // task ids whose runners must stop
	Actions   []ActionOrder        // onSuccess, onFail and onLateAction to perform
	Finished  bool                 // every instance of a finite pipeline is done
	// Summary, when not nil, is the run's new health and run times.
	Summary *pipeline.RunSummary
}

// Empty reports whether there is nothing to persist.
func (c *Changes) Empty() bool {
	return len(c.Instances) == 0 && len(c.Attempts) == 0 && len(c.Tasks) == 0 &&
		len(c.Cancel) == 0 && len(c.Actions) == 0 && !c.Finished && c.Summary == nil
}

// TaskOrder asks for a task to be queued for a new attempt.
type TaskOrder struct {
	AttemptID  string
	InstanceID string
	// WorkerGroup routes the task: the resource's worker group when the
	// component runs on a resource, its workerGroup otherwise (§9.1).
	WorkerGroup string
	NotBefore   time.Time
}

// ActionOrder asks for an action (SnsAlarm, Terminate) to be performed
// for an instance.
type ActionOrder struct {
	ActionID   string
	InstanceID string
	Event      string // "onSuccess", "onFail" or "onLateAction"
}

// ResourceWorkerGroup is the worker group of tasks that run on a resource
// component: deterministic, so that an embedded runner can serve it.
func ResourceWorkerGroup(pipelineID, resourceID string) string {
	return resourceGroupPrefix + pipelineID + ":" + resourceID
}

const resourceGroupPrefix = "culvert:"

// ParseResourceWorkerGroup returns the pipeline and resource of a worker
// group made by [ResourceWorkerGroup], and false for any other group.
func ParseResourceWorkerGroup(workerGroup string) (pipelineID, resourceID string, ok bool) {
	rest, ok := strings.CutPrefix(workerGroup, resourceGroupPrefix)
	if !ok {
		return "", "", false
	}
	pipelineID, resourceID, ok = strings.Cut(rest, ":")
	return pipelineID, resourceID, ok && pipelineID != "" && resourceID != ""
}

// NewRun builds the Run of a pipeline from its compiled active definition
// and the instances and attempts it already has, which it takes over and
// changes in place: a caller holding shared ones passes copies.
func NewRun(pipelineID string, version int64, g *Graph, paused []string, instances []*pipeline.Instance, attempts []*pipeline.Attempt) *Run {
	r := &Run{
		PipelineID: pipelineID, Version: version, Graph: g,
		paused:    map[string]bool{},
		instances: make(map[string]*pipeline.Instance, len(instances)),
		attempts:  make(map[string]*pipeline.Attempt, len(attempts)),
		byComp:    map[string][]*pipeline.Instance{},
		consumers: map[string][]consumer{},
		dirty:     map[string]bool{},
		touched:   map[any]bool{},

		activeCount: map[string]int{},
		resourcesUp: map[string]int{},
		slotWait:    map[string]*instanceHeap{},
		inSlotWait:  map[*pipeline.Instance]bool{},
	}
	for _, id := range paused {
		r.paused[id] = true
	}
	for _, n := range g.Nodes {
		for _, d := range n.DependsOn {
			r.consumers[d] = append(r.consumers[d], consumer{n.ID, relDependsOn})
		}
		for _, d := range n.Inputs {
			r.consumers[d] = append(r.consumers[d], consumer{n.ID, relInput})
		}
		for _, d := range n.Outputs {
			// A data node depends on the activity that writes it.
			r.consumers[n.ID] = append(r.consumers[n.ID], consumer{d, relOutput})
		}
		if n.RunsOn != "" {
			r.consumers[n.RunsOn] = append(r.consumers[n.RunsOn], consumer{n.ID, relRunsOn})
		}
	}
	for _, a := range attempts {
		r.attempts[a.ID] = a
	}
	for _, in := range instances {
		r.index(in)
		if isActive(in.Status) {
			r.activeCount[in.ComponentID]++
		}
		if isUp(in.Status) && r.isResource(in.ComponentID) {
			r.resourcesUp[in.ComponentID]++
		}
		if !in.Status.Terminal() {
			r.dirty[in.ID] = true
		}
	}
	// The first Step saves it, so a run stored before summaries were
	// kept gets one too.
	r.summarize(instances)
	return r
}

func (r *Run) index(in *pipeline.Instance) {
	r.instances[in.ID] = in
	list := r.byComp[in.ComponentID]
	i := sort.Search(len(list), func(i int) bool { return !list[i].ScheduledStart.Before(in.ScheduledStart) })
	r.byComp[in.ComponentID] = slices.Insert(list, i, in)
}

func isActive(s pipeline.Status) bool {
	return s == pipeline.StatusWaitingForRunner || s == pipeline.StatusRunning
}

// isUp reports whether a resource instance in status s needs its worker
// group served. Only resources are ever CREATING; RUNNING counts only for
// them, since resourcesUp is kept for resource components alone.
func isUp(s pipeline.Status) bool {
	return s == pipeline.StatusCreating || s == pipeline.StatusRunning
}

func (r *Run) isResource(componentID string) bool {
	n, _ := r.Graph.Node(componentID)
	return n != nil && n.Kind == pipeline.KindResource
}

// ResourceGroups returns the worker groups of the run's resources that
// have an instance CREATING or RUNNING, sorted: the groups a runner must
// serve now for the run's runsOn work to go on (culvert serve's embedded
// runner serves them).
func (r *Run) ResourceGroups() []string {
	var out []string
	for comp, n := range r.resourcesUp {
		if n > 0 {
			out = append(out, ResourceWorkerGroup(r.PipelineID, comp))
		}
	}
	slices.Sort(out)
	return out
}

// waitForSlot queues an instance that is ready but for a free slot.
func (r *Run) waitForSlot(in *pipeline.Instance) {
	if r.inSlotWait[in] {
		return
	}
	h := r.slotWait[in.ComponentID]
	if h == nil {
		h = &instanceHeap{}
		r.slotWait[in.ComponentID] = h
	}
	r.inSlotWait[in] = true
	heap.Push(h, in)
}

// slotFreed wakes the earliest instance waiting for a slot of the
// component that still waits.
func (r *Run) slotFreed(componentID string) {
	h := r.slotWait[componentID]
	for h != nil && h.Len() > 0 {
		in := heap.Pop(h).(*pipeline.Instance)
		delete(r.inSlotWait, in)
		if in.Status == pipeline.StatusWaitingOnDependencies {
			r.dirty[in.ID] = true
			return
		}
	}
}

// instanceHeap orders instances by scheduled start, then id.
type instanceHeap []*pipeline.Instance

func (h instanceHeap) Len() int { return len(h) }
func (h instanceHeap) Less(i, j int) bool {
	if !h[i].ScheduledStart.Equal(h[j].ScheduledStart) {
		return h[i].ScheduledStart.Before(h[j].ScheduledStart)
	}
	return h[i].ID < h[j].ID
}
func (h instanceHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *instanceHeap) Push(x any)   { *h = append(*h, x.(*pipeline.Instance)) }
func (h *instanceHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// pending reports whether something changed that a Step must look at.
func (r *Run) pending() bool { return len(r.dirty) > 0 || !r.out.Empty() }

// Instance returns the instance with the given id.
func (r *Run) Instance(id string) (*pipeline.Instance, bool) {
	in, ok := r.instances[id]
	return in, ok
}

// Attempt returns the attempt with the given id.
func (r *Run) Attempt(id string) (*pipeline.Attempt, bool) {
	a, ok := r.attempts[id]
	return a, ok
}

// Created returns how many instances each component has, which is the
// planner's Created input.
func (r *Run) Created() map[string]int {
	m := make(map[string]int, len(r.byComp))
	for id, list := range r.byComp {
		m[id] = len(list)
	}
	return m
}

// Add records instances the planner created.
func (r *Run) Add(plan []Instance) {
	for _, p := range plan {
		if _, dup := r.instances[p.ID]; dup {
			continue
		}
		node, ok := r.Graph.Node(p.ComponentID)
		if !ok {
			continue
		}
		in := &pipeline.Instance{
			ID: p.ID, ComponentID: p.ComponentID, Type: node.Type, N: p.N, Version: r.Version,
			ScheduledStart: p.Start, ScheduledEnd: p.End, Eligible: p.Eligible, Status: p.Status,
			TriesLeft: node.MaximumRetries + 1,
		}
		r.index(in)
		r.touch(in)
		if !in.Status.Terminal() {
			r.dirty[in.ID] = true
		}
	}
}

// touch records that an instance changed.
func (r *Run) touch(in *pipeline.Instance) {
	if !r.touched[in] {
		r.touched[in] = true
		r.out.Instances = append(r.out.Instances, in)
	}
}

func (r *Run) touchAttempt(a *pipeline.Attempt) {
	if !r.touched[a] {
		r.touched[a] = true
		r.out.Attempts = append(r.out.Attempts, a)
	}
}

// at returns the instance of component id whose interval holds t: the
// binding of a dependency to the instance that depends on it (§4.2: one
// resource serves every activity instance in its window).
func (r *Run) at(id string, t time.Time) *pipeline.Instance { return pipeline.Holding(r.byComp[id], t) }

// within returns the instances of component id that start in [from, to).
func (r *Run) within(id string, from, to time.Time) []*pipeline.Instance {
	list := r.byComp[id]
	i := sort.Search(len(list), func(i int) bool { return !list[i].ScheduledStart.Before(from) })
	j := sort.Search(len(list), func(i int) bool { return !list[i].ScheduledStart.Before(to) })
	if to.Equal(from) { // an ondemand run: one instant
		j = sort.Search(len(list), func(i int) bool { return list[i].ScheduledStart.After(to) })
	}
	return list[i:j]
}

// expected reports whether component id will have an instance whose
// interval holds t, created or not.
func (r *Run) expected(id string, t time.Time) bool {
	if r.Graph.Ondemand {
		return true
	}
	n, ok := r.Graph.Node(id)
	if !ok {
		return false
	}
	s := r.Graph.Schedules[n.Schedule]
	k := s.startedBefore(t.Add(time.Nanosecond)) - 1
	return k >= 0 && s.Exists(k)
}

// wake marks the instances affected by a change to in as dirty: the
// instances that depend on it, the next instances of its component (which
// may have waited for a free active slot), and the resource it ran on.
func (r *Run) wake(in *pipeline.Instance) {
	for _, c := range r.consumers[in.ComponentID] {
		for _, x := range r.within(c.id, in.ScheduledStart, in.ScheduledEnd) {
			r.dirty[x.ID] = true
		}
		if c.rel == relOutput {
			if x := r.at(c.id, in.ScheduledStart); x != nil {
				r.dirty[x.ID] = true
			}
		}
	}
	if in.Resource != "" {
		r.dirty[in.Resource] = true
	}
	if in.Node != "" {
		r.dirty[in.Node] = true
	}
}

// timer entries wake an instance at a time.
type timer struct {
	at time.Time
	id string
}

type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

func (r *Run) wakeAt(t time.Time, id string) { heap.Push(&r.timers, timer{t, id}) }
