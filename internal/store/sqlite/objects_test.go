package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/store"
)

const objectsAccount = "123456789012"

// objectsPipeline creates pipeline pid for the tests of task objects.
func objectsPipeline(t *testing.T, d *testDB, pid string, now time.Time) {
	t.Helper()
	if _, _, err := d.PipelineCreate(t.Context(), &store.PipelineCreateParams{
		Account: objectsAccount, ID: pid, Name: pid, UniqueID: pid, Creator: "AKIAEXAMPLE", Now: now,
	}); err != nil {
		t.Fatal(err)
	}
}

// objectRows counts the task_objects rows of d's file.
func objectRows(t *testing.T, d *testDB) int {
	t.Helper()
	var n int
	if err := d.db.QueryRowContext(t.Context(), `SELECT count(*) FROM task_objects`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The objects of a task no runner can claim any more leave memory at
// once and the database in bulk, and a reopened store neither loads them
// nor loses those of the tasks still to run.
func TestDeadTaskObjectsDropped(t *testing.T) {
	t.Parallel()
	const (
		account = objectsAccount
		pid     = "df-objects"
		done    = bulkRows + 5 // one bulk deletion, and some left over
		live    = 3
		cancel  = 2
	)
	path := filepath.Join(t.TempDir(), "culvert.db")
	d := openPath(t, path)
	ctx := t.Context()
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	objectsPipeline(t, d, pid, now)
	objects := func(id string) []byte { return []byte(fmt.Sprintf(`{%q:{"id":%q,"fields":[]}}`, id, id)) }
	c := &store.RunChanges{Account: account, PipelineID: pid, Now: now}
	for i := range done + live + cancel {
		id := fmt.Sprintf("task-%02d", i)
		c.Tasks = append(c.Tasks, &store.Task{ID: id, AttemptID: id + "_Attempt=1", WorkerGroup: "wg", Objects: objects(id), CreatedAt: now})
	}
	if err := d.RunApply(ctx, c); err != nil {
		t.Fatal(err)
	}
	// Cancel the last tasks while they are queued.
	c = &store.RunChanges{Account: account, PipelineID: pid, Now: now}
	for i := done + live; i < done+live+cancel; i++ {
		c.Cancel = append(c.Cancel, fmt.Sprintf("task-%02d", i))
	}
	if err := d.RunApply(ctx, c); err != nil {
		t.Fatal(err)
	}
	for i := range done {
		task, err := d.TaskClaim(ctx, &store.TaskClaimParams{Account: account, WorkerGroup: "wg", Owner: "r", Hostname: "h",
			LeaseUntil: now.Add(time.Hour), Now: now})
		if err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
		if want := objects(task.ID); string(task.Objects) != string(want) {
			t.Fatalf("claimed %s with objects %s, want %s", task.ID, task.Objects, want)
		}
		status := store.TaskFinished
		if i%2 == 1 {
			status = store.TaskFailed
		}
		if _, err := d.TaskComplete(ctx, &store.TaskCompleteParams{Account: account, ID: task.ID, Status: status, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	checkObjects := func(when string) {
		t.Helper()
		st, err := d.RunLoad(ctx, account, pid)
		if err != nil {
			t.Fatal(err)
		}
		for i, task := range st.Tasks {
			dead := i < done || i >= done+live
			if dead && task.Objects != nil {
				t.Errorf("%s: %s (%s, canceled %v) still holds its objects", when, task.ID, task.Status, task.Canceled)
			}
			if !dead && string(task.Objects) != string(objects(task.ID)) {
				t.Errorf("%s: live %s has objects %q, want %q", when, task.ID, task.Objects, objects(task.ID))
			}
		}
	}
	checkObjects("before reopening")

	// A live task claimed before closing keeps its objects in the
	// database; the bulk deletion went with the completions.
	if _, err := d.TaskClaim(ctx, &store.TaskClaimParams{Account: account, WorkerGroup: "wg", Owner: "r", Hostname: "h",
		LeaseUntil: now.Add(time.Hour), Now: now}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openPath(t, path)
	if got, want := objectRows(t, d), done+live+cancel-bulkRows; got != want {
		t.Errorf("task_objects rows after the bulk deletion = %d, want %d", got, want)
	}
	checkObjects("after reopening")
	// The live tasks left are claimed with their objects, which came
	// from the database.
	for range live - 1 {
		task, err := d.TaskClaim(ctx, &store.TaskClaimParams{Account: account, WorkerGroup: "wg", Owner: "r", Hostname: "h",
			LeaseUntil: now.Add(time.Hour), Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if want := objects(task.ID); string(task.Objects) != string(want) {
			t.Errorf("claimed %s after reopening with objects %s, want %s", task.ID, task.Objects, want)
		}
	}
}

// However many task objects are dead (a store reopened after many tasks
// ended without their deletion committed), a write deletes at most
// deadObjectBulks bulks of them, and the following writes the rest.
func TestDeadTaskObjectsDeletedInBoundedBulks(t *testing.T) {
	t.Parallel()
	const (
		account  = objectsAccount
		pid      = "df-bulks"
		perWrite = deadObjectBulks * bulkRows
		n        = 2*perWrite + 5
	)
	d := openTemp(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	objectsPipeline(t, d, pid, now)
	add := &store.RunChanges{Account: account, PipelineID: pid, Now: now}
	cancel := &store.RunChanges{Account: account, PipelineID: pid, Now: now}
	for i := range n {
		id := fmt.Sprintf("task-%04d", i)
		add.Tasks = append(add.Tasks, &store.Task{ID: id, AttemptID: id + "_Attempt=1", WorkerGroup: "wg", Objects: []byte(`{}`), CreatedAt: now})
		cancel.Cancel = append(cancel.Cancel, id)
	}
	for _, c := range []*store.RunChanges{add, cancel} {
		if err := d.RunApply(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// The cancellation ended every task; each write after it deletes a
	// bounded share, until fewer than a bulk are left. Each also stores
	// the row of the task it enqueues.
	for k := range 4 {
		if got, want := objectRows(t, d), n+k-min(k, 2)*perWrite; got != want {
			t.Fatalf("after %d writes: %d task_objects rows, want %d", k, got, want)
		}
		if err := d.TaskEnqueue(ctx, &store.Task{ID: fmt.Sprintf("extra-%d", k), Account: account, PipelineID: pid,
			AttemptID: fmt.Sprintf("extra-%d_Attempt=1", k), WorkerGroup: "other", Objects: []byte(`{}`), CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
}
