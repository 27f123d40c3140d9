package postgres

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/culvert/culvert/internal/store"
)

// The task feed (TaskChanges, TaskChangeHead, RunState.ChangeSeq) must
// never show a change numbered below one it has shown. A sequence cannot
// promise that when transactions commit concurrently: one that drew 7
// may commit after one that drew 8 was read. So a change is numbered by
// its transaction instead: change_seq is the transaction's id shifted
// left by changeBits, plus the change's ordinal within the transaction.
//
// A reader takes the xmin of its snapshot: every transaction with a lower
// id has ended, and any that commits later has an id of at least xmin. So
// the changes numbered below bound = xmin << changeBits are all the ones
// there will ever be below it, and the feed returns only those. A change
// at or above the bound becomes readable once every transaction older
// than its own has ended, which for culvert's short transactions is at
// once; the one cost is that a long-open write transaction elsewhere on
// the same server holds the feed back while it lasts.
//
// A reader that sees committed changes at or above its bound (its own
// writes, typically, with an older transaction still open) waits briefly
// for them to become readable, so that a change is in the feed by the
// time the call that made it has returned and woken the scheduler.

// boundSQL is the feed's bound in the current snapshot.
const boundSQL = `(SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20 AS bound)`

// settleFor bounds how long a feed read waits for older transactions to
// end before it returns what it can.
const settleFor = 2 * time.Second

// settle calls try until it finds no committed change above its bound
// waiting, and at most for settleFor; try's last call, final, must read
// whatever is pending. It returns try's error.
func (db *DB) settle(ctx context.Context, try func(final bool) (pending bool, bound int64, err error)) error {
	deadline := time.Now().Add(settleFor)
	wait := time.Millisecond
	for {
		final := time.Now().After(deadline)
		pending, bound, err := try(final)
		if err != nil || !pending {
			return err
		}
		if final {
			db.feed.held(bound)
			return nil
		}
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
}

// feedWarner logs, at most once a minute, that the feed was held back.
type feedWarner struct {
	log  *slog.Logger
	last atomic.Int64 // unix nanoseconds of the last warning
}

func (w *feedWarner) held(bound int64) {
	now := time.Now().UnixNano()
	if last := w.last.Load(); now-last < int64(time.Minute) || !w.last.CompareAndSwap(last, now) {
		return
	}
	w.log.Warn("postgres: the task feed waits for a long-running transaction on the database server; "+
		"task changes reach the scheduler late until it ends (see pg_stat_activity, backend_xid)",
		"xmin", bound>>changeBits, "waited", settleFor)
}

// TaskChanges implements [store.Store].
func (db *DB) TaskChanges(ctx context.Context, after int64, limit int) ([]*store.Task, int64, error) {
	if limit <= 0 {
		return nil, after, nil
	}
	var out []*store.Task
	err := db.settle(ctx, func(final bool) (bool, int64, error) {
		out = out[:0]
		rows, err := db.pool.Query(ctx, `SELECT b.bound, `+taskCols+` FROM `+boundSQL+` b
			JOIN tasks t ON t.change_seq > $1 ORDER BY t.change_seq LIMIT $2`, after, limit)
		if err != nil {
			return false, 0, err
		}
		defer rows.Close()
		var (
			bound   int64
			pending bool
		)
		for rows.Next() {
			var r taskRow
			if err := rows.Scan(append([]any{&bound}, r.dest()...)...); err != nil {
				return false, 0, err
			}
			if r.t.ChangeSeq >= bound {
				pending = true
				break
			}
			out = append(out, r.task())
		}
		return pending, bound, rows.Err()
	})
	if err != nil {
		return nil, 0, failed(ctx, err)
	}
	last := after
	if len(out) > 0 {
		last = out[len(out)-1].ChangeSeq
	}
	return out, last, nil
}

// TaskChangeHead implements [store.Store]: the highest change in the
// feed, once every change it could still be waiting for is in.
func (db *DB) TaskChangeHead(ctx context.Context) (int64, error) {
	var head int64
	err := db.settle(ctx, func(bool) (bool, int64, error) {
		var (
			bound   int64
			highest *int64
			pending bool
		)
		err := db.pool.QueryRow(ctx, `SELECT b.bound, (SELECT max(change_seq) FROM tasks WHERE change_seq < b.bound),
			EXISTS (SELECT 1 FROM tasks WHERE change_seq >= b.bound) FROM `+boundSQL+` b`).Scan(&bound, &highest, &pending)
		head = 0
		if highest != nil {
			head = *highest
		}
		return pending, bound, err
	})
	if err != nil {
		return 0, failed(ctx, err)
	}
	return head, nil
}
