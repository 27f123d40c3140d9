// Package sqlite is culvert's embedded store: a single SQLite file in WAL
// mode, through the pure-Go modernc.org/sqlite driver, so a culvert binary
// needs no cgo and no database server.
//
// The whole state lives in memory as well as on disk. Reads are answered
// from memory; writes are applied to memory under one lock and then made
// durable by a group committer that folds the statements of concurrent
// writes into one SQLite transaction. A write returns only once its commit
// is durable, and a read that observed a write still in flight waits for
// that write's commit too, so nothing is acknowledged or shown that a
// kill -9 could take back.
//
// The file is opened in exclusive locking mode: the memory mirror is only
// correct while this process is the sole writer, so a second culvert on the
// same data directory fails to start instead of corrupting the first.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrations embed.FS

var errClosed = errors.New("sqlite: store is closed")

// Config configures [Open].
type Config struct {
	Path   string       // database file, e.g. DIR/culvert.db
	Logger *slog.Logger // default slog.Default()
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) validate() error {
	if c.Path == "" {
		return errors.New("sqlite: Config.Path is required")
	}
	return nil
}

// DB is the SQLite implementation of [store.Store].
type DB struct {
	db       *sql.DB
	c        *committer
	notifier *store.LocalNotifier

	closeOnce sync.Once
	closeErr  error

	mu        sync.RWMutex
	pipelines map[string]*store.Pipeline // every pipeline by id, tombstones included
	deleted   map[string]bool
	accounts  map[string]*account
	versions  map[string]int64 // pipeline id → highest definition version issued
	nextSeq   int64

	runs  map[string]*run     // pipeline id → its run; absent until something is stored
	tasks map[string]*taskRef // every task of a live pipeline, done ones included
	// queues holds, per topic, the tasks a claim may take: queued and not
	// canceled, in queue order. Claimed tasks leave it for good: an expired
	// lease is ended by TaskReap, never claimed again.
	queues map[string][]*taskRef
	leased map[*taskRef]struct{} // claimed tasks, for TaskReap
	// feed holds task changes in ChangeSeq order for TaskChanges; feedStale
	// counts its entries superseded by a later change.
	feed       []feedEntry
	feedStale  int
	nextTask   int64 // last queue position issued
	nextChange int64 // last ChangeSeq issued
	// deadObjects holds the queue positions of tasks no runner can claim
	// any more whose task_objects rows are still stored: write deletes
	// them in bulk (see objectsDead).
	deadObjects []int64
	nextCommand int64 // last RunCommand Seq issued

	alarms    []*store.Alarm // queued alarms in Seq order
	nextAlarm int64          // last Alarm Seq issued

	// Run summaries are written at most every summaryEvery per pipeline
	// (see RunChanges.Summary): summaryWritten holds when each was last
	// written, summaryPending those applied to memory since, which Close
	// writes.
	summaryWritten map[string]time.Time
	summaryPending map[string]*pipeline.RunSummary
}

// summaryEvery is how often a running pipeline's summary is written at
// most. Encoding and writing it with every step cost the scheduler about
// 5% of a busy pipeline's task throughput (bench/runs).
const summaryEvery = time.Second

type account struct {
	live []*store.Pipeline           // live pipelines in Seq order
	idem map[idemKey]*store.Pipeline // CreatePipeline idempotency index
}

type idemKey struct{ name, uniqueID string }

// Open opens (creating if needed) the database at cfg.Path, applies pending
// migrations and loads the state into memory.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// WAL with synchronous=NORMAL: a commit reaches the WAL file before it
	// returns, so it survives the death of the process; only an OS crash or
	// power loss can drop the last commits, and never corrupts the file.
	// Exclusive locking keeps other processes out (see the package doc).
	//
	// The group committer runs many statements in one transaction, so
	// SQLite keeps a statement journal to undo one failed statement alone;
	// temp_store(MEMORY) keeps it in memory instead of a temporary file
	// written with a syscall per page (it never matters after a crash).
	// wal_autocheckpoint(10000) checkpoints every 10,000 pages (40 MB)
	// instead of 1,000: the same hot pages (the tail of the task table,
	// index pages) are written back once per checkpoint, not ten times,
	// and checkpoint fsyncs are rarer. Commits are as durable either way.
	dsn := "file:" + (&url.URL{Path: cfg.Path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(2000)" +
		"&_pragma=locking_mode(EXCLUSIVE)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)" +
		"&_pragma=wal_autocheckpoint(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}
	// One connection: SQLite has one writer anyway, and reads come from memory.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	s := &DB{
		db:        db,
		notifier:  store.NewLocalNotifier(),
		pipelines: map[string]*store.Pipeline{},
		deleted:   map[string]bool{},
		accounts:  map[string]*account{},
		versions:  map[string]int64{},
		runs:      map[string]*run{},
		tasks:     map[string]*taskRef{},
		queues:    map[string][]*taskRef{},
		leased:    map[*taskRef]struct{}{},

		summaryWritten: map[string]time.Time{},
		summaryPending: map[string]*pipeline.RunSummary{},
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		if strings.Contains(err.Error(), "database is locked") {
			return nil, fmt.Errorf("sqlite: %s is in use by another culvert process", cfg.Path)
		}
		return nil, err
	}
	if err := s.load(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: load: %w", err)
	}
	s.c = newCommitter(db, cfg.Logger, cfg.Path+"-wal")
	return s, nil
}

// migrate applies every embedded migration newer than the recorded version,
// each in its own transaction with its version row, so a crash between
// migrations leaves a consistent, resumable database.
func migrate(ctx context.Context, db *sql.DB) error {
	// Take the write lock first: locking_mode(EXCLUSIVE) holds it from the
	// first write until Close, but reads alone take only a shared lock, so
	// without this a second process could open a database that has no
	// migration left to apply.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: lock: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: lock: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			version, time.Now().UnixNano()); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
	}
	return nil
}

func unixTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// load reads the whole database into memory.
func (s *DB) load(ctx context.Context) error {
	defs := map[string]map[int64]*store.Definition{}
	rows, err := s.db.QueryContext(ctx, `SELECT pipeline_id, version, doc, errored, put_at FROM definitions`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			pid     string
			d       store.Definition
			errored int64
			putAt   int64
		)
		if err := rows.Scan(&pid, &d.Version, &d.Doc, &errored, &putAt); err != nil {
			rows.Close()
			return err
		}
		d.Errored, d.PutAt = errored != 0, unixTime(putAt)
		if defs[pid] == nil {
			defs[pid] = map[int64]*store.Definition{}
		}
		defs[pid][d.Version] = &store.Definition{Version: d.Version, Doc: d.Doc, Errored: d.Errored, PutAt: d.PutAt}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = s.db.QueryContext(ctx, `SELECT seq, id, account, name, unique_id, description, creator, tags, paused, state,
		created_at, first_activated_at, last_activated_at, last_deactivated_at, latest_version, active_version, last_version, deleted_at,
		activation_start, cancel_active, run_summary
		FROM pipelines ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			p                     store.Pipeline
			tags, paused          string
			state                 string
			created, fa, la, ld   int64
			latest, active, delAt sql.NullInt64
			lastVersion           int64
			activationStart       int64
			cancelActive          int64
			summary               string
		)
		if err := rows.Scan(&p.Seq, &p.ID, &p.Account, &p.Name, &p.UniqueID, &p.Description, &p.Creator, &tags, &paused, &state,
			&created, &fa, &la, &ld, &latest, &active, &lastVersion, &delAt, &activationStart, &cancelActive, &summary); err != nil {
			return err
		}
		if summary != "" {
			p.Summary = &pipeline.RunSummary{}
			if err := json.Unmarshal([]byte(summary), p.Summary); err != nil {
				return fmt.Errorf("pipeline %s: run summary: %w", p.ID, err)
			}
		}
		p.ActivationStart, p.CancelActive = unixTime(activationStart), cancelActive != 0
		if err := json.Unmarshal([]byte(tags), &p.Tags); err != nil {
			return fmt.Errorf("pipeline %s: tags: %w", p.ID, err)
		}
		if err := json.Unmarshal([]byte(paused), &p.Paused); err != nil {
			return fmt.Errorf("pipeline %s: paused: %w", p.ID, err)
		}
		p.State = pipeline.State(state)
		p.CreatedAt, p.FirstActivatedAt, p.LastActivatedAt, p.LastDeactivatedAt = unixTime(created), unixTime(fa), unixTime(la), unixTime(ld)
		if latest.Valid {
			p.Latest = defs[p.ID][latest.Int64]
		}
		if active.Valid {
			p.Active = defs[p.ID][active.Int64]
		}
		pp := &p
		s.pipelines[p.ID] = pp
		s.versions[p.ID] = lastVersion
		s.nextSeq = max(s.nextSeq, p.Seq)
		if delAt.Valid {
			s.deleted[p.ID] = true
			continue
		}
		a := s.account(p.Account)
		a.live = append(a.live, pp)
		a.idem[idemKey{p.Name, p.UniqueID}] = pp
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := s.loadRuns(ctx); err != nil {
		return err
	}
	return s.loadTasks(ctx)
}

func (s *DB) account(id string) *account {
	a := s.accounts[id]
	if a == nil {
		a = &account{idem: map[idemKey]*store.Pipeline{}}
		s.accounts[id] = a
	}
	return a
}

// Notifier implements [store.Store].
func (s *DB) Notifier() store.Notifier { return s.notifier }

// Close implements [store.Store]. Closing twice returns the first result.
func (s *DB) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		for pid, sum := range s.summaryPending {
			if st, err := summaryStmt(pid, sum); err == nil {
				s.write(st)
			}
		}
		clear(s.summaryPending)
		s.mu.Unlock()
		s.closeErr = s.c.close()
		if err := s.db.Close(); s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

// write enqueues the statements of a write applied to memory; the caller
// holds s.mu. It returns the sequence number to wait for. Once enough task
// objects are dead, the write deletes them too: a write that fails leaves
// them for the next one.
func (s *DB) write(stmts ...stmt) (uint64, error) {
	// At most deadObjectBulks bulks a write, so that the first writes
	// after opening a store with many tasks ended meanwhile stay short.
	n := min(len(s.deadObjects)/bulkRows, deadObjectBulks) * bulkRows
	if n == 0 {
		return s.c.enqueue(stmts...)
	}
	dead := s.deadObjects[:n:n]
	// A full slice expression: appending must not write into the caller's array.
	seq, err := s.c.enqueue(append(stmts[:len(stmts):len(stmts)], stmt{query: deleteObjectsQuery, n: n / bulkRows,
		fill: func(i int, args []any) []any {
			for _, seq := range dead[i*bulkRows : (i+1)*bulkRows] {
				args = append(args, seq)
			}
			return args
		}})...)
	if err == nil {
		// Appends go past the end, never over the deleted prefix the
		// statement still reads.
		s.deadObjects = s.deadObjects[n:]
	}
	return seq, err
}

// deadObjectBulks is how many bulks of dead task objects one write deletes
// at most.
const deadObjectBulks = 32

// deleteObjectsQuery deletes the task_objects rows of bulkRows tasks.
var deleteObjectsQuery = `DELETE FROM task_objects WHERE seq IN (` + strings.Repeat("?, ", bulkRows-1) + `?)`

// observed makes a read wait until everything it could have seen is
// durable. In the common case nothing is in flight and it costs two loads.
// An unsynced caller (store.Unsynced) does not wait, and hears only of a
// commit that already failed.
func (s *DB) observed(ctx context.Context, seq uint64) error {
	if store.IsUnsynced(ctx) {
		return s.c.failed()
	}
	return s.c.wait(ctx, seq)
}

// published waits as observed does for write seq, then wakes the waiters
// of topics; for an unsynced caller it returns at once and wakes them in
// the background once the write is durable, and not at all if its commit
// fails.
func (s *DB) published(ctx context.Context, seq uint64, topics ...string) error {
	if !store.IsUnsynced(ctx) || s.c.isDurable(seq) {
		if err := s.c.wait(ctx, seq); err != nil {
			return err
		}
		for _, topic := range topics {
			s.notifier.Publish(topic)
		}
		return nil
	}
	if err := s.c.failed(); err != nil {
		return err
	}
	if len(topics) > 0 {
		go func() {
			// Not ctx: the caller is gone by now, and the wake-ups are
			// owed to whoever waits for the work.
			if s.c.wait(context.Background(), seq) == nil {
				for _, topic := range topics {
					s.notifier.Publish(topic)
				}
			}
		}()
	}
	return nil
}
