package postgres

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/pgtest"
	"github.com/culvert/culvert/internal/store"
	"github.com/culvert/culvert/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// testDB is a DB that knows its database, so that the suite can reopen it
// or open a second handle on it.
type testDB struct {
	*DB
	db   pgtest.Database
	once sync.Once
}

func (d *testDB) Close() error {
	var err error
	d.once.Do(func() { err = d.DB.Close() })
	return err
}

// open opens url, which names db, and closes it when t ends.
func open(t *testing.T, db pgtest.Database, url string) *testDB {
	t.Helper()
	// No periodic wake-up within a test: the suite's wake-up tests must
	// be passed by notifications alone.
	s, err := Open(context.Background(), Config{URL: url, Logger: discard, WakeEvery: time.Hour})
	if err != nil {
		t.Fatalf("Open() error: %v", err)
	}
	d := &testDB{DB: s, db: db}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close() error: %v", err)
		}
	})
	return d
}

func TestStore(t *testing.T) {
	storetest.Run(t, storetest.Options{
		Open: func(t *testing.T) store.Store {
			db := pgtest.NewDatabase(t)
			return open(t, db, db.DSN())
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			d := s.(*testDB)
			if err := d.Close(); err != nil {
				t.Fatalf("Close() error: %v", err)
			}
			return open(t, d.db, d.db.DSN())
		},
		// The second node connects by URL, over TCP: both forms of
		// connection string work.
		OpenShared: func(t *testing.T, s store.Store) store.Store {
			d := s.(*testDB)
			return open(t, d.db, d.db.URL())
		},
	})
}

// The objects of a task no runner can claim any more are emptied in the
// statement that ends it; those of a task still to run stay.
func TestDeadTaskObjectsDropped(t *testing.T) {
	db := pgtest.NewDatabase(t)
	d := open(t, db, db.DSN())
	ctx := t.Context()
	const account, pid = "123456789012", "df-objects"
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	if _, _, err := d.PipelineCreate(ctx, &store.PipelineCreateParams{
		Account: account, ID: pid, Name: pid, UniqueID: pid, Creator: "AKIAEXAMPLE", Now: now,
	}); err != nil {
		t.Fatal(err)
	}
	c := &store.RunChanges{Account: account, PipelineID: pid, Now: now}
	for _, id := range []string{"finished", "lost", "canceled", "live"} {
		c.Tasks = append(c.Tasks, &store.Task{ID: id, AttemptID: id + "_Attempt=1", WorkerGroup: "wg",
			Objects: []byte(`{"` + id + `":{}}`), CreatedAt: now})
	}
	if err := d.RunApply(ctx, c); err != nil {
		t.Fatal(err)
	}
	claim := func(want string, lease time.Duration) {
		t.Helper()
		task, err := d.TaskClaim(ctx, &store.TaskClaimParams{Account: account, WorkerGroup: "wg", Owner: "r", Hostname: "h",
			LeaseUntil: now.Add(lease), Now: now})
		if err != nil || task.ID != want {
			t.Fatalf("TaskClaim() = %v, %v; want %s", task, err, want)
		}
	}
	claim("finished", time.Hour)
	if _, err := d.TaskComplete(ctx, &store.TaskCompleteParams{Account: account, ID: "finished", Status: store.TaskFinished, Now: now}); err != nil {
		t.Fatal(err)
	}
	claim("lost", time.Minute)
	if n, err := d.TaskReap(ctx, now.Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("TaskReap() = %d, %v; want 1", n, err)
	}
	if err := d.RunApply(ctx, &store.RunChanges{Account: account, PipelineID: pid, Now: now, Cancel: []string{"canceled"}}); err != nil {
		t.Fatal(err)
	}
	rows, err := d.pool.Query(ctx, `SELECT id, octet_length(objects) FROM tasks ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		got[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"finished": 0, "lost": 0, "canceled": 0, "live": len(`{"live":{}}`)}
	for id, n := range want {
		if m, ok := got[id]; !ok || m != n {
			t.Errorf("objects of %s: %d bytes (stored %v), want %d", id, m, ok, n)
		}
	}
}
