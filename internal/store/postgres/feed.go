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
// A change is in the feed by the time the call that made it returns, for
// the scheduler it wakes to find: a read that sees committed changes at
// or above its bound (typically with an older transaction still open)
// waits briefly, reading again, until the bound has passed every change
// that was committed when it began. Changes committed since may stay
// above the bound, so that a busy store, whose bound trails its newest
// changes all the time, does not hold the read up.

// boundSQL is the feed's bound in the current snapshot.
const boundSQL = `(SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20 AS bound)`

// settleFor bounds how long a feed read waits for older transactions to
// end before it returns what it can.
const settleFor = 2 * time.Second

// settle calls read until it completes, sleeping between calls. read
// asks ready, with its snapshot's bound and the highest change it saw,
// whether to complete or to give up and be called again; ready says to
// complete once the bound is above the highest change the first call
// saw, or once settleFor has passed.
func (db *DB) settle(ctx context.Context, read func(ready func(bound, highest int64) bool) (done bool, err error)) error {
	deadline := time.Now().Add(settleFor)
	target, first := int64(0), true
	ready := func(bound, highest int64) bool {
		if first {
			target, first = highest, false
		}
		if bound > target {
			return true
		}
		if time.Now().After(deadline) {
			db.feed.held(bound)
			return true
		}
		return false
	}
	wait := time.Millisecond
	for {
		done, err := read(ready)
		if err != nil || done {
			return err
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
	err := db.settle(ctx, func(ready func(bound, highest int64) bool) (bool, error) {
		rows, err := db.pool.Query(ctx, `SELECT b.bound, `+taskColsLean+` FROM `+boundSQL+` b
			JOIN tasks t ON t.change_seq > $1 ORDER BY t.change_seq LIMIT $2`, after, limit)
		if err != nil {
			return false, err
		}
		page, bound := []*store.Task(nil), int64(0)
		for rows.Next() {
			var r taskRow
			if err := rows.Scan(append([]any{&bound}, r.dest()...)...); err != nil {
				rows.Close()
				return false, err
			}
			page = append(page, r.task())
		}
		if err := rows.Err(); err != nil {
			return false, err
		}
		if len(page) > 0 && !ready(bound, page[len(page)-1].ChangeSeq) {
			return false, nil
		}
		// Only the changes below the bound: the others may yet have
		// older ones committed before them.
		out = page
		for i, tk := range page {
			if tk.ChangeSeq >= bound {
				out = page[:i]
				break
			}
		}
		return true, nil
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
	err := db.settle(ctx, func(ready func(bound, highest int64) bool) (bool, error) {
		var bound, highest, below int64
		if err := db.pool.QueryRow(ctx, `SELECT b.bound, coalesce((SELECT max(change_seq) FROM tasks), 0),
			coalesce((SELECT max(change_seq) FROM tasks WHERE change_seq < b.bound), 0) FROM `+boundSQL+` b`).Scan(&bound, &highest, &below); err != nil {
			return false, err
		}
		head = below
		return ready(bound, highest), nil
	})
	if err != nil {
		return 0, failed(ctx, err)
	}
	return head, nil
}
