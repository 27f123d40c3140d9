// Package postgres is culvert's PostgreSQL store, for a culvert whose
// nodes share one database. It uses pgx (github.com/jackc/pgx/v5), the
// maintained PostgreSQL driver for Go, for its connection pool and its
// LISTEN/NOTIFY support.
//
// Each [store.Store] method is one SQL transaction, durable when it
// returns; nothing is cached but immutable definition versions. Task
// claims skip rows other claims hold locked, so pollers on every node
// claim side by side; wake-ups reach every node through LISTEN/NOTIFY on
// one channel (notify.go); the task feed stays in order under concurrent
// writers by numbering changes with their transaction ids (feed.go); and
// the leader lease lives in a table, with fenced writes (leases.go).
// docs/assumptions/0024-postgresql-store.md gives the reasons.
//
// Only cmd/culvert imports it. Its behaviour is tested by store/storetest,
// like every backend's; its own tests cover only the migration lock and
// error translation.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/culvert/culvert/internal/store"
)

// Config configures [Open].
type Config struct {
	// URL is the database: a postgres:// URL or a keyword/value
	// connection string. Pool settings such as pool_max_conns are read
	// from it too.
	URL    string
	Logger *slog.Logger // default slog.Default()
	// SkipMigrate makes Open check that the schema is current instead of
	// migrating it, for deployments that run Migrate (culvert migrate) as
	// a step of their own.
	SkipMigrate bool
	// WakeEvery is how often every local waiter is woken in case a
	// notification was lost; default 5s.
	WakeEvery time.Duration
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.WakeEvery == 0 {
		c.WakeEvery = 5 * time.Second
	}
	return c
}

func (c Config) validate() error {
	if c.URL == "" {
		return errors.New("postgres: Config.URL is required")
	}
	if c.WakeEvery < 0 {
		return fmt.Errorf("postgres: Config.WakeEvery %v is negative", c.WakeEvery)
	}
	return nil
}

// DB is the PostgreSQL implementation of [store.Store] and [store.Leases].
type DB struct {
	pool     *pgxpool.Pool
	log      *slog.Logger
	notifier *notifier
	defs     *defCache
	feed     feedWarner

	closeOnce sync.Once
}

var (
	_ store.Store  = (*DB)(nil)
	_ store.Leases = (*DB)(nil)
)

// Open connects to the database cfg.URL names, applies the migrations it
// lacks (unless cfg.SkipMigrate), and starts listening for other nodes'
// notifications. It returns once the listener is in place, so that no
// subscription can miss a notification committed after Open returns.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.SkipMigrate {
		err = checkSchema(ctx, pcfg.ConnConfig.Copy(), cfg.Logger)
	} else {
		_, err = migrate(ctx, pcfg.ConnConfig.Copy(), cfg.Logger)
	}
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	n, err := newNotifier(ctx, pool, pcfg.ConnConfig, cfg.Logger, cfg.WakeEvery)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &DB{pool: pool, log: cfg.Logger, notifier: n, defs: newDefCache(), feed: feedWarner{log: cfg.Logger}}, nil
}

// Notifier implements [store.Store].
func (db *DB) Notifier() store.Notifier { return db.notifier }

// Close implements [store.Store]: it stops the notifier and waits for the
// connections in use, so writes in flight finish first. Closing twice is
// harmless.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.notifier.close()
		db.pool.Close()
	})
	return nil
}

// translate turns a driver error into the store's vocabulary; it is the
// one place that knows PostgreSQL's error codes. Errors that are not the
// driver's (the store's sentinels, a PipelineUpdate callback's) pass
// through unchanged, and so does a connection failure.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "23505": // unique_violation
		return fmt.Errorf("%w (%s)", store.ErrConflict, pe.ConstraintName)
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return &raceError{msg: pe.Message, code: pe.Code}
	}
	// The text, not the value: nothing above the store sees a driver error.
	return fmt.Errorf("postgres: %s (SQLSTATE %s)", pe.Message, pe.Code)
}

// raceError is a transaction that lost a race with another and may
// succeed if tried again; write does, a few times, before giving up with
// it, which is an [store.ErrConflict].
type raceError struct{ msg, code string }

func (e *raceError) Error() string {
	return fmt.Sprintf("postgres: %s (SQLSTATE %s): %v", e.msg, e.code, store.ErrConflict)
}

func (e *raceError) Is(target error) bool { return target == store.ErrConflict }

// errRetry asks write to run a transaction again, as if it had lost a race.
var errRetry = &raceError{msg: "the rows a transaction relied on changed under it", code: "culvert"}

// failed returns the error of a call whose ctx may have ended: the
// context's error if it did, as the store contract asks, else err as the
// store names it.
func failed(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return translate(err)
}

// wtx is a write: a transaction, or one statement that is a transaction
// of its own (see writeStatement). It numbers the task changes it makes
// (the ordinal part of their change_seq) and collects the topics to wake
// once it commits.
type wtx struct {
	querier
	tx     pgx.Tx // nil for a one-statement write
	ord    int64
	topics []string
}

// querier runs statements: a transaction, or the pool.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// changeBits is how many low bits of a change_seq number the changes of
// one transaction (see feed.go).
const changeBits = 20

// maxChanges is how many task changes one transaction may make.
const maxChanges = 1<<changeBits - 1

// changeSeq is the SQL of a change_seq, to which the ordinal is added.
const changeSeq = `(pg_current_xact_id()::text::bigint << 20)`

// reserve numbers n task changes of the transaction and returns the
// ordinal before the first: the changes are base+1 to base+n.
func (t *wtx) reserve(n int) (base int64, err error) {
	if t.ord+int64(n) > maxChanges {
		return 0, fmt.Errorf("postgres: more than %d task changes in one transaction", maxChanges)
	}
	base = t.ord
	t.ord += int64(n)
	return base, nil
}

// wake asks for topic to be woken on every node once the transaction has
// committed.
func (t *wtx) wake(topic string) {
	if !slices.Contains(t.topics, topic) {
		t.topics = append(t.topics, topic)
	}
}

// maxTries bounds how often write runs a transaction that lost a race.
const maxTries = 5

// write runs fn in a READ COMMITTED transaction and commits it. It tries
// again, a few times, when the transaction lost a race with another
// (serialization failure, deadlock), so fn may run more than once. When
// ctx carries a store.Fence, the transaction first checks the lease (see
// fence) and writes nothing if the term is over.
func (db *DB) write(ctx context.Context, fn func(*wtx) error) error {
	return db.retry(ctx, func() error { return db.writeOnce(ctx, fn) })
}

// writeStatement is write for a write that is one statement, which fn
// runs through tx: unless ctx carries a fence, the statement runs as a
// transaction of its own, which saves the round trips of BEGIN and
// COMMIT. A task's claim, progress reports and completion are such
// writes, three per task; on a machine where each round trip costs
// context switches in the client, the node and the server, those two
// extra trips per write are a large share of a task's cost.
func (db *DB) writeStatement(ctx context.Context, fn func(*wtx) error) error {
	if _, fenced := store.FenceOf(ctx); fenced {
		return db.write(ctx, fn)
	}
	return db.retry(ctx, func() error {
		w := &wtx{querier: db.pool}
		err := fn(w)
		db.publish(w.topics) // fn wakes topics only once its statement succeeded
		return translate(err)
	})
}

// retry runs a write, again a few times if it lost a race with another
// (serialization failure, deadlock).
func (db *DB) retry(ctx context.Context, once func() error) error {
	for try := 1; ; try++ {
		err := once()
		var race *raceError
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &race) && try < maxTries:
			if !sleep(ctx, time.Duration(try*try)*5*time.Millisecond) {
				return ctx.Err()
			}
		default:
			return err
		}
	}
}

func (db *DB) writeOnce(ctx context.Context, fn func(*wtx) error) (err error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return translate(err)
	}
	defer func() {
		if err != nil {
			tx.Rollback(ctx) // a ctx that ended closes the connection, which rolls back as well
		}
	}()
	if f, ok := store.FenceOf(ctx); ok {
		if err := fence(ctx, tx, f); err != nil {
			return err
		}
	}
	w := &wtx{querier: tx, tx: tx}
	if err := fn(w); err != nil {
		return translate(err)
	}
	err = tx.Commit(ctx)
	// The wake-ups go out once the commit is durable, even when its
	// outcome is unknown: a wake-up for nothing only makes a waiter look
	// again. This node's waiters hear them at once; the other nodes'
	// through a NOTIFY the notifier sends after the commit, coalescing
	// the topics of concurrent writes, rather than one inside each
	// transaction: PostgreSQL serialises the commits of notifying
	// transactions (a database-wide lock held through the commit's WAL
	// flush), which would cap every write that wakes anyone at one
	// flush at a time. A node that dies between its commit and its
	// NOTIFY leaves the other nodes to their periodic wake-up.
	db.publish(w.topics)
	return translate(err)
}

// publish wakes topics on every node.
func (db *DB) publish(topics []string) {
	for _, t := range topics {
		db.notifier.Publish(t)
	}
}

// fence checks, first thing in a fenced write, that f is still the live
// term of its lease. The FOR KEY SHARE lock it takes on the lease row
// makes a takeover, which changes the term, wait until this write has
// committed; the holder's renewals, which do not, go on meanwhile.
func fence(ctx context.Context, tx pgx.Tx, f store.Fence) error {
	var held bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM leases
		WHERE name = $1 AND holder = $2 AND term = $3 AND expires_at > clock_timestamp() FOR KEY SHARE)`,
		f.Name, f.Holder, f.Term).Scan(&held); err != nil {
		return translate(err)
	}
	if !held {
		return store.ErrFenced
	}
	return nil
}

// sleep waits d or until ctx ends, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ts is the SQL value of a time: NULL for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// utc is a time as the database stores it: in UTC, to the microsecond.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// tsOf is a scan destination for a timestamptz that may be NULL, which
// becomes the zero time; others come back in UTC.
type tsOf struct{ t *time.Time }

func (d tsOf) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case time.Time:
		*d.t = v.UTC()
	default:
		return fmt.Errorf("postgres: cannot scan %T into a time", src)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
