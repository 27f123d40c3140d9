package scheduler

import (
	"github.com/google/go-cmp/cmp"

	"slices"
	"strings"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
)

// harness drives a Run as the scheduler loop will: plan, Step, and act as
// the task runners whose outcomes the test chooses.
type harness struct {
	t     *testing.T
	run   *Run
	now   time.Time
	tasks []TaskOrder // queued and not yet claimed, in order
	log   Changes     // everything every Step returned
	wake  time.Time
}

func newHarness(t *testing.T, now string, objs ...pipeline.Object) *harness {
	t.Helper()
	g, err := Compile(&pipeline.Definition{Objects: objs}, CompileOptions{FirstActivation: at(now)})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	h := &harness{t: t, run: NewRun("df-TEST", 1, g, nil, nil, nil), now: at(now)}
	h.step()
	return h
}

// step plans and steps at h.now, collecting what changed.
func (h *harness) step() {
	h.t.Helper()
	p := PlanInstances(PlanInput{Components: h.run.Graph.Components(), Created: h.run.Created(), Now: h.now})
	h.run.Add(p.Create)
	ch, wake := h.run.Step(h.now)
	h.tasks = append(h.tasks, ch.Tasks...)
	h.log.Instances = append(h.log.Instances, ch.Instances...)
	h.log.Attempts = append(h.log.Attempts, ch.Attempts...)
	h.log.Tasks = append(h.log.Tasks, ch.Tasks...)
	h.log.Cancel = append(h.log.Cancel, ch.Cancel...)
	h.log.Actions = append(h.log.Actions, ch.Actions...)
	h.log.Finished = h.log.Finished || ch.Finished
	if ch.Summary != nil {
		h.log.Summary = ch.Summary
	}
	h.wake = earliest(wake, p.Wake)
}

// advance moves the clock and steps.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.now = h.now.Add(d)
	h.step()
}

// claim hands the next claimable task to a runner and returns its attempt.
func (h *harness) claim() string {
	h.t.Helper()
	for i, task := range h.tasks {
		if task.NotBefore.After(h.now) {
			continue
		}
		if a, _ := h.run.Attempt(task.AttemptID); a.Status != pipeline.StatusWaitingForRunner {
			// Withdrawn or canceled before a claim: the store never
			// hands such a task out (the Loop gives every attempt its
			// task's id, which the cancel names).
			h.tasks = slices.Delete(h.tasks, i, i+1)
			return h.claim()
		}
		h.tasks = slices.Delete(h.tasks, i, i+1)
		if err := h.run.TaskClaimed(task.AttemptID, "task-"+task.AttemptID, "host", h.now); err != nil {
			h.t.Fatalf("TaskClaimed(%s): %v", task.AttemptID, err)
		}
		h.step()
		return task.AttemptID
	}
	h.t.Fatalf("no claimable task at %v; queued: %+v", h.now, h.tasks)
	return ""
}

func (h *harness) done(attemptID string, status pipeline.Status) {
	h.t.Helper()
	if err := h.run.TaskDone(attemptID, status, "E1", "it broke", "stack", h.now); err != nil {
		h.t.Fatalf("TaskDone(%s): %v", attemptID, err)
	}
	h.step()
}

func (h *harness) status(id string) pipeline.Status {
	h.t.Helper()
	in, ok := h.run.Instance(id)
	if !ok {
		h.t.Fatalf("no instance %s", id)
	}
	return in.Status
}

func (h *harness) wantStatus(want map[string]pipeline.Status) {
	h.t.Helper()
	for id, s := range want {
		if got := h.status(id); got != s {
			h.t.Errorf("%s is %s, want %s", id, got, s)
		}
	}
}

var (
	str = pipeline.String
	ref = pipeline.Ref
)

func hourly(occurrences string) pipeline.Object {
	return object("Hourly", str("type", "Schedule"), str("period", "1 hour"),
		str("startDateTime", "2026-01-01T00:00:00"), str("occurrences", occurrences))
}

func defaults(extra ...pipeline.Field) pipeline.Object {
	return object("Default", append([]pipeline.Field{ref("schedule", "Hourly"), str("scheduleType", "cron")}, extra...)...)
}

func shell(id string, extra ...pipeline.Field) pipeline.Object {
	return object(id, append([]pipeline.Field{str("type", "ShellCommandActivity"), str("command", "true"), str("workerGroup", "wg")}, extra...)...)
}

func TestRunBackfillOneAtATime(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T02:30:00", defaults(), hourly("3"), shell("A"))
	if len(h.tasks) != 1 || h.tasks[0].AttemptID != "@A_2026-01-01T00:00:00_Attempt=1" || h.tasks[0].WorkerGroup != "wg" {
		t.Fatalf("tasks after planning a 3-interval backfill = %+v, want only the first interval's", h.tasks)
	}
	h.wantStatus(map[string]pipeline.Status{
		"@A_2026-01-01T00:00:00": pipeline.StatusWaitingForRunner,
		"@A_2026-01-01T01:00:00": pipeline.StatusWaitingOnDependencies,
		"@A_2026-01-01T02:00:00": pipeline.StatusWaitingOnDependencies,
	})
	for i, want := range []string{"@A_2026-01-01T00:00:00_Attempt=1", "@A_2026-01-01T01:00:00_Attempt=1", "@A_2026-01-01T02:00:00_Attempt=1"} {
		a := h.claim()
		if a != want {
			t.Fatalf("claim %d = %s, want %s", i, a, want)
		}
		if got := h.status(strings.TrimSuffix(a, "_Attempt=1")); got != pipeline.StatusRunning {
			t.Errorf("claimed instance is %s, want RUNNING", got)
		}
		h.done(a, pipeline.StatusFinished)
	}
	if !h.log.Finished {
		t.Error("a finished finite pipeline was not reported finished")
	}
	in, _ := h.run.Instance("@A_2026-01-01T00:00:00")
	if in.AttemptCount != 1 || in.TriesLeft != 2 || in.ActualStart.IsZero() || in.ActualEnd.IsZero() {
		t.Errorf("finished instance = %+v, want 1 attempt, 2 tries left and actual times", in)
	}
}

func TestRunDependencies(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T00:00:00",
		defaults(), hourly("1"),
		object("In", str("type", "S3DataNode"), str("directoryPath", "s3://in/")),
		object("Mid", str("type", "S3DataNode"), str("directoryPath", "s3://mid/")),
		shell("Copy", ref("input", "In"), ref("output", "Mid")),
		shell("After", ref("input", "Mid")),
		shell("Last", ref("dependsOn", "After")),
	)
	h.wantStatus(map[string]pipeline.Status{
		"@In_2026-01-01T00:00:00":    pipeline.StatusFinished, // nothing writes it
		"@Mid_2026-01-01T00:00:00":   pipeline.StatusWaitingOnDependencies,
		"@Copy_2026-01-01T00:00:00":  pipeline.StatusWaitingForRunner,
		"@After_2026-01-01T00:00:00": pipeline.StatusWaitingOnDependencies,
		"@Last_2026-01-01T00:00:00":  pipeline.StatusWaitingOnDependencies,
	})
	h.done(h.claim(), pipeline.StatusFinished)
	h.wantStatus(map[string]pipeline.Status{
		"@Mid_2026-01-01T00:00:00":   pipeline.StatusFinished,
		"@After_2026-01-01T00:00:00": pipeline.StatusWaitingForRunner,
	})
	h.done(h.claim(), pipeline.StatusFinished)
	if a := h.claim(); a != "@Last_2026-01-01T00:00:00_Attempt=1" {
		t.Errorf("third task = %s, want Last's", a)
	}
}

func TestRunRetriesThenFails(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T00:00:00", defaults(), hourly("1"),
		shell("A", str("maximumRetries", "1"), str("retryDelay", "3 minutes"), ref("onFail", "Page")),
		object("Page", str("type", "SnsAlarm"), str("topicArn", "arn:aws:sns:us-east-1:1:t"), str("subject", "s"), str("message", "m")))
	h.done(h.claim(), pipeline.StatusFailed)
	const id = "@A_2026-01-01T00:00:00"
	h.wantStatus(map[string]pipeline.Status{id: pipeline.StatusWaitingForRunner})
	if len(h.tasks) != 1 || h.tasks[0].AttemptID != id+"_Attempt=2" || !h.tasks[0].NotBefore.Equal(h.now.Add(3*time.Minute)) {
		t.Fatalf("retry task = %+v, want attempt 2 not before retryDelay", h.tasks)
	}
	a1, _ := h.run.Attempt(id + "_Attempt=1")
	if a1.Status != pipeline.StatusFailed || a1.ErrorID != "E1" || a1.ErrorMessage != "it broke" || a1.ErrorStackTrace != "stack" {
		t.Errorf("failed attempt = %+v, want FAILED with the runner's error", a1)
	}
	h.advance(3 * time.Minute)
	h.done(h.claim(), pipeline.StatusFailed)
	in, _ := h.run.Instance(id)
	if in.Status != pipeline.StatusFailed || in.AttemptCount != 2 || in.TriesLeft != 0 || in.ErrorMessage != "it broke" {
		t.Errorf("instance after its last try = %+v, want FAILED after 2 attempts", in)
	}
	if !slices.Contains(h.log.Actions, ActionOrder{ActionID: "Page", InstanceID: id, Event: "onFail"}) {
		t.Errorf("actions = %+v, want onFail Page", h.log.Actions)
	}
	// A stale runner cannot complete an attempt that is over.
	if err := h.run.TaskDone(id+"_Attempt=1", pipeline.StatusFinished, "", "", "", h.now); err == nil {
		t.Error("TaskDone on a finished attempt succeeded")
	}
}

func TestRunCascade(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"cascade", "none"} {
		h := newHarness(t, "2026-01-01T00:00:00", defaults(str("failureAndRerunMode", mode), str("maximumRetries", "0")), hourly("1"),
			shell("A"), shell("B", ref("dependsOn", "A")), shell("C", ref("dependsOn", "B")))
		h.done(h.claim(), pipeline.StatusFailed)
		const a, b, c = "@A_2026-01-01T00:00:00", "@B_2026-01-01T00:00:00", "@C_2026-01-01T00:00:00"
		if mode == "none" {
			h.wantStatus(map[string]pipeline.Status{a: pipeline.StatusFailed, b: pipeline.StatusWaitingOnDependencies, c: pipeline.StatusWaitingOnDependencies})
			continue
		}
		h.wantStatus(map[string]pipeline.Status{a: pipeline.StatusFailed, b: pipeline.StatusCascadeFailed, c: pipeline.StatusCascadeFailed})
		if in, _ := h.run.Instance(b); in.CascadeFailedOn != a {
			t.Errorf("cascadeFailedOn = %q, want %s", in.CascadeFailedOn, a)
		}
		// A rerun brings back the whole chain the failure cascaded down,
		// however deep.
		if err := h.run.Rerun(a, h.now); err != nil {
			t.Fatal(err)
		}
		h.step()
		h.wantStatus(map[string]pipeline.Status{a: pipeline.StatusWaitingForRunner, b: pipeline.StatusWaitingOnDependencies, c: pipeline.StatusWaitingOnDependencies})
		h.done(h.claim(), pipeline.StatusFinished)
		h.done(h.claim(), pipeline.StatusFinished)
		h.done(h.claim(), pipeline.StatusFinished)
		h.wantStatus(map[string]pipeline.Status{a: pipeline.StatusFinished, b: pipeline.StatusFinished, c: pipeline.StatusFinished})
	}
}

func TestRunResource(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T00:00:00", defaults(), hourly("1"),
		object("Box", str("type", "Ec2Resource"), str("terminateAfter", "1 hour")),
		object("A", str("type", "ShellCommandActivity"), str("command", "true"), ref("runsOn", "Box"), str("workerGroup", "ignored")))
	const box, a = "@Box_2026-01-01T00:00:00", "@A_2026-01-01T00:00:00"
	// The resource is CREATING until a runner of its worker group takes
	// the first task; its activities queue meanwhile.
	h.wantStatus(map[string]pipeline.Status{box: pipeline.StatusCreating, a: pipeline.StatusWaitingForRunner})
	group := ResourceWorkerGroup("df-TEST", "Box")
	if got := h.run.ResourceGroups(); !slices.Equal(got, []string{group}) {
		t.Errorf("ResourceGroups() while CREATING = %q, want [%s]", got, group)
	}
	if len(h.tasks) != 1 || h.tasks[0].WorkerGroup != group {
		t.Fatalf("tasks = %+v, want one on the resource's worker group (runsOn wins over workerGroup)", h.tasks)
	}
	if in, _ := h.run.Instance(a); in.Resource != box {
		t.Errorf("activity's resource = %q, want %s", in.Resource, box)
	}
	attempt := h.claim()
	h.wantStatus(map[string]pipeline.Status{box: pipeline.StatusRunning, a: pipeline.StatusRunning})
	if got := h.run.ResourceGroups(); !slices.Equal(got, []string{group}) {
		t.Errorf("ResourceGroups() while RUNNING = %q, want [%s]", got, group)
	}
	h.done(attempt, pipeline.StatusFinished)
	h.wantStatus(map[string]pipeline.Status{box: pipeline.StatusFinished})
	if got := h.run.ResourceGroups(); len(got) != 0 {
		t.Errorf("ResourceGroups() once FINISHED = %q, want none", got)
	}
}

// TestRunTerminateAfter ends a resource that outlives its terminateAfter:
// it is TIMEDOUT, and so are the activities running on it, whose runners
// are told to stop.
func TestRunTerminateAfter(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T00:00:00", defaults(), hourly("1"),
		object("Box", str("type", "Ec2Resource"), str("terminateAfter", "30 minutes")),
		object("A", str("type", "ShellCommandActivity"), str("command", "sleep 3600"), ref("runsOn", "Box")),
		object("B", str("type", "ShellCommandActivity"), str("command", "true"), ref("runsOn", "Box"), ref("dependsOn", "A")))
	const box, a, b = "@Box_2026-01-01T00:00:00", "@A_2026-01-01T00:00:00", "@B_2026-01-01T00:00:00"
	attempt := h.claim()
	if !h.wake.Equal(at("2026-01-01T00:30:00")) {
		t.Errorf("wake = %v, want terminateAfter's deadline 00:30", h.wake)
	}
	h.advance(30 * time.Minute)
	h.wantStatus(map[string]pipeline.Status{box: pipeline.StatusTimedOut, a: pipeline.StatusTimedOut, b: pipeline.StatusTimedOut})
	if got := h.run.ResourceGroups(); len(got) != 0 {
		t.Errorf("ResourceGroups() once TIMEDOUT = %q, want none: its runner is stopped, killing its work", got)
	}
	if at, _ := h.run.Attempt(attempt); at.Status != pipeline.StatusTimedOut || at.ErrorID != "ResourceTerminated" {
		t.Errorf("running attempt = %s (%s), want TIMEDOUT (ResourceTerminated)", at.Status, at.ErrorID)
	}
	if !slices.Contains(h.log.Cancel, "task-"+attempt) {
		t.Errorf("cancels = %v, want the running attempt's task", h.log.Cancel)
	}
}

func TestRunTimeseriesWaitsForTheEnd(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T00:10:00", object("Default", ref("schedule", "Hourly"), str("scheduleType", "timeseries")),
		hourly("1"), shell("A"))
	if len(h.tasks) != 0 || !h.wake.Equal(at("2026-01-01T01:00:00")) {
		t.Fatalf("tasks %+v, wake %v; want none until 01:00", h.tasks, h.wake)
	}
	h.advance(50 * time.Minute)
	if len(h.tasks) != 1 {
		t.Fatalf("tasks at the end of the interval = %+v, want one", h.tasks)
	}
}

func TestRunAttemptTimeoutAndLateAction(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T00:00:00", defaults(), hourly("1"),
		shell("A", str("attemptTimeout", "20 minutes"), str("lateAfterTimeout", "30 minutes"), ref("onLateAction", "Stop"),
			str("retryDelay", "2 minutes")),
		object("Stop", str("type", "Terminate")))
	first := h.claim()
	h.advance(20 * time.Minute)
	a, _ := h.run.Attempt(first)
	if a.Status != pipeline.StatusTimedOut || !slices.Contains(h.log.Cancel, "task-"+first) {
		t.Errorf("attempt after attemptTimeout = %s, cancels %v; want TIMEDOUT and its task canceled", a.Status, h.log.Cancel)
	}
	h.advance(10 * time.Minute)
	want := ActionOrder{ActionID: "Stop", InstanceID: "@A_2026-01-01T00:00:00", Event: "onLateAction"}
	if !slices.Contains(h.log.Actions, want) {
		t.Errorf("actions = %+v, want the late action", h.log.Actions)
	}
	h.advance(time.Hour)
	n := 0
	for _, x := range h.log.Actions {
		if x == want {
			n++
		}
	}
	if n != 1 {
		t.Errorf("late action fired %d times, want once", n)
	}
}

func TestRunSetStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T00:00:00", defaults(str("maximumRetries", "0")), hourly("2"), shell("A"), shell("B", ref("dependsOn", "A")))
	const a0, b0 = "@A_2026-01-01T00:00:00", "@B_2026-01-01T00:00:00"
	// Cancel a running instance: its runner is told to stop.
	attempt := h.claim()
	if err := h.run.Cancel(a0, h.now); err != nil {
		t.Fatal(err)
	}
	h.step()
	if h.status(a0) != pipeline.StatusCanceled || !slices.Contains(h.log.Cancel, "task-"+attempt) {
		t.Errorf("canceled instance %s, cancels %v", h.status(a0), h.log.Cancel)
	}
	if err := h.run.Cancel(a0, h.now); err == nil {
		t.Error("canceling a canceled instance succeeded")
	}
	// MARK_FINISHED lets the consumer go on.
	if err := h.run.MarkFinished(a0, h.now); err != nil {
		t.Fatal(err)
	}
	h.step()
	h.wantStatus(map[string]pipeline.Status{a0: pipeline.StatusFinished, b0: pipeline.StatusWaitingForRunner})

	// Pausing a component whose task waits for a runner withdraws it.
	h.run.Pause("B", h.now)
	h.step()
	h.wantStatus(map[string]pipeline.Status{b0: pipeline.StatusPaused})
	h.run.Resume("B")
	h.step()
	h.wantStatus(map[string]pipeline.Status{b0: pipeline.StatusWaitingForRunner})
	if in, _ := h.run.Instance(b0); !strings.HasSuffix(in.HeadAttempt, "_Attempt=2") {
		t.Errorf("head attempt after RESUME = %s, want a second one", in.HeadAttempt)
	}

	// Pause the next interval's component before it is due.
	h.run.Pause("A", h.now)
	h.advance(time.Hour)
	const a1 = "@A_2026-01-01T01:00:00"
	h.wantStatus(map[string]pipeline.Status{a1: pipeline.StatusPaused})
	h.run.Resume("A")
	h.step()
	h.wantStatus(map[string]pipeline.Status{a1: pipeline.StatusWaitingForRunner})
	if err := h.run.Rerun("@nope", h.now); err != ErrUnknownObject {
		t.Errorf("Rerun(unknown) = %v", err)
	}
}

// TestRunRestart rebuilds the Run from what it reported, as a restarted
// scheduler does from the store, and checks it carries on without
// repeating or losing anything.
func TestRunRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T02:30:00", defaults(), hourly("3"), shell("A"))
	h.done(h.claim(), pipeline.StatusFinished)
	instances := map[string]*pipeline.Instance{}
	for _, in := range h.log.Instances {
		c := *in
		instances[in.ID] = &c
	}
	attempts := map[string]*pipeline.Attempt{}
	for _, a := range h.log.Attempts {
		c := *a
		attempts[a.ID] = &c
	}
	var ins []*pipeline.Instance
	for _, in := range instances {
		ins = append(ins, in)
	}
	var ats []*pipeline.Attempt
	for _, a := range attempts {
		ats = append(ats, a)
	}
	h2 := &harness{t: t, run: NewRun("df-TEST", 1, h.run.Graph, nil, ins, ats), now: h.now, tasks: h.tasks}
	h2.step()
	if len(h2.log.Tasks) != 0 || len(h2.tasks) != 1 || h2.tasks[0].AttemptID != "@A_2026-01-01T01:00:00_Attempt=1" {
		t.Fatalf("after restart: new tasks %+v, queued %+v; want only the one already queued", h2.log.Tasks, h2.tasks)
	}
	h2.done(h2.claim(), pipeline.StatusFinished)
	h2.done(h2.claim(), pipeline.StatusFinished)
	if !h2.log.Finished {
		t.Error("restarted run did not finish")
	}
}

// BenchmarkRunYearBackfill adds a year of 15-minute instances of ten
// activities (350,400) to a Run and steps it: the in-memory half of the
// scheduler benchmark, without persistence.
func BenchmarkRunYearBackfill(b *testing.B) {
	objs := []pipeline.Object{
		object("Default", ref("schedule", "Q"), str("scheduleType", "cron")),
		object("Q", str("type", "Schedule"), str("period", "15 minutes"), str("startDateTime", "2025-01-01T00:00:00")),
	}
	for i := range 10 {
		objs = append(objs, shell("Act"+string(rune('A'+i))))
	}
	g, err := Compile(&pipeline.Definition{Objects: objs}, CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	now := at("2025-12-31T23:59:59")
	p := PlanInstances(PlanInput{Components: g.Components(), Now: now})
	b.ResetTimer()
	for b.Loop() {
		r := NewRun("df-BENCH", 1, g, nil, nil, nil)
		r.Add(p.Create)
		ch, _ := r.Step(now)
		if len(ch.Tasks) != 10 || len(ch.Instances) != 350400 {
			b.Fatalf("%d tasks, %d instances", len(ch.Tasks), len(ch.Instances))
		}
	}
}

func TestRunPreconditions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T00:00:00", defaults(str("failureAndRerunMode", "cascade")), hourly("2"),
		object("In", str("type", "S3DataNode"), str("directoryPath", "s3://in/"), ref("precondition", "Ready"),
			str("workerGroup", "wg-nodes")),
		object("Ready", str("type", "S3KeyExists"), str("s3Key", "s3://in/_SUCCESS"), str("role", "r"),
			str("retryDelay", "5 minutes"), str("preconditionTimeout", "12 minutes")),
		shell("Use", ref("input", "In")))
	const in0, ready0, use0 = "@In_2026-01-01T00:00:00", "@Ready_2026-01-01T00:00:00", "@Use_2026-01-01T00:00:00"
	if len(h.tasks) != 1 || h.tasks[0].InstanceID != ready0 || h.tasks[0].WorkerGroup != "wg-nodes" {
		t.Fatalf("tasks = %+v, want the precondition's check, routed like the data node it checks", h.tasks)
	}
	if pin, _ := h.run.Instance(ready0); pin.Node != in0 {
		t.Errorf("precondition instance's node = %q, want %s", pin.Node, in0)
	}
	h.wantStatus(map[string]pipeline.Status{in0: pipeline.StatusWaitingOnDependencies, use0: pipeline.StatusWaitingOnDependencies})

	// Not met: checked again after retryDelay, without using up tries.
	first := h.claim()
	if err := h.run.TaskFalse(first, h.now); err != nil {
		t.Fatal(err)
	}
	h.step()
	if len(h.tasks) != 1 || !h.tasks[0].NotBefore.Equal(h.now.Add(5*time.Minute)) {
		t.Fatalf("after FALSE: tasks %+v, want a check 5 minutes later", h.tasks)
	}
	h.advance(5 * time.Minute)
	h.done(h.claim(), pipeline.StatusFinished)
	h.wantStatus(map[string]pipeline.Status{ready0: pipeline.StatusFinished, in0: pipeline.StatusFinished, use0: pipeline.StatusWaitingForRunner})
	h.done(h.claim(), pipeline.StatusFinished)

	// The next interval's precondition never holds: after its timeout it
	// fails, and with cascade the data node and its consumer fail too.
	h.advance(55 * time.Minute)
	const in1, ready1, use1 = "@In_2026-01-01T01:00:00", "@Ready_2026-01-01T01:00:00", "@Use_2026-01-01T01:00:00"
	for i := 0; h.status(ready1) != pipeline.StatusFailed && i < 5; i++ {
		if err := h.run.TaskFalse(h.claim(), h.now); err != nil {
			t.Fatal(err)
		}
		h.advance(5 * time.Minute)
	}
	h.wantStatus(map[string]pipeline.Status{ready1: pipeline.StatusFailed, in1: pipeline.StatusCascadeFailed, use1: pipeline.StatusCascadeFailed})
	if pin, _ := h.run.Instance(ready1); pin.ErrorID != "PreconditionTimeout" {
		t.Errorf("timed-out precondition error = %q", pin.ErrorID)
	}
}

// TestRunCascadeCancelsPreconditions fails a data node through one of its
// preconditions: with cascade, the check of its other precondition, still
// under way, is CANCELED and its runner told to stop (§5.4).
func TestRunCascadeCancelsPreconditions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T00:00:00", defaults(str("failureAndRerunMode", "cascade")), hourly("1"),
		object("In", str("type", "S3DataNode"), str("directoryPath", "s3://in/"), ref("precondition", "Quick"),
			ref("precondition", "Slow"), str("workerGroup", "wg-nodes")),
		object("Quick", str("type", "ShellCommandPrecondition"), str("command", "false"), str("retryDelay", "5 minutes"),
			str("preconditionTimeout", "5 minutes")),
		object("Slow", str("type", "ShellCommandPrecondition"), str("command", "sleep 3600")))
	const in0, quick, slow = "@In_2026-01-01T00:00:00", "@Quick_2026-01-01T00:00:00", "@Slow_2026-01-01T00:00:00"
	first := h.claim()
	second := h.claim()
	if first != quick+"_Attempt=1" || second != slow+"_Attempt=1" {
		t.Fatalf("claimed %s and %s, want the two checks", first, second)
	}
	check := first
	for i := 0; h.status(quick) != pipeline.StatusFailed && i < 5; i++ {
		if err := h.run.TaskFalse(check, h.now); err != nil {
			t.Fatal(err)
		}
		h.advance(5 * time.Minute)
		if h.status(quick) != pipeline.StatusFailed {
			check = h.claim()
		}
	}
	h.wantStatus(map[string]pipeline.Status{quick: pipeline.StatusFailed, in0: pipeline.StatusCascadeFailed, slow: pipeline.StatusCanceled})
	if !slices.Contains(h.log.Cancel, "task-"+second) {
		t.Errorf("cancels = %v, want the running check's task", h.log.Cancel)
	}
}

func TestRunDeactivate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T00:00:00", defaults(str("maxActiveInstances", "2")), hourly("3"), shell("A"))
	const a0, a1, a2 = "@A_2026-01-01T00:00:00", "@A_2026-01-01T01:00:00", "@A_2026-01-01T02:00:00"
	h.advance(2 * time.Hour) // three due, two may run
	running := h.claim()
	if got := h.run.Active(); got != 2 {
		t.Fatalf("Active = %d, want 2", got)
	}
	in1, _ := h.run.Instance(a1)
	tries := in1.TriesLeft
	// Deactivating without cancelActive: nothing new starts, what a runner
	// holds goes on, and the attempt no runner claimed is withdrawn
	// without using up a try.
	h.run.Hold(true, h.now)
	h.step()
	if got := h.run.Active(); got != 1 {
		t.Errorf("Active while held = %d, want 1 (the claimed one)", got)
	}
	if a, _ := h.run.Attempt(a1 + "_Attempt=1"); a.Status != pipeline.StatusCanceled || in1.TriesLeft != tries+1 {
		t.Errorf("withdrawn attempt %s, tries left %d; want CANCELED and %d", a.Status, in1.TriesLeft, tries+1)
	}
	h.done(running, pipeline.StatusFinished)
	h.wantStatus(map[string]pipeline.Status{a0: pipeline.StatusFinished, a1: pipeline.StatusWaitingOnDependencies, a2: pipeline.StatusWaitingOnDependencies})
	// Reactivation resumes both waiting intervals, with new attempts.
	h.run.Hold(false, h.now)
	h.step()
	h.wantStatus(map[string]pipeline.Status{a1: pipeline.StatusWaitingForRunner, a2: pipeline.StatusWaitingForRunner})
	if in1.HeadAttempt != a1+"_Attempt=2" {
		t.Errorf("head attempt after reactivation = %s, want the second", in1.HeadAttempt)
	}
	// cancelActive cancels what a runner holds; the rest is withdrawn.
	claimed := h.claim()
	h.run.Hold(true, h.now)
	h.run.CancelActive(h.now)
	h.step()
	if got := h.run.Active(); got != 0 {
		t.Errorf("Active after CancelActive = %d", got)
	}
	if claimed != a1+"_Attempt=2" {
		t.Fatalf("claimed %s, want %s_Attempt=2", claimed, a1)
	}
	h.wantStatus(map[string]pipeline.Status{a1: pipeline.StatusCanceled, a2: pipeline.StatusWaitingOnDependencies})
}

func TestRunOndemand(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T00:00:00", object("Default", str("scheduleType", "ondemand")),
		shell("A"), shell("B", ref("dependsOn", "A")))
	if len(h.tasks) != 0 {
		t.Fatalf("an ondemand pipeline ran before any activation: %+v", h.tasks)
	}
	for i, when := range []string{"2026-01-01T00:00:10", "2026-01-01T00:05:00", "2026-01-01T00:09:00"} {
		h.now = at(when)
		h.run.AddOndemandRun(h.now)
		h.step()
		h.done(h.claim(), pipeline.StatusFinished)
		h.done(h.claim(), pipeline.StatusFinished)
		h.wantStatus(map[string]pipeline.Status{"@A_" + when: pipeline.StatusFinished, "@B_" + when: pipeline.StatusFinished})
		if !h.log.Finished {
			t.Errorf("run %d: not reported finished", i+1)
		}
		h.log.Finished = false
	}
}

// TestRunSummary follows a component's health and run times through a
// success and a failure, and checks that a Run rebuilt from the stored
// instances summarizes them the same.
func TestRunSummary(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-01-01T00:00:00", defaults(str("maximumRetries", "0")), hourly("3"), shell("A"))
	const a0, a1 = "@A_2026-01-01T00:00:00", "@A_2026-01-01T01:00:00"
	if got := h.run.Summary().Components["A"]; got.Health != "" || !got.NextRun.Equal(at("2026-01-01T01:00:00")) {
		t.Fatalf("summary before any end = %+v, want no health and the next run at 01:00", got)
	}
	h.advance(10 * time.Minute)
	h.done(h.claim(), pipeline.StatusFinished)
	want := pipeline.ComponentSummary{Health: pipeline.HealthHealthy, HealthUpdated: at("2026-01-01T00:10:00"), HealthFrom: a0,
		LatestRun: at("2026-01-01T00:00:00"), LatestCompletedRun: at("2026-01-01T00:00:00"), NextRun: at("2026-01-01T01:00:00")}
	if diff := cmp.Diff(want, h.run.Summary().Components["A"]); diff != "" {
		t.Errorf("summary after a success mismatch (-want +got):\n%s", diff)
	}
	h.advance(time.Hour)
	h.done(h.claim(), pipeline.StatusFailed)
	want = pipeline.ComponentSummary{Health: pipeline.HealthError, HealthUpdated: at("2026-01-01T01:10:00"), HealthFrom: a1,
		LatestRun: at("2026-01-01T01:00:00"), LatestCompletedRun: at("2026-01-01T00:00:00"), NextRun: at("2026-01-01T02:00:00")}
	if diff := cmp.Diff(want, h.run.Summary().Components["A"]); diff != "" {
		t.Errorf("summary after a failure mismatch (-want +got):\n%s", diff)
	}
	if p := h.run.Summary().Pipeline(); p.Health != pipeline.HealthError || p.HealthFrom != a1 {
		t.Errorf("pipeline health = %s from %s, want ERROR from %s", p.Health, p.HealthFrom, a1)
	}
	var ins []*pipeline.Instance
	seen := map[string]bool{}
	for i := len(h.log.Instances) - 1; i >= 0; i-- {
		if in := h.log.Instances[i]; !seen[in.ID] {
			seen[in.ID] = true
			c := *in
			ins = append(ins, &c)
		}
	}
	h2 := &harness{t: t, run: NewRun("df-TEST", 1, h.run.Graph, nil, ins, nil), now: h.now}
	h2.step()
	if diff := cmp.Diff(h.run.Summary(), h2.run.Summary()); diff != "" {
		t.Errorf("summary of the rebuilt run mismatch (-first +rebuilt):\n%s", diff)
	}
	if diff := cmp.Diff(h.run.Summary(), h2.log.Summary); diff != "" {
		t.Errorf("the rebuilt run's first Step reported a summary that differs (-want +got):\n%s", diff)
	}
}
