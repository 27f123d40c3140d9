package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/culvert/culvert/internal/pgtest"
	"github.com/culvert/culvert/internal/store"
)

// applied returns the versions schema_migrations records, in order.
func applied(t *testing.T, url string) []string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, _ := conn.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	vs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// TestMigrateConcurrently starts nodes at once on a fresh database: the
// advisory lock lets one apply each migration, once.
func TestMigrateConcurrently(t *testing.T) {
	all, err := versions()
	if err != nil || len(all) == 0 {
		t.Fatalf("versions() = %v, %v", all, err)
	}
	t.Run("Migrate", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDatabase(t)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			seen = map[string]int{}
		)
		for range 4 {
			wg.Go(func() {
				vs, err := Migrate(t.Context(), db.DSN(), discard)
				if err != nil {
					t.Errorf("Migrate() error: %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, v := range vs {
					seen[v]++
				}
			})
		}
		wg.Wait()
		for _, v := range all {
			if seen[v] != 1 {
				t.Errorf("migration %s applied %d times by 4 concurrent Migrate calls, want once", v, seen[v])
			}
		}
		if got := applied(t, db.DSN()); strings.Join(got, ",") != strings.Join(all, ",") {
			t.Errorf("schema_migrations = %v, want %v", got, all)
		}
		if vs, err := Migrate(t.Context(), db.URL(), discard); err != nil || len(vs) != 0 {
			t.Errorf("Migrate() of a current schema = %v, %v; want nothing applied", vs, err)
		}
	})
	t.Run("Open", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDatabase(t)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				s, err := Open(t.Context(), Config{URL: db.DSN(), Logger: discard})
				if err != nil {
					t.Errorf("Open() error: %v", err)
					return
				}
				s.Close()
			})
		}
		wg.Wait()
		if got := applied(t, db.DSN()); strings.Join(got, ",") != strings.Join(all, ",") {
			t.Errorf("schema_migrations after 4 concurrent Opens = %v, want %v", got, all)
		}
	})
}

// TestSkipMigrate checks that a node told not to migrate refuses a
// schema that is behind, and opens a current one.
func TestSkipMigrate(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	_, err := Open(t.Context(), Config{URL: db.DSN(), Logger: discard, SkipMigrate: true})
	if err == nil || !strings.Contains(err.Error(), "culvert migrate") {
		t.Fatalf("Open(SkipMigrate) of an empty database error = %v, want one that says to run culvert migrate", err)
	}
	if _, err := Migrate(t.Context(), db.DSN(), discard); err != nil {
		t.Fatalf("Migrate() error: %v", err)
	}
	s, err := Open(t.Context(), Config{URL: db.DSN(), Logger: discard, SkipMigrate: true})
	if err != nil {
		t.Fatalf("Open(SkipMigrate) of a migrated database error: %v", err)
	}
	s.Close()
}

func TestTranslate(t *testing.T) {
	t.Parallel()
	other := errors.New("not the driver's")
	tests := []struct {
		name string
		in   error
		want error // matched with errors.Is; nil: nil
	}{
		{"Nil", nil, nil},
		{"NoRows", pgx.ErrNoRows, store.ErrNotFound},
		{"UniqueViolation", &pgconn.PgError{Code: "23505", ConstraintName: "tasks_pkey"}, store.ErrConflict},
		{"SerializationFailure", &pgconn.PgError{Code: "40001"}, store.ErrConflict},
		{"Deadlock", &pgconn.PgError{Code: "40P01"}, store.ErrConflict},
		{"Sentinel", store.ErrDeleted, store.ErrDeleted},
		{"NotTheDrivers", other, other},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := translate(tc.in)
			if (got == nil) != (tc.want == nil) || (tc.want != nil && !errors.Is(got, tc.want)) {
				t.Errorf("translate(%v) = %v, want %v", tc.in, got, tc.want)
			}
			var race *raceError
			if retried, want := errors.As(got, &race), tc.name == "SerializationFailure" || tc.name == "Deadlock"; retried != want {
				t.Errorf("translate(%v) = %v, a race that write retries: %t, want %t", tc.in, got, retried, want)
			}
		})
	}
	// Any other database error keeps its message and code, but not the
	// driver's type: nothing above the store sees a PgError.
	got := translate(&pgconn.PgError{Code: "22P02", Message: "invalid input syntax"})
	var pe *pgconn.PgError
	if got == nil || errors.As(got, &pe) || !strings.Contains(got.Error(), "22P02") || errors.Is(got, store.ErrConflict) {
		t.Errorf("translate(22P02) = %v, want an opaque error naming the code", got)
	}
}
