package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// TaskBuilder returns the JSON of the TaskObject's objects map for a new
// attempt of a pipeline's run. An error fails the attempt: its message
// becomes the attempt's errorMessage, so it must not reveal secrets.
type TaskBuilder func(def *pipeline.Definition, run *Run, attempt *pipeline.Attempt) ([]byte, error)

// LoopConfig configures a Loop.
type LoopConfig struct {
	Store  store.Store
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default slog.Default()
	// Ahead is how long before its eligibility an instance is created
	// (default one minute): instances appear "slightly ahead of schedule",
	// and run on schedule.
	Ahead time.Duration
	// MaxCreate bounds the instances one step creates and persists in one
	// transaction (default 5,000); a long backfill takes several steps.
	MaxCreate int
	// ReapEvery is how soon reaping expired task leases is tried again
	// after the store failed to say when the next lease ends (default five
	// seconds). Otherwise a lease is reaped as it ends.
	ReapEvery time.Duration
	// BuildTask makes task objects; the default is BuildTaskObject over
	// the run's bound instances.
	BuildTask TaskBuilder
	// AlarmSinks names the sinks that deliver fired SnsAlarms (see
	// package alarm). Each alarm is queued once per sink with the step
	// that fired it; with none, alarms go only to the log and to the
	// instance's events.
	AlarmSinks []string
	// MinPassGap is the least time from the start of one pass to the
	// start of the next when the next is called by an event (default 5
	// ms): under load, what arrives meanwhile makes one step.
	MinPassGap time.Duration
	// Resources, when set, hears which resource worker groups a pipeline
	// needs served (Run.ResourceGroups) whenever that changes, and nil
	// once its run stops: culvert serve's embedded runner starts and
	// stops runners by it. It is called from the loop's goroutine and
	// must not block.
	Resources func(account, pipelineID string, groups []string)
}

func (c LoopConfig) withDefaults() LoopConfig {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Ahead == 0 {
		c.Ahead = time.Minute
	}
	if c.MaxCreate == 0 {
		c.MaxCreate = 5000
	}
	if c.MinPassGap == 0 {
		c.MinPassGap = 10 * time.Millisecond
	}
	if c.ReapEvery == 0 {
		c.ReapEvery = 5 * time.Second
	}
	if c.BuildTask == nil {
		c.BuildTask = buildTask
	}
	return c
}

// Loop drives the runs of every running pipeline: it plans instances,
// applies task outcomes from any node, SetStatus commands, activations,
// deactivations and the passing of time to each pipeline's Run, and
// persists every step through the store. Only one Loop may run against a
// store at a time (the leader's).
type Loop struct {
	cfg  LoopConfig
	st   store.Store
	runs map[string]*pipelineRun // by pipeline id
	// taskSeq is how far the task feed has been read.
	taskSeq  int64
	nextReap time.Time
	// delayed holds worker groups to wake when a retry's task becomes
	// claimable, which no enqueue announces.
	delayed map[string]time.Time // topic → when
}

// pipelineRun is what the loop keeps per pipeline.
type pipelineRun struct {
	account, id string
	version     int64
	def         *pipeline.Definition
	run         *Run
	activated   time.Time // LastActivatedAt the run has seen
	skipBefore  time.Time // the last activation's startTimestamp
	// planAt is when planning next has something to do (Plan.Wake): a
	// plan before then creates nothing, and making it cost a busy run
	// more than its own step. Zero: plan at the next step; planDone:
	// every schedule is exhausted.
	planAt   time.Time
	planDone bool
	paused   []string
	wake     time.Time // when the run next needs a step; zero: only on events
	due      bool      // step at the next pass
	// doneCommands are applied commands the next saved step removes.
	doneCommands []int64
	// groups are the resource worker groups last reported to
	// LoopConfig.Resources.
	groups []string
}

// reportResources tells LoopConfig.Resources the run's resource groups if
// they changed since the last report.
func (l *Loop) reportResources(pr *pipelineRun, groups []string) {
	if l.cfg.Resources == nil || slices.Equal(groups, pr.groups) {
		return
	}
	pr.groups = groups
	l.cfg.Resources(pr.account, pr.id, groups)
}

// NewLoop returns a Loop.
func NewLoop(cfg LoopConfig) (*Loop, error) {
	cfg = cfg.withDefaults()
	if cfg.Store == nil {
		return nil, errors.New("scheduler: LoopConfig.Store is required")
	}
	return &Loop{cfg: cfg, st: cfg.Store, runs: map[string]*pipelineRun{}, delayed: map[string]time.Time{}}, nil
}

// Run drives the runs until ctx ends, then returns ctx's error. Store
// errors are logged and retried at the next pass; they never stop it.
func (l *Loop) Run(ctx context.Context) error {
	wake, cancel := l.st.Notifier().Subscribe(store.SchedulerTopic)
	defer cancel()
	head, err := l.st.TaskChangeHead(ctx)
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	l.taskSeq = head
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		started := time.Now()
		next := l.Pass(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		d := time.Hour
		if !next.IsZero() {
			d = max(next.Sub(l.cfg.Now()), 0)
		}
		if d > 0 {
			// Nothing is due at once: let the pass's commits finish
			// before the next pass, so that the task completions that
			// arrive meanwhile make one step rather than one each (the
			// loop's writes do not wait; see Pass). A backfill, always
			// due, plans on while the last step commits.
			if _, err := l.st.TaskChangeHead(ctx); err != nil && ctx.Err() == nil {
				l.cfg.Logger.Error("scheduler: waiting for the pass to be durable", "err", err)
			}
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
			// Woken by an event (a task finished, a command came): while
			// events come fast, let those of MinPassGap make one pass.
			// A pass costs much the same for one task change as for
			// twenty, so under load this is what keeps the scheduler's
			// share of each task small; an idle loop answers at once.
			if gap := l.cfg.MinPassGap - time.Since(started); gap > 0 {
				timer.Reset(gap)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-timer.C:
				}
			}
		case <-timer.C:
		}
	}
}

// Pass does everything that is due once and returns when the next pass is
// needed without an event (zero: none). Run calls it in a loop; tests call
// it directly with an injected clock.
func (l *Loop) Pass(ctx context.Context) time.Time {
	// The loop plans from what it reads and writes what follows from it,
	// so it need not wait for its commits (store.Unsynced): planning the
	// next step of a backfill overlaps with committing the last one.
	ctx = store.Unsynced(ctx)
	now := l.cfg.Now()
	// Task changes first: a deactivation or PAUSE (sync) withdraws the
	// tasks no runner has claimed, and must not take a claim that came
	// before it for none. (Runs sync loads replay their tasks themselves.)
	if err := l.feed(ctx, now); err != nil {
		l.cfg.Logger.Error("scheduler: reading task changes", "err", err)
	}
	if err := l.sync(ctx, now); err != nil {
		l.cfg.Logger.Error("scheduler: reading pipelines", "err", err)
	}
	if l.nextReap.IsZero() || !now.Before(l.nextReap) {
		if n, err := l.st.TaskReap(ctx, now); err != nil {
			l.cfg.Logger.Error("scheduler: reaping leases", "err", err)
		} else if n > 0 {
			l.cfg.Logger.Info("scheduler: task leases expired", "tasks", n)
		}
	}
	// The next reap is due when the earliest lease out ends (a lease
	// extended meanwhile only costs a pass that reaps nothing); with none
	// out, only a claim, which wakes the scheduler, can make one due.
	switch lease, err := l.st.TaskLeaseNext(ctx); {
	case err != nil:
		l.cfg.Logger.Error("scheduler: reading leases", "err", err)
		l.nextReap = now.Add(l.cfg.ReapEvery)
	case lease.IsZero():
		l.nextReap = time.Time{}
	default:
		l.nextReap = lease.Add(time.Nanosecond) // TaskReap takes leases that ended before now
	}
	// Again, for the leases just reaped.
	if err := l.feed(ctx, now); err != nil {
		l.cfg.Logger.Error("scheduler: reading task changes", "err", err)
	}
	if err := l.commands(ctx, now); err != nil {
		l.cfg.Logger.Error("scheduler: reading commands", "err", err)
	}
	next := l.nextReap
	for _, pr := range l.runs {
		if pr.due || (!pr.wake.IsZero() && !now.Before(pr.wake)) || pr.run.pending() {
			l.step(ctx, pr, now)
		}
		if !pr.wake.IsZero() {
			next = earliest(next, pr.wake)
		}
	}
	for topic, at := range l.delayed {
		if !now.Before(at) {
			l.st.Notifier().Publish(topic)
			delete(l.delayed, topic)
			continue
		}
		next = earliest(next, at)
	}
	return next
}

// sync brings the set of runs in line with the running pipelines: new
// ones are loaded, stopped ones dropped, and activations, deactivations,
// new definitions and paused components are applied.
func (l *Loop) sync(ctx context.Context, now time.Time) error {
	ps, err := l.st.PipelinesRunning(ctx)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		seen[p.ID] = true
		pr := l.runs[p.ID]
		if pr != nil && (p.Active == nil || p.Active.Version != pr.version) {
			// A new definition was activated: resume from the store
			// under it.
			l.reportResources(pr, nil)
			delete(l.runs, p.ID)
			pr = nil
		}
		if pr == nil {
			if pr, err = l.load(ctx, p, now); err != nil {
				l.cfg.Logger.Error("scheduler: loading a pipeline's run", "pipeline", p.ID, "err", err)
				continue
			}
			l.runs[p.ID] = pr
		}
		l.apply(pr, p, now)
	}
	for id, pr := range l.runs {
		if !seen[id] {
			l.reportResources(pr, nil)
			delete(l.runs, id) // deactivated, finished or deleted
		}
	}
	return nil
}

// load builds a pipeline's Run from its active definition and what the
// store holds of its run, and replays the outcome of every task so that a
// claim or result the store recorded before a restart is not lost.
func (l *Loop) load(ctx context.Context, p *store.Pipeline, now time.Time) (*pipelineRun, error) {
	if p.Active == nil {
		return nil, errors.New("no active definition")
	}
	def, err := decodeDefinition(p.Active)
	if err != nil {
		return nil, err
	}
	g, err := Compile(def, CompileOptions{FirstActivation: p.FirstActivatedAt, Expand: expander(def)})
	if err != nil {
		return nil, err
	}
	state, err := l.st.RunLoad(ctx, p.Account, p.ID)
	if err != nil {
		return nil, err
	}
	// The Run changes its instances and attempts in place; the store's
	// are snapshots that API readers share, so the Run gets copies.
	instances := make([]*pipeline.Instance, len(state.Instances))
	for i, in := range state.Instances {
		c := *in
		c.Events = slices.Clone(in.Events)
		instances[i] = &c
	}
	attempts := make([]*pipeline.Attempt, len(state.Attempts))
	for i, a := range state.Attempts {
		c := *a
		attempts[i] = &c
	}
	pr := &pipelineRun{
		account: p.Account, id: p.ID, version: p.Active.Version, def: def,
		run: NewRun(p.ID, p.Active.Version, g, p.Paused, instances, attempts),
		// An ondemand run for the last activation is created by apply
		// unless the store already has it.
		activated: p.LastActivatedAt, paused: p.Paused, due: true,
	}
	if g.Ondemand && !p.LastActivatedAt.IsZero() {
		pr.run.AddOndemandRun(p.LastActivatedAt)
	}
	for _, t := range state.Tasks {
		l.applyTask(pr, t, now)
		if t.Status == store.TaskQueued && !t.Canceled {
			l.delay(t, now)
		}
	}
	return pr, nil
}

// delay remembers to wake the pollers of a queued task's worker group
// when it becomes claimable, which no enqueue will announce: a retry
// waiting for its retryDelay, queued by this Loop or, before a restart,
// by another.
func (l *Loop) delay(t *store.Task, now time.Time) {
	if !t.NotBefore.After(now) {
		return
	}
	topic := store.TaskTopic(t.Account, t.WorkerGroup)
	if at, ok := l.delayed[topic]; !ok || t.NotBefore.Before(at) {
		l.delayed[topic] = t.NotBefore
	}
}

// apply brings the pipeline's state into its run.
func (l *Loop) apply(pr *pipelineRun, p *store.Pipeline, now time.Time) {
	if !p.ActivationStart.Equal(pr.skipBefore) {
		pr.planAt, pr.planDone = time.Time{}, false // the plan's input changed
	}
	pr.skipBefore = p.ActivationStart
	if !p.LastActivatedAt.Equal(pr.activated) {
		pr.activated = p.LastActivatedAt
		if pr.run.Graph.Ondemand {
			pr.run.AddOndemandRun(p.LastActivatedAt)
		}
		pr.due = true
	}
	switch p.State {
	case pipeline.StateDeactivating:
		pr.run.Hold(true, now)
		if p.CancelActive {
			pr.run.CancelActive(now)
		}
		pr.due = true
	case pipeline.StateScheduled:
		if pr.run.held {
			pr.run.Hold(false, now)
			pr.due = true
		}
	}
	if !slices.Equal(p.Paused, pr.paused) {
		for _, id := range pr.paused {
			if !slices.Contains(p.Paused, id) {
				pr.run.Resume(id)
			}
		}
		for _, id := range p.Paused {
			pr.run.Pause(id, now)
		}
		pr.paused = p.Paused
		pr.due = true
	}
}

// feed applies task changes from every node to the runs they belong to.
func (l *Loop) feed(ctx context.Context, now time.Time) error {
	for {
		tasks, seq, err := l.st.TaskChanges(ctx, l.taskSeq, 1000)
		if err != nil {
			return err
		}
		l.taskSeq = seq
		for _, t := range tasks {
			if pr := l.runs[t.PipelineID]; pr != nil {
				l.applyTask(pr, t, now)
			}
		}
		if len(tasks) < 1000 {
			return nil
		}
	}
}

// applyTask applies a task's current state to its attempt. Applying the
// same state twice changes nothing, so replays are safe.
func (l *Loop) applyTask(pr *pipelineRun, t *store.Task, now time.Time) {
	var err error
	if t.Status.Done() && !t.ProgressedAt.IsZero() {
		// Progress reports are not in the feed; the attempt keeps the
		// last one's time, and the log location they named, when its
		// task ends.
		_ = pr.run.TaskProgress(t.AttemptID, t.ProgressedAt, t.LogLocation)
	}
	if t.Status != store.TaskQueued && !t.ClaimedAt.IsZero() {
		// Claimed, and perhaps done since: a claim and a completion in
		// one pass reach the loop as the completion alone, and the
		// attempt still owes its start and its runner's host.
		if a, ok := pr.run.Attempt(t.AttemptID); ok && a.Status == pipeline.StatusWaitingForRunner {
			l.applied(pr, t, pr.run.TaskClaimed(t.AttemptID, t.ID, t.Hostname, t.ClaimedAt))
		}
	}
	switch t.Status {
	case store.TaskFinished:
		err = pr.run.TaskDone(t.AttemptID, pipeline.StatusFinished, "", "", "", t.UpdatedAt)
	case store.TaskFailed:
		err = pr.run.TaskDone(t.AttemptID, pipeline.StatusFailed, t.ErrorID, t.ErrorMessage, t.ErrorStack, t.UpdatedAt)
	case store.TaskFalse:
		err = pr.run.TaskFalse(t.AttemptID, t.UpdatedAt)
	case store.TaskLost:
		err = pr.run.TaskLost(t.AttemptID, t.UpdatedAt)
	}
	l.applied(pr, t, err)
	pr.due = true
}

// applied logs the error of applying task t to its attempt, unless it only
// says the attempt has moved on (a replay) or is gone.
func (l *Loop) applied(pr *pipelineRun, t *store.Task, err error) {
	if err != nil && !errors.Is(err, ErrNotApplicable) && !errors.Is(err, ErrUnknownObject) {
		l.cfg.Logger.Warn("scheduler: applying a task's outcome", "pipeline", pr.id, "task", t.ID, "err", err)
	}
}

// commands applies SetStatus commands on instances.
func (l *Loop) commands(ctx context.Context, now time.Time) error {
	cmds, err := l.st.RunCommands(ctx)
	if err != nil {
		return err
	}
	for _, c := range cmds {
		pr := l.runs[c.PipelineID]
		if pr == nil {
			continue // applied when the pipeline runs again
		}
		for _, id := range c.ObjectIDs {
			var err error
			switch strings.ToUpper(c.Status) {
			case "TRY_CANCEL", "CANCEL":
				err = pr.run.Cancel(id, now)
			case "RERUN":
				err = pr.run.Rerun(id, now)
			case "MARK_FINISHED":
				err = pr.run.MarkFinished(id, now)
			}
			if err != nil {
				l.cfg.Logger.Debug("scheduler: command not applicable", "pipeline", pr.id, "object", id, "status", c.Status, "err", err)
			}
		}
		pr.doneCommands = append(pr.doneCommands, c.Seq)
		pr.due = true
	}
	return nil
}

// step plans and steps one run and persists the result.
func (l *Loop) step(ctx context.Context, pr *pipelineRun, now time.Time) {
	pr.due = false
	if !pr.run.Graph.Ondemand && !pr.planDone && !now.Before(pr.planAt) {
		plan := PlanInstances(PlanInput{
			Components: pr.run.Graph.Components(), Created: pr.run.Created(), Now: now,
			SkipBefore: pr.skipBefore, Ahead: l.cfg.Ahead, MaxCreate: l.cfg.MaxCreate,
		})
		pr.run.Add(plan.Create)
		pr.planAt, pr.planDone = plan.Wake, plan.Wake.IsZero()
	}
	var planWake time.Time
	if !pr.planDone {
		planWake = pr.planAt
	}
	changes, wake := pr.run.Step(now)
	out := &store.RunChanges{Account: pr.account, PipelineID: pr.id, Now: now, CommandsDone: pr.doneCommands}
	// A task object that cannot be built fails its attempt; the failure
	// may start a retry, whose task is built in the next round.
	for round := 0; ; round++ {
		failed := false
		for _, order := range changes.Tasks {
			task, err := l.task(pr, order, now)
			if err != nil {
				failed = true
				errorID, msg := "InvalidTaskObject", err.Error()
				var fe *pipeline.FieldEvalError
				if errors.As(err, &fe) {
					errorID = ErrorIDInvalidExpression
				}
				pr.run.TaskDone(order.AttemptID, pipeline.StatusFailed, errorID, msg, "", now)
				continue
			}
			out.Tasks = append(out.Tasks, task)
		}
		out.Instances = append(out.Instances, changes.Instances...)
		out.Attempts = append(out.Attempts, changes.Attempts...)
		out.Cancel = append(out.Cancel, changes.Cancel...)
		for _, a := range changes.Actions {
			l.action(pr, a, out, now)
		}
		if changes.Finished {
			out.State = pipeline.StateFinished
		}
		if changes.Summary != nil {
			out.Summary = changes.Summary
		}
		if !failed && !pr.run.pending() || round > 10 {
			break
		}
		changes, wake = pr.run.Step(now)
	}
	if pr.run.held && pr.run.Active() == 0 {
		out.State = pipeline.StateInactive
	}
	if err := l.st.RunApply(ctx, out); err != nil {
		// Memory is ahead of the store now; the store is the truth, so
		// the run is reloaded at the next pass.
		l.cfg.Logger.Error("scheduler: saving a run step", "pipeline", pr.id, "err", err)
		delete(l.runs, pr.id)
		return
	}
	pr.doneCommands = nil
	for _, t := range out.Tasks {
		l.delay(t, now)
	}
	l.reportResources(pr, pr.run.ResourceGroups())
	pr.wake = earliest(wake, planWake)
}

// task turns a task order into a store task with its task object.
func (l *Loop) task(pr *pipelineRun, order TaskOrder, now time.Time) (*store.Task, error) {
	a, ok := pr.run.Attempt(order.AttemptID)
	if !ok {
		return nil, fmt.Errorf("attempt %s is unknown", order.AttemptID)
	}
	objects, err := l.cfg.BuildTask(pr.def, pr.run, a)
	if err != nil {
		return nil, err
	}
	var progress time.Duration
	if in, ok := pr.run.Instance(a.InstanceID); ok {
		if n := pr.run.nodeOf(in); n != nil && !n.ReportProgressTimeout.IsZero() {
			progress = n.ReportProgressTimeout.AddTo(now, 1).Sub(now)
		}
	}
	// The attempt knows its task from the start, so that canceling it
	// before any runner claims the task withdraws the task too.
	a.TaskID = newTaskID()
	return &store.Task{
		ID: a.TaskID, Account: pr.account, PipelineID: pr.id, AttemptID: a.ID, InstanceID: order.InstanceID,
		WorkerGroup: order.WorkerGroup, Objects: objects, NotBefore: order.NotBefore, CreatedAt: now, UpdatedAt: now,
		ProgressTimeout: progress,
	}, nil
}

// buildTask is the default TaskBuilder.
func buildTask(def *pipeline.Definition, run *Run, a *pipeline.Attempt) ([]byte, error) {
	ti, err := taskInput(def, run, a)
	if err != nil {
		return nil, err
	}
	return BuildTaskObject(ti)
}

// taskInput gathers what BuildTaskObject needs for attempt a of run.
func taskInput(def *pipeline.Definition, run *Run, a *pipeline.Attempt) (*TaskInput, error) {
	in, ok := run.Instance(a.InstanceID)
	if !ok {
		return nil, fmt.Errorf("instance %s is unknown", a.InstanceID)
	}
	ti := &TaskInput{PipelineID: run.PipelineID, Definition: def, Instance: in, Attempt: a, Bound: run.Bound(in)}
	if node, ok := run.Instance(in.Node); ok {
		ti.Node, ti.NodeBound = node, run.Bound(node)
	}
	return ti, nil
}

// newTaskID returns an opaque, unguessable task id: a runner holding one
// may report on that task, so ids must not be enumerable.
func newTaskID() string {
	var b [20]byte
	rand.Read(b[:])
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}

// decodeDefinition decodes a stored definition version.
func decodeDefinition(d *store.Definition) (*pipeline.Definition, error) {
	var def pipeline.Definition
	if err := json.Unmarshal(d.Doc, &def); err != nil {
		return nil, fmt.Errorf("definition version %d: %w", d.Version, err)
	}
	return &def, nil
}

// expander evaluates the #{…} in a node's settings (a maximumRetries of
// #{myRetries}, say) with the definition's parameters.
func expander(def *pipeline.Definition) func(objectID, value string) (string, error) {
	ev := pipeline.NewEvaluator(def, nil)
	return func(objectID, value string) (string, error) {
		vals, err := ev.Eval(objectID, value)
		if err != nil {
			return "", errors.New(ev.Explain(err))
		}
		return strings.Join(vals, ","), nil
	}
}
