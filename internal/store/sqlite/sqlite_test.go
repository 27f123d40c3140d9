package sqlite

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/store"
	"github.com/culvert/culvert/internal/store/storetest"
)

// testDB is a DB whose Close may be called more than once, so that a test
// can close it early (to reopen the file) and still register cleanup.
type testDB struct {
	*DB
	path string
	once sync.Once
	err  error
}

func (d *testDB) Close() error {
	d.once.Do(func() { d.err = d.DB.Close() })
	return d.err
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// openPath opens the database at path and closes it when t ends.
func openPath(t testing.TB, path string) *testDB {
	t.Helper()
	db, err := Open(context.Background(), Config{Path: path, Logger: discard})
	if err != nil {
		t.Fatalf("Open(%s) error: %v", path, err)
	}
	d := &testDB{DB: db, path: path}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close(%s) error: %v", path, err)
		}
	})
	return d
}

func openTemp(t testing.TB) *testDB {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "culvert.db"))
}

func TestStore(t *testing.T) {
	storetest.Run(t, storetest.Options{
		Open: func(t *testing.T) store.Store { return openTemp(t) },
		Reopen: func(t *testing.T, s store.Store) store.Store {
			d := s.(*testDB)
			if err := d.Close(); err != nil {
				t.Fatalf("Close() error: %v", err)
			}
			return openPath(t, d.path)
		},
	})
}

func TestOpenExclusive(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "culvert.db")
	for _, stage := range []string{"Fresh", "Reopened"} {
		first := openPath(t, path)
		_, err := Open(context.Background(), Config{Path: path, Logger: discard})
		if err == nil {
			t.Fatalf("%s: second Open of %s while the first is open succeeded", stage, path)
		}
		if want := "in use by another culvert process"; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: second Open error = %q, want it to contain %q", stage, err, want)
		}
		// The first store is unaffected.
		if _, _, err := first.PipelineCreate(t.Context(), &store.PipelineCreateParams{
			Account: "a", ID: "df-" + stage, Name: stage, UniqueID: stage, Now: time.Now(),
		}); err != nil {
			t.Errorf("%s: PipelineCreate() on the first store error: %v", stage, err)
		}
		if err := first.Close(); err != nil {
			t.Fatalf("Close() error: %v", err)
		}
	}
	// Once closed, the file opens again.
	openPath(t, path)
}

func TestMigrationsRecorded(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "culvert.db")
	want := migrationVersions(t)
	versions := func(d *testDB) map[string]int64 {
		t.Helper()
		rows, err := d.db.QueryContext(t.Context(), `SELECT version, applied_at FROM schema_migrations`)
		if err != nil {
			t.Fatalf("query schema_migrations: %v", err)
		}
		defer rows.Close()
		got := map[string]int64{}
		for rows.Next() {
			var v string
			var at int64
			if err := rows.Scan(&v, &at); err != nil {
				t.Fatal(err)
			}
			got[v] = at
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}

	d := openPath(t, path)
	first := versions(d)
	if len(first) != len(want) {
		t.Errorf("schema_migrations = %v, want versions %v", first, want)
	}
	for _, v := range want {
		if first[v] == 0 {
			t.Errorf("migration %s not recorded with an applied_at", v)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening applies nothing again: a re-run of 0001 would fail on
	// CREATE TABLE, and the recorded times stay as they were.
	d = openPath(t, path)
	again := versions(d)
	for v, at := range first {
		if again[v] != at {
			t.Errorf("migration %s applied_at changed from %d to %d on reopen", v, at, again[v])
		}
	}
	if len(again) != len(first) {
		t.Errorf("schema_migrations after reopen = %v, want %v", again, first)
	}
}

func migrationVersions(t *testing.T) []string {
	t.Helper()
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".sql"))
	}
	if len(out) == 0 {
		t.Fatal("no embedded migrations")
	}
	return out
}

// TestGroupCommit checks that the committer folds concurrent writes into
// few SQLite transactions.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	const n = 200
	// createAll creates n pipelines at once, each caller waiting for
	// start; arrived, if not nil, is told of each caller about to wait.
	createAll := func(t *testing.T, d *testDB, start <-chan struct{}, arrived *sync.WaitGroup) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				if arrived != nil {
					arrived.Done()
				}
				<-start
				_, _, errs[i] = d.PipelineCreate(t.Context(), &store.PipelineCreateParams{
					Account: "acct", ID: fmt.Sprintf("df-%04d", i), Name: fmt.Sprintf("p%d", i), UniqueID: "u", Now: time.Now(),
				})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("PipelineCreate() %d error: %v", i, err)
			}
		}
		var count int
		if err := d.db.QueryRowContext(t.Context(), `SELECT count(*) FROM pipelines`).Scan(&count); err != nil {
			t.Error(err) // not Fatal: SlowCommit calls this off the test goroutine
		} else if count != n {
			t.Errorf("pipelines rows = %d, want %d", count, n)
		}
	}

	// While a commit is slow (here: blocked, as if on a slow disk), every
	// write that arrives joins the next commit.
	t.Run("SlowCommit", func(t *testing.T) {
		t.Parallel()
		d := openTemp(t)
		before := d.c.commits.Load()
		// Hold the pool's only connection so that no commit can start.
		conn, err := d.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		close(start)
		done := make(chan struct{})
		go func() {
			defer close(done)
			createAll(t, d, start, nil)
		}()
		deadline := time.Now().Add(10 * time.Second)
		for d.c.applied() < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d writes enqueued", d.c.applied(), n)
			}
			runtime.Gosched()
		}
		if got := d.c.commits.Load() - before; got != 0 {
			t.Errorf("%d commits while the connection was held, want 0", got)
		}
		conn.Close()
		<-done
		// The committer had taken at most one batch before it blocked; the
		// rest waited and went together.
		if got := d.c.commits.Load() - before; got > 2 {
			t.Errorf("%d writes held back by a slow commit used %d transactions, want at most 2", n, got)
		}
	})

	// A burst of concurrent callers. How far it batches depends on the
	// scheduler (a fast commit can finish before the next caller runs), so
	// the bound is loose; the log shows the actual number.
	t.Run("Burst", func(t *testing.T) {
		t.Parallel()
		d := openTemp(t)
		before := d.c.commits.Load()
		start := make(chan struct{})
		var arrived sync.WaitGroup
		arrived.Add(n)
		go func() { arrived.Wait(); close(start) }()
		createAll(t, d, start, &arrived)
		commits := d.c.commits.Load() - before
		t.Logf("%d concurrent PipelineCreate calls took %d SQLite transactions", n, commits)
		if commits == 0 || commits > n {
			t.Errorf("%d concurrent writes used %d transactions, want between 1 and %d", n, commits, n)
		}
	})
}
