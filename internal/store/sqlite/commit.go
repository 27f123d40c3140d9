package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// stmt is one SQL statement of a write.
type stmt struct {
	query string
	args  []any
	// fill, when set, replaces args: the statement runs n times, the i-th
	// time with the arguments fill appends to args[:0]. Bulk writes use it so
	// that their arguments are boxed one execution at a time at commit, from
	// the immutable snapshots the write stored, instead of all at once and
	// held until the commit.
	n    int
	fill func(i int, args []any) []any
}

// committer turns the writes of concurrent operations into few SQLite
// commits (group commit). Writes are numbered in the order the store applied
// them to its memory; a batch commits a prefix of that order, so durability
// advances monotonically and "seq n is durable" implies every earlier write
// is too.
//
// One commit costs an fsync-bound few hundred microseconds however many
// statements it carries, so batching is what lets many small API writes
// share the cost.
type committer struct {
	db     *sql.DB // its pool has one connection, on which commits run directly (see commit)
	logger *slog.Logger
	// The statements prepared on stmtsOn, the driver connection they
	// belong to; used only by run.
	stmts   map[string]driverStmt
	stmtsOn any
	named   []driver.NamedValue // the arguments of one execution, reused

	mu        sync.Mutex
	pending   []stmtBatch
	next      uint64        // seq of the last enqueued write
	durableCh chan struct{} // closed and replaced after every commit
	err       error         // sticky: after a failed commit, memory is ahead of disk
	closed    bool

	durable atomic.Uint64
	last    atomic.Uint64 // == next, readable without mu
	commits atomic.Uint64 // transactions committed; tests check batching with it
	wake    chan struct{}
	stopped chan struct{}

	walPath      string        // the WAL file that flushWAL syncs; empty: none
	stopFlush    chan struct{} // closed by close to stop flushWAL
	flushStopped chan struct{}
}

type stmtBatch struct {
	seq   uint64
	stmts []stmt
}

// newCommitter starts a committer on db, whose WAL file is walPath.
func newCommitter(db *sql.DB, logger *slog.Logger, walPath string) *committer {
	c := &committer{
		db:           db,
		logger:       logger,
		durableCh:    make(chan struct{}),
		wake:         make(chan struct{}, 1),
		stopped:      make(chan struct{}),
		walPath:      walPath,
		stopFlush:    make(chan struct{}),
		flushStopped: make(chan struct{}),
	}
	go c.run()
	go c.flushWAL()
	return c
}

// flushWAL syncs the WAL file every walFlushEvery while commits are made.
// A checkpoint (every 10,000 pages) first syncs the WAL, and with all of
// it still in the page cache that fsync took 60 ms on the benchmark
// machine, a stall of every write, since the checkpoint runs in the
// committer. Synced from here, outside SQLite and its connection, little
// is left for the checkpoint's own fsync. Commits do not wait for it:
// durability is the WAL's as before (synchronous=NORMAL), only sooner on
// disk.
func (c *committer) flushWAL() {
	defer close(c.flushStopped)
	t := time.NewTicker(walFlushEvery)
	defer t.Stop()
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	var synced uint64
	for {
		select {
		case <-c.stopFlush:
			return
		case <-t.C:
		}
		n := c.commits.Load()
		if n == synced || c.walPath == "" {
			continue
		}
		if f == nil {
			var err error
			if f, err = os.Open(c.walPath); err != nil {
				continue // not created yet
			}
		}
		if err := f.Sync(); err != nil {
			c.logger.Warn("store: syncing the WAL ahead of a checkpoint", "err", err)
		}
		synced = n
	}
}

// walFlushEvery is how often flushWAL syncs the WAL while commits are made.
const walFlushEvery = 100 * time.Millisecond

// enqueue queues the statements of one write and returns its sequence
// number. The caller must hold the store's write lock so that the order of
// sequence numbers is the order in which writes were applied to memory.
func (c *committer) enqueue(stmts ...stmt) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if c.closed {
		return 0, errClosed
	}
	c.next++
	c.last.Store(c.next)
	c.pending = append(c.pending, stmtBatch{seq: c.next, stmts: stmts})
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return c.next, nil
}

// applied returns the sequence number of the last enqueued write. Read under
// the store's read lock, it covers every write that lock lets a reader see.
func (c *committer) applied() uint64 { return c.last.Load() }

// isDurable reports whether write seq is durable.
func (c *committer) isDurable(seq uint64) bool { return c.durable.Load() >= seq }

// failed returns the error of a failed commit, after which the store
// refuses work; nil while it works.
func (c *committer) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// wait blocks until write seq is durable, the store failed, or ctx ends.
func (c *committer) wait(ctx context.Context, seq uint64) error {
	for {
		if c.durable.Load() >= seq {
			return nil
		}
		c.mu.Lock()
		ch, err := c.durableCh, c.err
		c.mu.Unlock()
		if err != nil {
			return err
		}
		if c.durable.Load() >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *committer) run() {
	defer close(c.stopped)
	for range c.wake {
		for {
			// Yield first: the goroutines of requests about to write are
			// often runnable already, and one commit of all their writes
			// costs less than a commit each. With nothing else runnable,
			// Gosched returns at once.
			runtime.Gosched()
			c.mu.Lock()
			batch := c.pending
			c.pending = nil
			closed := c.closed
			c.mu.Unlock()
			if len(batch) == 0 {
				if closed {
					return
				}
				break
			}
			err := c.commit(batch)
			c.mu.Lock()
			if err != nil {
				c.err = fmt.Errorf("sqlite: commit failed; the store refuses further work until restarted: %w", err)
				c.logger.Error("store commit failed", "err", err)
			} else {
				c.durable.Store(batch[len(batch)-1].seq)
				c.commits.Add(1)
			}
			close(c.durableCh)
			c.durableCh = make(chan struct{})
			failed := c.err != nil
			c.mu.Unlock()
			if failed {
				return
			}
		}
	}
}

// driverConn is what commit needs of the driver's connection.
type driverConn interface {
	driver.ConnBeginTx
	driver.ConnPrepareContext
}

// driverStmt is what commit needs of the driver's prepared statements.
type driverStmt interface {
	driver.Stmt
	driver.StmtExecContext
}

// commit runs a batch in one transaction on the driver connection itself.
// database/sql would wrap every execution in a fresh statement handle and
// a converted copy of its arguments, which cost about a tenth of the
// committer's time and most of its garbage; the committer needs none of
// its pooling, being the connection's only user.
func (c *committer) commit(batch []stmtBatch) error {
	return c.onConn(func(conn driverConn) error { return c.commitOn(conn, batch) })
}

// onConn calls f with the pool's driver connection. The pool keeps its one
// connection, so the statements prepared on it last; if the pool ever
// replaced it, they went with the old one.
func (c *committer) onConn(f func(driverConn) error) error {
	ctx := context.Background()
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		d, ok := dc.(driverConn)
		if !ok {
			return fmt.Errorf("sqlite: the driver's connection %T cannot begin transactions", dc)
		}
		if dc != c.stmtsOn {
			c.stmts, c.stmtsOn = map[string]driverStmt{}, dc
		}
		return f(d)
	})
}

func (c *committer) commitOn(conn driverConn, batch []stmtBatch) error {
	ctx := context.Background() // a commit must finish even if every caller gave up
	for _, b := range batch {
		for _, s := range b.stmts {
			if _, err := c.prepared(ctx, conn, s.query); err != nil {
				return err
			}
		}
	}
	tx, err := conn.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return err
	}
	var args []any
	for _, b := range batch {
		for _, s := range b.stmts {
			st := c.stmts[s.query]
			if s.fill == nil {
				if err := c.exec(ctx, st, s.args); err != nil {
					tx.Rollback()
					return fmt.Errorf("%s: %w", s.query, err)
				}
				continue
			}
			for i := range s.n {
				args = s.fill(i, args[:0])
				if err := c.exec(ctx, st, args); err != nil {
					tx.Rollback()
					return fmt.Errorf("%s: %w", s.query, err)
				}
			}
			clear(args) // drop references to the snapshots
		}
	}
	clear(c.named)
	return tx.Commit()
}

// exec runs st once with args, converted as database/sql would: the
// driver's own value types pass as they are.
func (c *committer) exec(ctx context.Context, st driverStmt, args []any) error {
	named := c.named[:0]
	for i, v := range args {
		switch v.(type) {
		case nil, int64, float64, bool, []byte, string, time.Time:
		default:
			var err error
			if v, err = driver.DefaultParameterConverter.ConvertValue(v); err != nil {
				return fmt.Errorf("argument %d: %w", i+1, err)
			}
		}
		named = append(named, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	c.named = named
	_, err := st.ExecContext(ctx, named)
	return err
}

func (c *committer) prepared(ctx context.Context, conn driverConn, q string) (driverStmt, error) {
	if st, ok := c.stmts[q]; ok {
		return st, nil
	}
	ds, err := conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(driverStmt)
	if !ok {
		ds.Close()
		return nil, fmt.Errorf("sqlite: the driver's statement %T cannot execute with a context", ds)
	}
	c.stmts[q] = st
	return st, nil
}

// close stops accepting writes, lets the queued ones commit, and waits.
func (c *committer) close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	close(c.wake)
	<-c.stopped
	close(c.stopFlush)
	<-c.flushStopped
	// The statements belong to the driver connection, so they are closed
	// through it, before the connection goes back to the pool.
	c.onConn(func(driverConn) error {
		for _, st := range c.stmts {
			st.Close()
		}
		return nil
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
