package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// testTaskLogLocation checks where an attempt's logs are, as the store
// keeps it: a progress report's LogLocation sticks to the task until
// another report names a new one, survives the task's end and a reopen,
// and an attempt's LogLocation is stored like its other fields.
func testTaskLogLocation(t *testing.T, opts Options) {
	t.Parallel()
	s, b := setup(t, opts)
	p := b.create(t, createParams(acctA, "df-LOGLOC0001", "orders"))
	b.enqueue(t, task(acctA, p.ID, "task-1", "wg", t0))
	b.enqueue(t, task(acctA, p.ID, "task-2", "wg", t0))
	b.claim(t, acctA, "wg", "host-1", t0, at(time.Hour))
	b.claim(t, acctA, "wg", "host-1", t0, at(time.Hour))

	const first, second = "file:///var/lib/culvert/logs/df-LOGLOC0001/A/@A_1/@A_1_Attempt=1", "s3://logs/df-LOGLOC0001/A/"
	progress := func(id, loc string, now time.Time) *store.Task {
		t.Helper()
		got, err := s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: id, LeaseUntil: at(time.Hour), Now: now, LogLocation: loc})
		if err != nil {
			t.Fatalf("TaskProgress(%s, %q) error: %v", id, loc, err)
		}
		return got
	}
	stored := func(id string) string {
		t.Helper()
		tasks := b.load(t, acctA, p.ID).Tasks
		i := slices.IndexFunc(tasks, func(x *store.Task) bool { return x.ID == id })
		if i < 0 {
			t.Fatalf("RunLoad() has no task %s", id)
		}
		return tasks[i].LogLocation
	}
	steps := []struct {
		name, loc, want string
	}{
		{"the acknowledgement names it", first, first},
		{"a report without one keeps it", "", first},
		{"a report with another replaces it", second, second},
	}
	for i, st := range steps {
		if got := progress("task-1", st.loc, at(time.Duration(i+1)*time.Minute)).LogLocation; got != st.want {
			t.Errorf("%s: TaskProgress().LogLocation = %q, want %q", st.name, got, st.want)
		}
		if got := stored("task-1"); got != st.want {
			t.Errorf("%s: RunLoad() task LogLocation = %q, want %q", st.name, got, st.want)
		}
	}
	if got := progress("task-2", "", at(time.Minute)).LogLocation; got != "" {
		t.Errorf("TaskProgress() of a task never given one: LogLocation = %q, want empty", got)
	}
	done, err := s.TaskComplete(b.ctx, &store.TaskCompleteParams{Account: acctA, ID: "task-1", Status: store.TaskFinished, Now: at(5 * time.Minute)})
	if err != nil {
		t.Fatalf("TaskComplete() error: %v", err)
	}
	if done.LogLocation != second {
		t.Errorf("TaskComplete().LogLocation = %q, want %q: the task keeps it when it ends", done.LogLocation, second)
	}
	feed, _, err := s.TaskChanges(b.ctx, 0, 100)
	if err != nil {
		t.Fatalf("TaskChanges() error: %v", err)
	}
	if i := slices.IndexFunc(feed, func(x *store.Task) bool { return x.ID == "task-1" }); i < 0 || feed[i].LogLocation != second {
		t.Errorf("TaskChanges() = %v, want task-1 done with LogLocation %q: the scheduler copies it from there", feed, second)
	}

	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID,
		Instances: []*pipeline.Instance{bareInstance("@A_1", "A", t0)},
		Attempts:  []*pipeline.Attempt{{ID: "@A_1_Attempt=1", InstanceID: "@A_1", N: 1, Status: pipeline.StatusFinished, TaskID: "task-1", LogLocation: second}},
		Now:       at(5 * time.Minute)})

	if opts.Reopen == nil {
		return
	}
	s = opts.Reopen(t, s)
	b = &testBundle{s: s, ctx: t.Context()}
	run := b.load(t, acctA, p.ID)
	if len(run.Attempts) != 1 || run.Attempts[0].LogLocation != second {
		t.Errorf("RunLoad() attempts after reopen = %+v, want one with LogLocation %q", run.Attempts, second)
	}
	if got := stored("task-1"); got != second {
		t.Errorf("done task's LogLocation after reopen = %q, want %q", got, second)
	}
	if got := progress("task-2", "", at(6*time.Minute)).LogLocation; got != "" {
		t.Errorf("TaskProgress() after reopen of a task never given one: LogLocation = %q, want empty", got)
	}
	if got := progress("task-2", first, at(7*time.Minute)).LogLocation; got != first {
		t.Errorf("TaskProgress() after reopen: LogLocation = %q, want %q", got, first)
	}
	s = opts.Reopen(t, s)
	b = &testBundle{s: s, ctx: t.Context()}
	if got := stored("task-2"); got != first {
		t.Errorf("claimed task's LogLocation after a second reopen = %q, want %q", got, first)
	}
}
