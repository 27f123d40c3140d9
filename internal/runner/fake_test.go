package runner

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// event is one thing that happened at the fake service or in a fake
// executor, at a (fake) time since the test began.
type event struct {
	at   time.Duration
	what string // "poll", "poll-end", "progress", "heartbeat", "status", "exec", "exec-end"
	task string // the attempt id, when there is one
	// For "status": the status and errorId; for "exec-end", why.
	status, errorID string
}

// fakeAPI is the Data Pipeline API at the network edge, scripted by the
// test. Its zero hooks answer as a healthy service with nothing to do.
type fakeAPI struct {
	start time.Time
	// tasks feeds PollForTask; a poll holds until a task comes, its
	// context ends, or hold passes (then it answers empty).
	tasks chan *types.TaskObject
	hold  time.Duration

	// Hooks; n counts calls of that operation from 1.
	pollErr   func(n int) error
	progress  func(task string, n int) (canceled bool, err error)
	heartbeat func(n int) (terminate bool, err error)
	setStatus func(in *datapipeline.SetTaskStatusInput, n int) error
	// pollAfterCancel, if set, is what a poll whose context ended answers
	// instead of the context's error: a response that crossed the cancel.
	pollAfterCancel func() *types.TaskObject

	mu     sync.Mutex
	counts map[string]int
	events []event
	byTask map[string]string // task id → attempt id
	// fields are the fields of each progress report, by attempt id.
	fields map[string][][]types.Field
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{
		start: time.Now(), tasks: make(chan *types.TaskObject), hold: 50 * time.Second,
		counts: map[string]int{}, byTask: map[string]string{}, fields: map[string][][]types.Field{},
	}
}

func (f *fakeAPI) record(e event) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	e.at = time.Since(f.start)
	f.events = append(f.events, e)
	f.counts[e.what]++
	return f.counts[e.what]
}

func (f *fakeAPI) attempt(taskID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byTask[taskID]
}

// log returns the events so far, optionally only those of the given kinds.
func (f *fakeAPI) log(kinds ...string) []event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []event
	for _, e := range f.events {
		if len(kinds) == 0 || containsString(kinds, e.what) {
			out = append(out, e)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (f *fakeAPI) PollForTask(ctx context.Context, _ *datapipeline.PollForTaskInput, _ ...func(*datapipeline.Options)) (*datapipeline.PollForTaskOutput, error) {
	n := f.record(event{what: "poll"})
	if f.pollErr != nil {
		if err := f.pollErr(n); err != nil {
			return nil, err
		}
	}
	timer := time.NewTimer(f.hold)
	defer timer.Stop()
	select {
	case t := <-f.tasks:
		f.mu.Lock()
		f.byTask[aws.ToString(t.TaskId)] = aws.ToString(t.AttemptId)
		f.mu.Unlock()
		return &datapipeline.PollForTaskOutput{TaskObject: t}, nil
	case <-timer.C:
		return &datapipeline.PollForTaskOutput{}, nil
	case <-ctx.Done():
		f.record(event{what: "poll-end"})
		if f.pollAfterCancel != nil {
			if t := f.pollAfterCancel(); t != nil {
				f.mu.Lock()
				f.byTask[aws.ToString(t.TaskId)] = aws.ToString(t.AttemptId)
				f.mu.Unlock()
				return &datapipeline.PollForTaskOutput{TaskObject: t}, nil
			}
		}
		return nil, ctx.Err()
	}
}

func (f *fakeAPI) ReportTaskProgress(_ context.Context, in *datapipeline.ReportTaskProgressInput, _ ...func(*datapipeline.Options)) (*datapipeline.ReportTaskProgressOutput, error) {
	task := f.attempt(aws.ToString(in.TaskId))
	f.mu.Lock()
	f.counts["progress:"+task]++
	n := f.counts["progress:"+task]
	f.fields[task] = append(f.fields[task], in.Fields)
	f.mu.Unlock()
	f.record(event{what: "progress", task: task})
	out := &datapipeline.ReportTaskProgressOutput{}
	if f.progress != nil {
		canceled, err := f.progress(task, n)
		if err != nil {
			return nil, err
		}
		out.Canceled = canceled
	}
	return out, nil
}

func (f *fakeAPI) ReportTaskRunnerHeartbeat(_ context.Context, in *datapipeline.ReportTaskRunnerHeartbeatInput, _ ...func(*datapipeline.Options)) (*datapipeline.ReportTaskRunnerHeartbeatOutput, error) {
	n := f.record(event{what: "heartbeat"})
	out := &datapipeline.ReportTaskRunnerHeartbeatOutput{}
	if f.heartbeat != nil {
		terminate, err := f.heartbeat(n)
		if err != nil {
			return nil, err
		}
		out.Terminate = terminate
	}
	return out, nil
}

func (f *fakeAPI) SetTaskStatus(_ context.Context, in *datapipeline.SetTaskStatusInput, _ ...func(*datapipeline.Options)) (*datapipeline.SetTaskStatusOutput, error) {
	n := f.record(event{what: "status", task: f.attempt(aws.ToString(in.TaskId)), status: string(in.TaskStatus), errorID: aws.ToString(in.ErrorId)})
	if f.setStatus != nil {
		if err := f.setStatus(in, n); err != nil {
			return nil, err
		}
	}
	return &datapipeline.SetTaskStatusOutput{}, nil
}

// taskObject returns a task object whose attempt @<component>_…_Attempt=1
// has the given type and string fields (key, value pairs).
func taskObject(component, typ string, kv ...string) *types.TaskObject {
	instance := "@" + component + "_2026-03-01T10:00:00"
	attempt := instance + "_Attempt=1"
	fields := []types.Field{
		{Key: aws.String("@componentParent"), RefValue: aws.String(component)},
		{Key: aws.String("@instanceParent"), RefValue: aws.String(instance)},
		{Key: aws.String("type"), StringValue: aws.String(typ)},
		{Key: aws.String("@pipelineId"), StringValue: aws.String("df-TEST")},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		fields = append(fields, types.Field{Key: aws.String(kv[i]), StringValue: aws.String(kv[i+1])})
	}
	return &types.TaskObject{
		TaskId: aws.String("task-" + component), PipelineId: aws.String("df-TEST"), AttemptId: aws.String(attempt),
		Objects: map[string]types.PipelineObject{attempt: {Id: aws.String(attempt), Name: aws.String(attempt), Fields: fields}},
	}
}

// testExecutor runs tasks by component: each task lasts its duration
// (fake time) unless its context ends first. Every start and end is
// recorded at the fake API.
type testExecutor struct {
	api      *fakeAPI
	duration map[string]time.Duration // by component; absent: until canceled
	result   map[string]error         // by component; the error returned on finishing
}

func (e *testExecutor) Execute(ctx context.Context, job *Job) error {
	c := job.Task.ComponentID()
	e.api.record(event{what: "exec", task: job.Task.AttemptID})
	var wait <-chan time.Time
	if d, ok := e.duration[c]; ok {
		t := time.NewTimer(d)
		defer t.Stop()
		wait = t.C
	}
	select {
	case <-wait:
		e.api.record(event{what: "exec-end", task: job.Task.AttemptID, status: "done"})
		return e.result[c]
	case <-ctx.Done():
		e.api.record(event{what: "exec-end", task: job.Task.AttemptID, status: context.Cause(ctx).Error()})
		return ctx.Err()
	}
}

// testRunner returns a runner of the fake API whose executor for the
// types given is exec, with short logs in t's output.
func testRunner(t *testing.T, api *fakeAPI, exec Executor, mod func(*Config)) *Runner {
	t.Helper()
	cfg := Config{
		API: api, WorkerGroup: "wg-test", Hostname: "runner.test", RunnerID: "runner-1",
		LogDir: t.TempDir(), WorkRoot: t.TempDir(),
		Executors: Executors{"ShellCommandActivity": exec, "ShellCommandPrecondition": exec},
		Logger:    slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// running is a Run in progress.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

// startRunner runs r in a goroutine.
func startRunner(r *Runner) *running {
	ctx, cancel := context.WithCancel(context.Background())
	rr := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { rr.done <- r.Run(ctx) }()
	return rr
}
