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
