package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/culvert/culvert/internal/store"
)

// taskCols are the columns of a task row as taskRow scans them; queries
// name the tasks table t.
const taskCols = `t.id, t.account, t.pipeline_id, t.attempt_id, t.instance_id, t.worker_group, t.objects, ` + taskColsRest

// taskColsLean are taskCols without the task's objects (scanned as nil),
// for the reads whose callers never look at them (RunLoad, TaskChanges):
// they are most of a task's bytes.
const taskColsLean = `t.id, t.account, t.pipeline_id, t.attempt_id, t.instance_id, t.worker_group, NULL::bytea, ` + taskColsRest

const taskColsRest = `t.not_before,
	t.progress_timeout, t.change_seq, t.status, t.hostname, t.lease_owner, t.lease_expires, t.canceled, t.error_id,
	t.error_message, t.error_stack, t.created_at, t.updated_at, t.claimed_at, t.progressed_at, t.log_location`

type taskRow struct {
	t       store.Task
	status  string
	timeout int64
}

func (r *taskRow) dest(more ...any) []any {
	t := &r.t
	return append([]any{&t.ID, &t.Account, &t.PipelineID, &t.AttemptID, &t.InstanceID, &t.WorkerGroup, &t.Objects,
		tsOf{&t.NotBefore}, &r.timeout, &t.ChangeSeq, &r.status, &t.Hostname, &t.LeaseOwner, tsOf{&t.LeaseExpires},
		&t.Canceled, &t.ErrorID, &t.ErrorMessage, &t.ErrorStack, tsOf{&t.CreatedAt}, tsOf{&t.UpdatedAt},
		tsOf{&t.ClaimedAt}, tsOf{&t.ProgressedAt}, &t.LogLocation}, more...)
}

func (r *taskRow) task() *store.Task {
	t := r.t
	t.Status, t.ProgressTimeout = store.TaskStatus(r.status), time.Duration(r.timeout)
	return &t
}

// scanTask scans the one task row a statement returns; none is
// ErrNotFound, by translate.
func scanTask(row pgx.Row) (*store.Task, error) {
	var r taskRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.task(), nil
}

func scanTasks(rows pgx.Rows) ([]*store.Task, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Task, error) { return scanTask(row) })
}

// TaskEnqueue implements [store.Store].
func (db *DB) TaskEnqueue(ctx context.Context, t *store.Task) error {
	err := db.write(ctx, func(tx *wtx) error {
		base, err := tx.reserve(1)
		if err != nil {
			return err
		}
		// FOR KEY SHARE holds off a PipelineDelete (FOR UPDATE) until the
		// task is in, for the delete to remove it; one that committed
		// first leaves no row to insert from.
		tag, err := tx.Exec(ctx, `INSERT INTO tasks AS t (id, account, pipeline_id, attempt_id, instance_id, worker_group,
			objects, not_before, progress_timeout, status, change_seq, created_at, updated_at)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, 'QUEUED', `+changeSeq+` + $10, $11, $11
			FROM pipelines WHERE id = $3 AND account = $2 AND NOT deleted FOR KEY SHARE`,
			t.ID, t.Account, t.PipelineID, t.AttemptID, t.InstanceID, t.WorkerGroup, nonNil(t.Objects), ts(t.NotBefore),
			int64(max(t.ProgressTimeout, 0)), base+1, ts(t.CreatedAt))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		tx.wake(store.TaskTopic(t.Account, t.WorkerGroup))
		return nil
	})
	return failed(ctx, err)
}

// TaskClaim implements [store.Store]. One statement finds the oldest
// claimable task and leases it; SKIP LOCKED passes over the tasks other
// claims are taking, so that concurrent pollers, on any node, each get
// their own instead of queueing behind one row.
func (db *DB) TaskClaim(ctx context.Context, p *store.TaskClaimParams) (*store.Task, error) {
	return db.changeTask(ctx, `UPDATE tasks AS t SET status = 'CLAIMED', lease_owner = $3, lease_expires = $4,
			hostname = $5, updated_at = $6, claimed_at = $6, change_seq = `+changeSeq+` + $7
			WHERE t.id = (SELECT id FROM tasks WHERE account = $1 AND worker_group = $2 AND status = 'QUEUED' AND NOT canceled
				AND (not_before IS NULL OR not_before <= $6) ORDER BY queue_seq LIMIT 1 FOR UPDATE SKIP LOCKED)
			RETURNING `+taskCols,
		p.Account, p.WorkerGroup, p.Owner, ts(p.LeaseUntil), p.Hostname, ts(p.Now))
}

// changeTask runs sql, an UPDATE … RETURNING taskCols of one task that is
// a change in the feed, as a write of its own (writeStatement): its last
// parameter, after args, is the change's ordinal, and the change wakes the
// scheduler. It returns ErrNotFound if no task matched.
func (db *DB) changeTask(ctx context.Context, sql string, args ...any) (*store.Task, error) {
	var out *store.Task
	err := db.writeStatement(ctx, func(tx *wtx) error {
		base, err := tx.reserve(1)
		if err != nil {
			return err
		}
		if out, err = scanTask(tx.QueryRow(ctx, sql, append(args, base+1)...)); err != nil {
			return err
		}
		tx.wake(store.SchedulerTopic)
		return nil
	})
	if err != nil {
		return nil, failed(ctx, err)
	}
	return out, nil
}

// TaskProgress implements [store.Store]. The status check is in the
// statement, so that a runner whose task was reaped meanwhile changes
// nothing.
func (db *DB) TaskProgress(ctx context.Context, p *store.TaskProgressParams) (*store.Task, error) {
	var out *store.Task
	err := db.writeStatement(ctx, func(tx *wtx) error {
		var (
			r   taskRow
			old time.Time
		)
		// A task with its own progress timeout is leased for that long
		// after now; its old lease end comes along to tell whether the
		// lease got shorter.
		if err := tx.QueryRow(ctx, `UPDATE tasks AS t SET
				lease_expires = CASE WHEN t.progress_timeout > 0
					THEN $3::timestamptz + t.progress_timeout / 1000 * interval '1 microsecond' ELSE $4 END,
				updated_at = $3, progressed_at = $3,
				log_location = CASE WHEN $5 = '' THEN t.log_location ELSE $5 END
			FROM (SELECT id, lease_expires FROM tasks WHERE account = $1 AND id = $2 AND status = 'CLAIMED' FOR UPDATE) old
			WHERE t.id = old.id
			RETURNING `+taskCols+`, old.lease_expires`,
			p.Account, p.ID, ts(p.Now), ts(p.LeaseUntil), p.LogLocation).Scan(r.dest(tsOf{&old})...); err != nil {
			return err
		}
		out = r.task()
		if out.LeaseExpires.Before(old) {
			// The scheduler plans its next reap from the leases it knows;
			// one that now ends sooner must be reaped when it ends.
			tx.wake(store.SchedulerTopic)
		}
		return nil
	})
	if err != nil {
		return nil, failed(ctx, err)
	}
	return out, nil
}

// TaskComplete implements [store.Store]. Like TaskProgress, it changes
// only a task still claimed.
func (db *DB) TaskComplete(ctx context.Context, p *store.TaskCompleteParams) (*store.Task, error) {
	if !p.Status.Done() || p.Status == store.TaskLost {
		return nil, fmt.Errorf("postgres: TaskComplete: %q is not a runner's final status", p.Status)
	}
	// No runner can claim the task again, so its objects go (store.Task.Objects).
	return db.changeTask(ctx, `UPDATE tasks AS t SET status = $3, error_id = $4, error_message = $5,
			error_stack = $6, updated_at = $7, objects = '', change_seq = `+changeSeq+` + $8
			WHERE account = $1 AND id = $2 AND status = 'CLAIMED' RETURNING `+taskCols,
		p.Account, p.ID, string(p.Status), p.ErrorID, p.ErrorMessage, p.ErrorStack, ts(p.Now))
}

// TaskReap implements [store.Store]. It marks at most maxChanges tasks
// (about a million) in one call; the rest remain expired, and
// TaskLeaseNext says so, for the next call.
func (db *DB) TaskReap(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := db.write(ctx, func(tx *wtx) error {
		base := tx.ord
		// In queue order, so that the feed shows losses in a
		// reproducible order.
		tag, err := tx.Exec(ctx, `WITH expired AS (
				SELECT id, queue_seq FROM tasks WHERE status = 'CLAIMED' AND lease_expires < $1
				ORDER BY queue_seq LIMIT $3 FOR UPDATE
			), numbered AS (
				SELECT id, row_number() OVER (ORDER BY queue_seq) AS n FROM expired
			)
			UPDATE tasks AS t SET status = 'LOST', updated_at = $1, objects = '', change_seq = `+changeSeq+` + $2 + numbered.n
			FROM numbered WHERE t.id = numbered.id`,
			ts(now), base, maxChanges-base)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		if _, err := tx.reserve(n); err != nil {
			return err
		}
		if n > 0 {
			tx.wake(store.SchedulerTopic)
		}
		return nil
	})
	if err != nil {
		return 0, failed(ctx, err)
	}
	return n, nil
}

// TaskNextAvailable implements [store.Store].
func (db *DB) TaskNextAvailable(ctx context.Context, now time.Time) (time.Time, error) {
	var next time.Time
	err := db.pool.QueryRow(ctx, `SELECT min(not_before) FROM tasks
		WHERE status = 'QUEUED' AND NOT canceled AND not_before > $1`, ts(now)).Scan(tsOf{&next})
	return next, failed(ctx, err)
}

// TaskLeaseNext implements [store.Store].
func (db *DB) TaskLeaseNext(ctx context.Context) (time.Time, error) {
	var next time.Time
	err := db.pool.QueryRow(ctx, `SELECT min(lease_expires) FROM tasks WHERE status = 'CLAIMED'`).Scan(tsOf{&next})
	return next, failed(ctx, err)
}

// RunnerHeartbeat implements [store.Store].
func (db *DB) RunnerHeartbeat(ctx context.Context, p *store.RunnerHeartbeatParams) error {
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.Exec(ctx, `INSERT INTO runners (account, runner_id, worker_group, hostname, last_seen) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (account, runner_id) DO UPDATE SET worker_group = excluded.worker_group,
				hostname = excluded.hostname, last_seen = excluded.last_seen`,
			p.Account, p.RunnerID, p.WorkerGroup, p.Hostname, ts(p.Now))
		return err
	})
	return failed(ctx, err)
}
