package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// fullInstance returns an instance with every field set, distinct per id.
func fullInstance(id string, start time.Time) *pipeline.Instance {
	return &pipeline.Instance{
		ID: id, ComponentID: "Comp" + id, Type: "ShellCommandActivity", N: 7, Version: 3,
		ScheduledStart: start, ScheduledEnd: start.Add(15 * time.Minute), Eligible: start.Add(15 * time.Minute),
		Status: pipeline.StatusRunning, ActualStart: start.Add(16 * time.Minute), ActualEnd: start.Add(17 * time.Minute),
		AttemptCount: 2, TriesLeft: 1, HeadAttempt: pipeline.AttemptID(id, 2), Resource: "@Ec2_" + id,
		ErrorID: "Error.Exit", ErrorMessage: "exit status 3 ünï €", ErrorStackTrace: "line 1\nline 2\n\ttabbed",
		CascadeFailedOn: "@Up_" + id, CancellationReason: "canceled by the user", LateActionsFired: true,
		Node: "@Node_" + id, Events: []string{"2025-03-04T05:06:07 onFail SnsAlarm Alarm: ünï", "second \"quoted\""},
	}
}

// bareInstance returns an instance as the planner creates it: zero times
// but for the schedule, empty strings.
func bareInstance(id, component string, start time.Time) *pipeline.Instance {
	return &pipeline.Instance{
		ID: id, ComponentID: component, Type: "CopyActivity",
		ScheduledStart: start, ScheduledEnd: start.Add(time.Hour), Eligible: start,
		Status: pipeline.StatusWaitingOnDependencies, TriesLeft: 3,
	}
}

func fullAttempt(id string) *pipeline.Attempt {
	return &pipeline.Attempt{
		ID: id, InstanceID: strings.Split(id, "_Attempt=")[0], N: 2, Status: pipeline.StatusFailed,
		TaskID: "task-" + id, Hostname: "host-1.example", NotBefore: at(time.Minute), ActualStart: at(2 * time.Minute),
		ActualEnd: at(3 * time.Minute), ReportProgressTime: at(150 * time.Second), LogLocation: "s3://logs/df-1/" + id + "/",
		ErrorID: "E", ErrorMessage: "failed ünï", ErrorStackTrace: "a\nb",
	}
}

func (b *testBundle) apply(t *testing.T, c *store.RunChanges) {
	t.Helper()
	if err := b.s.RunApply(b.ctx, c); err != nil {
		t.Fatalf("RunApply(%s) error: %v", c.PipelineID, err)
	}
}

func (b *testBundle) load(t *testing.T, account, id string) *store.RunState {
	t.Helper()
	st, err := b.s.RunLoad(b.ctx, account, id)
	if err != nil {
		t.Fatalf("RunLoad(%s, %s) error: %v", account, id, err)
	}
	return st
}

// runTaskCmpOpts compare the tasks of a RunState, whose Objects a backend
// may leave out.
var runTaskCmpOpts = append([]cmp.Option{cmpopts.IgnoreFields(store.Task{}, "Objects")}, taskCmpOpts...)

// runCmpOpts compare run states; ChangeSeq is checked on its own.
var runCmpOpts = append([]cmp.Option{cmp.FilterPath(func(p cmp.Path) bool {
	return p.Last().String() == ".ChangeSeq"
}, cmp.Ignore())}, runTaskCmpOpts...)

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func instanceIDs(st *store.RunState) []string {
	return ids(st.Instances, func(in *pipeline.Instance) string { return in.ID })
}

func testRunApply(t *testing.T, opts Options) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-RUNRT00001", "orders"))
		full := fullInstance("@A_1", at(time.Hour))
		bare := bareInstance("@B_1", "B", at(time.Hour))
		zero := &pipeline.Instance{ID: "@Z_0"} // every time zero, even the schedule
		att := fullAttempt("@A_1_Attempt=2")
		bareAtt := &pipeline.Attempt{ID: "@B_1_Attempt=1", InstanceID: "@B_1", N: 1, Status: pipeline.StatusWaitingForRunner}
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Instances: []*pipeline.Instance{full, bare, zero},
			Attempts: []*pipeline.Attempt{att, bareAtt}, Now: t0})
		want := &store.RunState{
			// The zero start first; equal starts by id.
			Instances: []*pipeline.Instance{copyOf(zero), copyOf(full), copyOf(bare)},
			Attempts:  []*pipeline.Attempt{copyOf(att), copyOf(bareAtt)},
		}
		// The store keeps copies: the caller goes on changing its own.
		full.Status, att.Status = pipeline.StatusFinished, pipeline.StatusFinished
		if diff := cmp.Diff(want, b.load(t, acctA, p.ID), runCmpOpts...); diff != "" {
			t.Errorf("RunLoad() mismatch (-want +got):\n%s", diff)
		}

		// Replacing: same ids, new values; the rest is untouched. The
		// later of two forms of one id in a step counts.
		full2 := fullInstance("@A_1", at(time.Hour))
		full2.Status, full2.ActualEnd, full2.ErrorMessage = pipeline.StatusFinished, time.Time{}, ""
		first := copyOf(full2)
		first.Status = pipeline.StatusFailed
		att2 := fullAttempt("@A_1_Attempt=2")
		att2.Status, att2.ActualEnd = pipeline.StatusFinished, at(time.Hour)
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Instances: []*pipeline.Instance{first, full2},
			Attempts: []*pipeline.Attempt{att2}, Now: t0})
		want.Instances[1], want.Attempts[0] = copyOf(full2), copyOf(att2)
		if diff := cmp.Diff(want, b.load(t, acctA, p.ID), runCmpOpts...); diff != "" {
			t.Errorf("RunLoad() after replacing mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("Tasks", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-RUNTASK001", "orders"))
		now := task(acctA, "ignored", "task-now", "wg", t0)
		now.Account = acctB // RunChanges says whose tasks these are
		now.InstanceID = "@A_1"
		later := task(acctA, p.ID, "task-later", "wg", t0)
		later.NotBefore, later.InstanceID = at(time.Hour), "@A_2"
		// Fields a caller cannot set are ignored.
		later.Status, later.LeaseOwner, later.Canceled, later.ErrorID, later.Hostname = store.TaskFinished, "x", true, "E", "h"
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Tasks: []*store.Task{later, now}, Now: t0})
		st := b.load(t, acctA, p.ID)
		wantLater := &store.Task{ID: "task-later", Account: acctA, PipelineID: p.ID, AttemptID: later.AttemptID, InstanceID: "@A_2",
			WorkerGroup: "wg", Objects: later.Objects, NotBefore: at(time.Hour), Status: store.TaskQueued, CreatedAt: t0}
		wantNow := &store.Task{ID: "task-now", Account: acctA, PipelineID: p.ID, AttemptID: now.AttemptID, InstanceID: "@A_1",
			WorkerGroup: "wg", Objects: now.Objects, Status: store.TaskQueued, CreatedAt: t0}
		if diff := cmp.Diff([]*store.Task{wantLater, wantNow}, st.Tasks, runTaskCmpOpts...); diff != "" {
			t.Errorf("RunLoad().Tasks mismatch (-want +got):\n%s", diff)
		}
		got := b.claim(t, acctA, "wg", "h", t0, at(time.Minute))
		wantNow.Status, wantNow.LeaseOwner, wantNow.Hostname, wantNow.LeaseExpires = store.TaskClaimed, "h", "host-of-h", at(time.Minute)
		wantNow.ClaimedAt = t0
		if diff := cmp.Diff(wantNow, got, taskCmpOpts...); diff != "" {
			t.Errorf("TaskClaim() mismatch (-want +got):\n%s", diff)
		}
		if id := b.claimID(t, acctA, "wg", "h", at(59*time.Minute), at(2*time.Hour)); id != "" {
			t.Errorf("TaskClaim() before NotBefore = %q, want nothing claimable", id)
		}
		if id := b.claimID(t, acctA, "wg", "h", at(time.Hour), at(2*time.Hour)); id != "task-later" {
			t.Errorf("TaskClaim() at NotBefore = %q, want task-later", id)
		}
		// The claims show in the next load; queue order is kept.
		st = b.load(t, acctA, p.ID)
		if got := ids(st.Tasks, func(t *store.Task) string { return string(t.Status) + " " + t.ID }); !slices.Equal(got, []string{"CLAIMED task-later", "CLAIMED task-now"}) {
			t.Errorf("RunLoad().Tasks after claims = %v", got)
		}
	})

	t.Run("Cancel", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-RUNCANC001", "orders"))
		other := b.create(t, createParams(acctA, "df-RUNCANC002", "billing"))
		var tasks []*store.Task
		for _, id := range []string{"t-claimed", "t-done", "t-queued", "t-lost"} {
			tasks = append(tasks, task(acctA, p.ID, id, "wg", t0))
		}
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Tasks: tasks, Now: t0})
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: other.ID, Tasks: []*store.Task{task(acctA, other.ID, "t-other", "wg2", t0)}, Now: t0})
		b.claim(t, acctA, "wg", "h", t0, at(time.Hour))
		b.claim(t, acctA, "wg", "h", t0, at(time.Hour))
		if _, err := b.s.TaskComplete(b.ctx, &store.TaskCompleteParams{Account: acctA, ID: "t-done", Status: store.TaskFinished, Now: t0}); err != nil {
			t.Fatal(err)
		}
		// t-lost: claimed with a short lease, then reaped.
		if err := b.s.RunApply(b.ctx, &store.RunChanges{Account: acctA, PipelineID: p.ID, Cancel: []string{"t-queued"}, Now: t0}); err != nil {
			t.Fatal(err)
		}
		if id := b.claimID(t, acctA, "wg", "h", t0, at(time.Second)); id != "t-lost" {
			t.Fatalf("TaskClaim() = %q, want t-lost (t-queued is canceled)", id)
		}
		if _, err := b.s.TaskReap(b.ctx, at(time.Minute)); err != nil {
			t.Fatal(err)
		}
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID,
			Cancel: []string{"t-claimed", "t-done", "t-lost", "t-unknown", "t-other", "t-claimed"}, Now: at(2 * time.Minute)})

		st := b.load(t, acctA, p.ID)
		got := map[string]bool{}
		for _, tk := range st.Tasks {
			got[tk.ID] = tk.Canceled
		}
		want := map[string]bool{"t-claimed": true, "t-done": false, "t-queued": true, "t-lost": false}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Canceled per task mismatch (-want +got):\n%s", diff)
		}
		if o := b.load(t, acctA, other.ID); len(o.Tasks) != 1 || o.Tasks[0].Canceled {
			t.Errorf("another pipeline's task was canceled: %+v", o.Tasks)
		}
		// The runner of a canceled claimed task learns of it on progress.
		pr, err := b.s.TaskProgress(b.ctx, &store.TaskProgressParams{Account: acctA, ID: "t-claimed", LeaseUntil: at(time.Hour), Now: at(3 * time.Minute)})
		if err != nil || !pr.Canceled {
			t.Errorf("TaskProgress(canceled) = (%v, %v), want Canceled", pr, err)
		}
		// A canceled queued task is never claimable.
		if id := b.claimID(t, acctA, "wg", "h", at(time.Hour), at(2*time.Hour)); id != "" {
			t.Errorf("TaskClaim() = %q, want nothing claimable", id)
		}
	})

	t.Run("CommandsAndState", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-RUNCMD0001", "orders"))
		b.putDefinition(t, acctA, p.ID, doc1, false, t0)
		b.activate(t, acctA, p.ID, t0)
		var cmds []*store.RunCommand
		for i, status := range []string{"TRY_CANCEL", "RERUN", "MARK_FINISHED"} {
			c := &store.RunCommand{Account: acctA, PipelineID: p.ID, ObjectIDs: []string{fmt.Sprintf("@A_%d", i), "@B_1"}, Status: status, CreatedAt: at(time.Duration(i) * time.Second)}
			if err := b.s.RunCommandAdd(b.ctx, c); err != nil {
				t.Fatalf("RunCommandAdd() error: %v", err)
			}
			cmds = append(cmds, c)
		}
		st := b.load(t, acctA, p.ID)
		if diff := cmp.Diff(cmds, st.Commands, cmpOpts...); diff != "" {
			t.Errorf("RunLoad().Commands mismatch (-want +got):\n%s", diff)
		}
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, CommandsDone: []int64{cmds[0].Seq, cmds[2].Seq, 999999},
			State: pipeline.StateFinished, Now: t0})
		st = b.load(t, acctA, p.ID)
		if diff := cmp.Diff([]*store.RunCommand{cmds[1]}, st.Commands, cmpOpts...); diff != "" {
			t.Errorf("RunLoad().Commands after CommandsDone mismatch (-want +got):\n%s", diff)
		}
		got := b.get(t, acctA, p.ID)
		if got.State != pipeline.StateFinished {
			t.Errorf("state after RunApply = %s, want FINISHED", got.State)
		}
		// The rest of the pipeline is as it was.
		if got.Active == nil || got.Active.Version != 1 || got.LastActivatedAt != t0 {
			t.Errorf("pipeline after RunApply State = %+v", got)
		}
		// An empty State leaves the state alone.
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Now: t0})
		if got := b.get(t, acctA, p.ID); got.State != pipeline.StateFinished {
			t.Errorf("state after RunApply without State = %s, want FINISHED", got.State)
		}
	})

	t.Run("Atomic", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-RUNATOM001", "orders"))
		other := b.create(t, createParams(acctA, "df-RUNATOM002", "billing"))
		b.putDefinition(t, acctA, p.ID, doc1, false, t0)
		b.activate(t, acctA, p.ID, t0)
		b.enqueue(t, task(acctA, other.ID, "taken", "wg", t0))
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Instances: []*pipeline.Instance{bareInstance("@A_1", "A", t0)},
			Tasks: []*store.Task{task(acctA, p.ID, "t-1", "wg", t0)}, Now: t0})
		c := &store.RunCommand{Account: acctA, PipelineID: p.ID, ObjectIDs: []string{"@A_1"}, Status: "RERUN", CreatedAt: t0}
		if err := b.s.RunCommandAdd(b.ctx, c); err != nil {
			t.Fatal(err)
		}
		before := b.load(t, acctA, p.ID)
		changed := bareInstance("@A_1", "A", t0)
		changed.Status = pipeline.StatusCanceled
		for _, tc := range []struct {
			name  string
			tasks []*store.Task
		}{
			{"TakenByAnotherPipeline", []*store.Task{task(acctA, p.ID, "t-new", "wg", t0), task(acctA, p.ID, "taken", "wg", t0)}},
			{"TakenInThePipeline", []*store.Task{task(acctA, p.ID, "t-1", "wg", t0)}},
			{"RepeatedInTheStep", []*store.Task{task(acctA, p.ID, "t-new", "wg", t0), task(acctA, p.ID, "t-new", "wg", t0)}},
		} {
			err := b.s.RunApply(b.ctx, &store.RunChanges{Account: acctA, PipelineID: p.ID,
				Instances: []*pipeline.Instance{changed, bareInstance("@A_2", "A", at(time.Hour))},
				Attempts:  []*pipeline.Attempt{fullAttempt("@A_1_Attempt=1")},
				Tasks:     tc.tasks, Cancel: []string{"t-1"}, CommandsDone: []int64{c.Seq}, State: pipeline.StateFinished, Now: t0})
			wantErr(t, "RunApply() "+tc.name, err, store.ErrConflict)
			if diff := cmp.Diff(before, b.load(t, acctA, p.ID), runCmpOpts...); diff != "" {
				t.Errorf("%s: RunLoad() after a failed RunApply changed (-before +after):\n%s", tc.name, diff)
			}
			if got := b.get(t, acctA, p.ID).State; got != pipeline.StateScheduled {
				t.Errorf("%s: state after a failed RunApply = %s, want SCHEDULED", tc.name, got)
			}
		}
		// t-new was not enqueued; t-1 is the only claimable task of wg.
		if id := b.claimID(t, acctA, "wg", "h", t0, at(time.Hour)); id != "taken" {
			t.Errorf("TaskClaim() = %q, want taken", id)
		}
		if id := b.claimID(t, acctA, "wg", "h", t0, at(time.Hour)); id != "t-1" {
			t.Errorf("TaskClaim() = %q, want t-1 (not canceled)", id)
		}
		if id := b.claimID(t, acctA, "wg", "h", t0, at(time.Hour)); id != "" {
			t.Errorf("TaskClaim() = %q, want nothing claimable", id)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-RUNERR0001", "orders"))
		gone := b.create(t, createParams(acctA, "df-RUNERR0002", "gone"))
		if err := b.s.PipelineDelete(b.ctx, acctA, gone.ID, t0); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, account, id string
			want              error
		}{
			{"Missing", acctA, "df-UNKNOWN001", store.ErrNotFound},
			{"OtherAccount", acctB, p.ID, store.ErrNotFound},
			{"OtherAccountDeleted", acctB, gone.ID, store.ErrNotFound},
			{"Deleted", acctA, gone.ID, store.ErrDeleted},
			{"Live", acctA, p.ID, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := b.s.RunApply(b.ctx, &store.RunChanges{Account: tc.account, PipelineID: tc.id,
					Instances: []*pipeline.Instance{bareInstance("@A_1", "A", t0)}, Now: t0})
				wantErr(t, "RunApply()", err, tc.want)
				_, err = b.s.RunLoad(b.ctx, tc.account, tc.id)
				wantErr(t, "RunLoad()", err, tc.want)
				err = b.s.RunCommandAdd(b.ctx, &store.RunCommand{Account: tc.account, PipelineID: tc.id, Status: "RERUN", CreatedAt: t0})
				wantErr(t, "RunCommandAdd()", err, tc.want)
			})
		}
		// Nothing reached another account's view.
		if st := b.load(t, acctA, p.ID); len(st.Instances) != 1 || len(st.Commands) != 1 {
			t.Errorf("RunLoad() = %d instances, %d commands, want 1 and 1", len(st.Instances), len(st.Commands))
		}
	})
}

func copyOf[T any](x *T) *T {
	c := *x
	return &c
}

func deepCopy[T any](xs []*T) []*T {
	out := make([]*T, len(xs))
	for i, x := range xs {
		out[i] = copyOf(x)
	}
	return out
}

func testRunLoad(t *testing.T, opts Options) {
	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-LOADEMP001", "orders"))
		st := b.load(t, acctA, p.ID)
		if len(st.Instances)+len(st.Attempts)+len(st.Tasks)+len(st.Commands) != 0 {
			t.Errorf("RunLoad() of a pipeline that never ran = %+v, want empty", st)
		}
	})

	t.Run("Order", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-LOADORD001", "orders"))
		// Three components over 200 intervals, applied in shuffled batches
		// (as a planner does, component by component), some replaced on the
		// way: the load is ordered by (ScheduledStart, ID) whatever the order
		// of writes.
		r := rand.New(rand.NewPCG(1, 2))
		var all []*pipeline.Instance
		for _, comp := range []string{"Zeta", "Alpha", "Mid"} {
			for i := range 200 {
				start := at(time.Duration(i) * 15 * time.Minute)
				all = append(all, bareInstance(fmt.Sprintf("@%s_%s", comp, start.Format("2006-01-02T15:04:05")), comp, start))
			}
		}
		var atts []*pipeline.Attempt
		for i := range 30 {
			atts = append(atts, &pipeline.Attempt{ID: pipeline.AttemptID(all[i].ID, i%11+1), InstanceID: all[i].ID, N: i%11 + 1})
		}
		shuffled := slices.Clone(all)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for len(shuffled) > 0 {
			n := min(len(shuffled), 1+r.IntN(90))
			batch := shuffled[:n]
			shuffled = shuffled[n:]
			k := min(len(atts), r.IntN(8))
			b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Instances: batch, Attempts: atts[:k], Now: t0})
			atts = atts[k:]
			// Replace a few stored ones, some after a RunLoad holds them.
			if r.IntN(3) == 0 {
				b.load(t, acctA, p.ID)
			}
			b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Instances: batch[:min(3, n)], Now: t0})
		}
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Attempts: atts, Now: t0})
		want := slices.Clone(all)
		slices.SortFunc(want, func(a, b *pipeline.Instance) int {
			if c := a.ScheduledStart.Compare(b.ScheduledStart); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		st := b.load(t, acctA, p.ID)
		if diff := cmp.Diff(want, st.Instances); diff != "" {
			t.Errorf("RunLoad().Instances mismatch (-want +got):\n%s", diff)
		}
		gotAtt := ids(st.Attempts, func(a *pipeline.Attempt) string { return a.ID })
		if !slices.IsSorted(gotAtt) || len(gotAtt) != 30 {
			t.Errorf("RunLoad().Attempts = %v, want 30 ids in order", gotAtt)
		}
	})

	t.Run("Snapshot", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t, opts)
		p := b.create(t, createParams(acctA, "df-LOADSNP001", "orders"))
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID,
			Instances: []*pipeline.Instance{bareInstance("@A_2", "A", at(time.Hour)), bareInstance("@A_3", "A", at(2*time.Hour))},
			Attempts:  []*pipeline.Attempt{fullAttempt("@A_2_Attempt=1")},
			Tasks:     []*store.Task{task(acctA, p.ID, "t-1", "wg", t0)}, Now: t0})
		if err := b.s.RunCommandAdd(b.ctx, &store.RunCommand{Account: acctA, PipelineID: p.ID, Status: "RERUN", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		held := b.load(t, acctA, p.ID)
		// Deep copies: a store that changed its snapshots in place would
		// change shallow ones too.
		want := &store.RunState{
			Instances: deepCopy(held.Instances), Attempts: deepCopy(held.Attempts),
			Tasks: deepCopy(held.Tasks), Commands: deepCopy(held.Commands),
		}
		// Every kind of change: insert before, replace, claim, cancel, done.
		changed := bareInstance("@A_2", "A", at(time.Hour))
		changed.Status = pipeline.StatusRunning
		att := fullAttempt("@A_2_Attempt=1")
		att.Status = pipeline.StatusRunning
		b.claim(t, acctA, "wg", "h", t0, at(time.Hour))
		b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID,
			Instances:    []*pipeline.Instance{bareInstance("@A_1", "A", t0), changed},
			Attempts:     []*pipeline.Attempt{fullAttempt("@A_0_Attempt=1"), att},
			Tasks:        []*store.Task{task(acctA, p.ID, "t-2", "wg", t0)},
			Cancel:       []string{"t-1"},
			CommandsDone: []int64{held.Commands[0].Seq}, Now: t0})
		if diff := cmp.Diff(want, held, runCmpOpts...); diff != "" {
			t.Errorf("a RunState held across writes changed (-then +now):\n%s", diff)
		}
		now := b.load(t, acctA, p.ID)
		if got := instanceIDs(now); !slices.Equal(got, []string{"@A_1", "@A_2", "@A_3"}) {
			t.Errorf("RunLoad() after the writes = %v", got)
		}
		if now.ChangeSeq <= held.ChangeSeq {
			t.Errorf("RunLoad().ChangeSeq = %d after task changes, want above %d", now.ChangeSeq, held.ChangeSeq)
		}
	})
}

func testRunCommandAdd(t *testing.T, opts Options) {
	t.Parallel()
	_, b := setup(t, opts)
	p := b.create(t, createParams(acctA, "df-CMDSEQ0001", "orders"))
	q := b.create(t, createParams(acctB, "df-CMDSEQ0002", "orders"))
	var last int64
	for i := range 6 {
		pl, acct := p, acctA
		if i%2 == 1 {
			pl, acct = q, acctB
		}
		c := &store.RunCommand{Seq: 12345, Account: acct, PipelineID: pl.ID, ObjectIDs: []string{"@A_1"}, Status: "RERUN", CreatedAt: t0}
		if err := b.s.RunCommandAdd(b.ctx, c); err != nil {
			t.Fatalf("RunCommandAdd() error: %v", err)
		}
		if c.Seq <= last {
			t.Errorf("RunCommandAdd() %d: Seq = %d, want above %d", i, c.Seq, last)
		}
		last = c.Seq
		if i == 2 {
			// Done commands leave no number free for reuse.
			st := b.load(t, acctA, p.ID)
			b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID,
				CommandsDone: ids2seqs(st.Commands), Now: t0})
		}
	}
	if st := b.load(t, acctA, p.ID); len(st.Commands) != 1 {
		t.Errorf("RunLoad(A).Commands = %d, want 1", len(st.Commands))
	}
	if st := b.load(t, acctB, q.ID); len(st.Commands) != 3 {
		t.Errorf("RunLoad(B).Commands = %d, want 3", len(st.Commands))
	}
	// RunCommands: every pipeline's pending commands, in Seq order.
	all, err := b.s.RunCommands(b.ctx)
	if err != nil {
		t.Fatalf("RunCommands() error: %v", err)
	}
	var pids []string
	for i, c := range all {
		if i > 0 && c.Seq <= all[i-1].Seq {
			t.Errorf("RunCommands() not in Seq order: %d after %d", c.Seq, all[i-1].Seq)
		}
		pids = append(pids, c.PipelineID)
	}
	if want := []string{q.ID, q.ID, p.ID, q.ID}; !slices.Equal(pids, want) {
		t.Errorf("RunCommands() pipelines = %v, want %v", pids, want)
	}
}

func ids2seqs(cs []*store.RunCommand) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.Seq
	}
	return out
}

func testPipelinesRunning(t *testing.T, opts Options) {
	t.Parallel()
	_, b := setup(t, opts)
	setState := func(account, id string, s pipeline.State) {
		b.update(t, account, id, func(p *store.Pipeline) error { p.State = s; return nil })
	}
	var want []string
	for i, st := range []pipeline.State{pipeline.StatePending, pipeline.StateScheduled, pipeline.StateDeactivating,
		pipeline.StateInactive, pipeline.StateFinished, pipeline.StateScheduled} {
		acct := acctA
		if i%2 == 1 {
			acct = acctB
		}
		p := b.create(t, createParams(acct, fmt.Sprintf("df-RUNNING%03d", i), fmt.Sprintf("p%d", i)))
		setState(acct, p.ID, st)
		if st == pipeline.StateScheduled || st == pipeline.StateDeactivating {
			want = append(want, p.ID)
		}
	}
	gone := b.create(t, createParams(acctA, "df-RUNNINGDEL", "gone"))
	setState(acctA, gone.ID, pipeline.StateScheduled)
	if err := b.s.PipelineDelete(b.ctx, acctA, gone.ID, t0); err != nil {
		t.Fatal(err)
	}
	got, err := b.s.PipelinesRunning(b.ctx)
	if err != nil {
		t.Fatalf("PipelinesRunning() error: %v", err)
	}
	if diff := cmp.Diff(want, ids(got, func(p *store.Pipeline) string { return p.ID })); diff != "" {
		t.Errorf("PipelinesRunning() mismatch (-want +got):\n%s", diff)
	}
	// They are whole pipelines, as PipelineGet returns them.
	for _, p := range got {
		if diff := cmp.Diff(b.get(t, p.Account, p.ID), p, cmpOpts...); diff != "" {
			t.Errorf("PipelinesRunning() entry %s mismatch (-get +running):\n%s", p.ID, diff)
		}
	}
	// A run's State takes a pipeline out.
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: want[1], State: pipeline.StateFinished, Now: t0})
	got, err = b.s.PipelinesRunning(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{want[0], want[2]}, ids(got, func(p *store.Pipeline) string { return p.ID })); diff != "" {
		t.Errorf("PipelinesRunning() after FINISHED mismatch (-want +got):\n%s", diff)
	}
}
