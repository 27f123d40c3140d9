package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// chunkRows is how many instances or attempts one upsert carries: a
// backfill's step can hold hundreds of thousands, and statements of a few
// thousand rows keep each one's arrays a few megabytes.
const chunkRows = 5000

// tsa is a time as an element of a timestamptz array parameter.
func tsa(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t.UTC(), Valid: true}
}

// lastOfEach returns xs without the elements whose id appears again later:
// a RunChanges that names an object twice means its last form.
func lastOfEach[T any](xs []T, id func(T) string) []T {
	last := make(map[string]int, len(xs))
	for i, x := range xs {
		last[id(x)] = i
	}
	out := make([]T, 0, len(last))
	for i, x := range xs {
		if last[id(x)] == i {
			out = append(out, x)
		}
	}
	return out
}

const instanceUpsert = `INSERT INTO instances (pipeline_id, id, component_id, type, n, version, scheduled_start, scheduled_end,
	eligible, status, actual_start, actual_end, attempt_count, tries_left, head_attempt, resource, node, error_id,
	error_message, error_stack, cascade_failed_on, cancellation_reason, late_actions_fired, events)
SELECT $1, u.id, u.component_id, u.type, u.n, u.version, u.scheduled_start, u.scheduled_end, u.eligible, u.status,
	u.actual_start, u.actual_end, u.attempt_count, u.tries_left, u.head_attempt, u.resource, u.node, u.error_id,
	u.error_message, u.error_stack, u.cascade_failed_on, u.cancellation_reason, u.late_actions_fired, u.events::jsonb
FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::timestamptz[], $8::timestamptz[],
	$9::timestamptz[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::bigint[], $14::bigint[], $15::text[],
	$16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::boolean[], $24::text[])
	AS u(id, component_id, type, n, version, scheduled_start, scheduled_end, eligible, status, actual_start, actual_end,
	attempt_count, tries_left, head_attempt, resource, node, error_id, error_message, error_stack, cascade_failed_on,
	cancellation_reason, late_actions_fired, events)
ON CONFLICT (pipeline_id, id) DO UPDATE SET component_id = excluded.component_id, type = excluded.type, n = excluded.n,
	version = excluded.version, scheduled_start = excluded.scheduled_start, scheduled_end = excluded.scheduled_end,
	eligible = excluded.eligible, status = excluded.status, actual_start = excluded.actual_start,
	actual_end = excluded.actual_end, attempt_count = excluded.attempt_count, tries_left = excluded.tries_left,
	head_attempt = excluded.head_attempt, resource = excluded.resource, node = excluded.node,
	error_id = excluded.error_id, error_message = excluded.error_message, error_stack = excluded.error_stack,
	cascade_failed_on = excluded.cascade_failed_on, cancellation_reason = excluded.cancellation_reason,
	late_actions_fired = excluded.late_actions_fired, events = excluded.events`

// instanceArgs are the arguments of instanceUpsert for ins.
func instanceArgs(pipelineID string, ins []*pipeline.Instance) []any {
	n := len(ins)
	var (
		ids, comps, types, statuses, heads, resources, nodes = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		eids, emsgs, estacks, cascades, reasons, events      = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ns, vers, counts, tries                              = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		ss, se, el, as, ae                                   = make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
		late                                                 = make([]bool, n)
	)
	for i, in := range ins {
		ids[i], comps[i], types[i], statuses[i] = in.ID, in.ComponentID, in.Type, string(in.Status)
		heads[i], resources[i], nodes[i] = in.HeadAttempt, in.Resource, in.Node
		eids[i], emsgs[i], estacks[i], cascades[i], reasons[i] = in.ErrorID, in.ErrorMessage, in.ErrorStackTrace, in.CascadeFailedOn, in.CancellationReason
		ns[i], vers[i], counts[i], tries[i] = int64(in.N), in.Version, int64(in.AttemptCount), int64(in.TriesLeft)
		ss[i], se[i], el[i], as[i], ae[i] = tsa(in.ScheduledStart), tsa(in.ScheduledEnd), tsa(in.Eligible), tsa(in.ActualStart), tsa(in.ActualEnd)
		late[i] = in.LateActionsFired
		events[i] = "[]"
		if len(in.Events) > 0 {
			b, _ := json.Marshal(in.Events) // a []string always encodes
			events[i] = string(b)
		}
	}
	return []any{pipelineID, ids, comps, types, ns, vers, ss, se, el, statuses, as, ae, counts, tries, heads, resources, nodes,
		eids, emsgs, estacks, cascades, reasons, late, events}
}

const attemptUpsert = `INSERT INTO attempts (pipeline_id, id, instance_id, n, status, task_id, hostname, not_before,
	actual_start, actual_end, report_progress_time, log_location, error_id, error_message, error_stack)
SELECT $1, u.* FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::timestamptz[],
	$9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::text[], $13::text[], $14::text[], $15::text[])
	AS u(id, instance_id, n, status, task_id, hostname, not_before, actual_start, actual_end, report_progress_time,
	log_location, error_id, error_message, error_stack)
ON CONFLICT (pipeline_id, id) DO UPDATE SET instance_id = excluded.instance_id, n = excluded.n, status = excluded.status,
	task_id = excluded.task_id, hostname = excluded.hostname, not_before = excluded.not_before,
	actual_start = excluded.actual_start, actual_end = excluded.actual_end,
	report_progress_time = excluded.report_progress_time, log_location = excluded.log_location,
	error_id = excluded.error_id, error_message = excluded.error_message, error_stack = excluded.error_stack`

func attemptArgs(pipelineID string, ats []*pipeline.Attempt) []any {
	n := len(ats)
	var (
		ids, insts, statuses, tasks, hosts, logs, eids, emsgs, estacks = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ns                                                             = make([]int64, n)
		nb, as, ae, rpt                                                = make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
	)
	for i, a := range ats {
		ids[i], insts[i], statuses[i], tasks[i], hosts[i], logs[i] = a.ID, a.InstanceID, string(a.Status), a.TaskID, a.Hostname, a.LogLocation
		eids[i], emsgs[i], estacks[i] = a.ErrorID, a.ErrorMessage, a.ErrorStackTrace
		ns[i] = int64(a.N)
		nb[i], as[i], ae[i], rpt[i] = tsa(a.NotBefore), tsa(a.ActualStart), tsa(a.ActualEnd), tsa(a.ReportProgressTime)
	}
	return []any{pipelineID, ids, insts, ns, statuses, tasks, hosts, nb, as, ae, rpt, logs, eids, emsgs, estacks}
}

// chunks calls fn with consecutive pieces of xs of at most chunkRows.
func chunks[T any](xs []T, fn func([]T)) {
	for len(xs) > 0 {
		n := min(len(xs), chunkRows)
		fn(xs[:n])
		xs = xs[n:]
	}
}

// RunApply implements [store.Store].
func (db *DB) RunApply(ctx context.Context, c *store.RunChanges) error {
	ins := lastOfEach(c.Instances, func(in *pipeline.Instance) string { return in.ID })
	ats := lastOfEach(c.Attempts, func(a *pipeline.Attempt) string { return a.ID })
	var summary []byte
	if c.Summary != nil {
		var err error
		if summary, err = json.Marshal(c.Summary); err != nil {
			return fmt.Errorf("postgres: RunApply: run summary: %w", err)
		}
	}
	var cancel []string
	for _, id := range c.Cancel {
		if !slices.Contains(cancel, id) {
			cancel = append(cancel, id)
		}
	}
	n := len(c.Tasks)
	var (
		ids, attempts, instances, groups = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		objects                          = make([][]byte, n)
		notBefore, created               = make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
		timeouts                         = make([]int64, n)
		topics                           []string
	)
	for i, t := range c.Tasks {
		ids[i], attempts[i], instances[i], groups[i], objects[i] = t.ID, t.AttemptID, t.InstanceID, t.WorkerGroup, nonNil(t.Objects)
		notBefore[i], created[i], timeouts[i] = tsa(t.NotBefore), tsa(t.CreatedAt), int64(max(t.ProgressTimeout, 0))
		if !t.NotBefore.After(c.Now) {
			if topic := store.TaskTopic(c.Account, t.WorkerGroup); !slices.Contains(topics, topic) {
				topics = append(topics, topic)
			}
		}
	}
	seqs := make([]int64, len(c.Alarms))
	err := db.write(ctx, func(tx *wtx) error {
		// The pipeline's row lock serialises its steps with its deletion.
		if err := lockPipeline(ctx, tx.tx, c.Account, c.PipelineID, `FOR NO KEY UPDATE`); err != nil {
			return err
		}
		b := &pgx.Batch{}
		chunks(ins, func(part []*pipeline.Instance) { b.Queue(instanceUpsert, instanceArgs(c.PipelineID, part)...) })
		chunks(ats, func(part []*pipeline.Attempt) { b.Queue(attemptUpsert, attemptArgs(c.PipelineID, part)...) })
		if n > 0 {
			base, err := tx.reserve(n)
			if err != nil {
				return err
			}
			// In order: the identity column gives queue positions in the
			// order rows are inserted, and the ordinal orders the feed.
			b.Queue(`INSERT INTO tasks AS t (id, account, pipeline_id, attempt_id, instance_id, worker_group, objects,
					not_before, progress_timeout, status, change_seq, created_at, updated_at)
				SELECT u.id, $1, $2, u.attempt_id, u.instance_id, u.worker_group, u.objects, u.not_before, u.timeout, 'QUEUED',
					`+changeSeq+` + $3 + u.n, u.created_at, u.created_at
				FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::timestamptz[], $10::bigint[],
					$11::timestamptz[]) WITH ORDINALITY
					AS u(id, attempt_id, instance_id, worker_group, objects, not_before, timeout, created_at, n)
				ORDER BY u.n`,
				c.Account, c.PipelineID, base, ids, attempts, instances, groups, objects, notBefore, timeouts, created)
		}
		if len(cancel) > 0 {
			base, err := tx.reserve(len(cancel))
			if err != nil {
				return err
			}
			// A task the step enqueues is not among those it cancels:
			// Cancel names tasks stored before the step.
			b.Queue(`UPDATE tasks AS t SET canceled = true, updated_at = $2,
					objects = CASE WHEN t.status = 'QUEUED' THEN ''::bytea ELSE t.objects END, change_seq = `+changeSeq+` + $3 + c.n
				FROM unnest($4::text[]) WITH ORDINALITY AS c(id, n)
				WHERE t.id = c.id AND t.pipeline_id = $1 AND t.status IN ('QUEUED', 'CLAIMED') AND NOT t.canceled
					AND t.id <> ALL ($5::text[])`,
				c.PipelineID, ts(c.Now), base, cancel, ids)
		}
		if len(c.CommandsDone) > 0 {
			b.Queue(`DELETE FROM commands WHERE pipeline_id = $1 AND seq = ANY ($2::bigint[])`, c.PipelineID, c.CommandsDone)
		}
		for i, a := range c.Alarms {
			// One statement each, so that Seqs follow the alarms' order.
			b.Queue(`INSERT INTO alarms (sink, account, pipeline_id, action_id, instance_id, event, topic_arn, subject,
					message, role, created_at, next_try) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING seq`,
				a.Sink, c.Account, c.PipelineID, a.ActionID, a.InstanceID, a.Event, a.TopicArn, a.Subject, a.Message, a.Role, ts(c.Now),
			).QueryRow(func(row pgx.Row) error { return row.Scan(&seqs[i]) })
		}
		if c.State != "" || summary != nil {
			b.Queue(`UPDATE pipelines SET state = CASE WHEN $2 = '' THEN state ELSE $2 END,
				run_summary = COALESCE($3::jsonb, run_summary) WHERE id = $1`, c.PipelineID, string(c.State), summary)
		}
		if b.Len() > 0 {
			if err := tx.tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
		}
		for _, t := range topics {
			tx.wake(t)
		}
		if len(c.Alarms) > 0 {
			tx.wake(store.AlarmTopic)
		}
		return nil
	})
	if err != nil {
		return failed(ctx, err)
	}
	for i, a := range c.Alarms {
		a.Seq = seqs[i]
	}
	return nil
}

// RunLoad implements [store.Store]. It reads in one REPEATABLE READ
// snapshot, so that the state and its ChangeSeq (the bound of the feed in
// that snapshot, less one) agree: every change below the bound is in the
// state. A change above it may be too, and a follower sees it again.
func (db *DB) RunLoad(ctx context.Context, account, pipelineID string) (*store.RunState, error) {
	var st *store.RunState
	err := db.settle(ctx, func(ready func(bound, highest int64) bool) (bool, error) {
		var err error
		st, err = db.runLoad(ctx, account, pipelineID, ready)
		return st != nil, err
	})
	if err != nil {
		return nil, failed(ctx, err)
	}
	return st, nil
}

// runLoad reads a run, or returns nil if ready says to wait (see
// settle).
func (db *DB) runLoad(ctx context.Context, account, pipelineID string, ready func(bound, highest int64) bool) (*store.RunState, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx) // read only: nothing to commit
	var (
		deleted        *bool
		bound, highest int64
	)
	if err := tx.QueryRow(ctx, `SELECT (SELECT deleted FROM pipelines WHERE id = $1 AND account = $2), b.bound,
		coalesce((SELECT max(change_seq) FROM tasks), 0) FROM `+boundSQL+` b`,
		pipelineID, account).Scan(&deleted, &bound, &highest); err != nil {
		return nil, err
	}
	switch {
	case deleted == nil:
		return nil, store.ErrNotFound
	case *deleted:
		return nil, store.ErrDeleted
	case !ready(bound, highest):
		return nil, nil
	}
	st := &store.RunState{ChangeSeq: bound - 1}
	b := &pgx.Batch{}
	b.Queue(`SELECT id, component_id, type, n, version, scheduled_start, scheduled_end, eligible, status, actual_start,
		actual_end, attempt_count, tries_left, head_attempt, resource, node, error_id, error_message, error_stack,
		cascade_failed_on, cancellation_reason, late_actions_fired, events
		FROM instances WHERE pipeline_id = $1 ORDER BY scheduled_start NULLS FIRST, id`, pipelineID).Query(func(rows pgx.Rows) error {
		var err error
		st.Instances, err = pgx.CollectRows(rows, scanInstance)
		return err
	})
	b.Queue(`SELECT id, instance_id, n, status, task_id, hostname, not_before, actual_start, actual_end,
		report_progress_time, log_location, error_id, error_message, error_stack
		FROM attempts WHERE pipeline_id = $1 ORDER BY id`, pipelineID).Query(func(rows pgx.Rows) error {
		var err error
		st.Attempts, err = pgx.CollectRows(rows, scanAttempt)
		return err
	})
	b.Queue(`SELECT `+taskColsLean+` FROM tasks t WHERE pipeline_id = $1 ORDER BY queue_seq`, pipelineID).Query(func(rows pgx.Rows) error {
		var err error
		st.Tasks, err = scanTasks(rows)
		return err
	})
	b.Queue(commandSelect+` WHERE pipeline_id = $1 ORDER BY seq`, pipelineID).Query(func(rows pgx.Rows) error {
		var err error
		st.Commands, err = pgx.CollectRows(rows, scanCommand)
		return err
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return st, nil
}

func scanInstance(row pgx.CollectableRow) (*pipeline.Instance, error) {
	var (
		in     pipeline.Instance
		status string
		events []byte
	)
	if err := row.Scan(&in.ID, &in.ComponentID, &in.Type, &in.N, &in.Version, tsOf{&in.ScheduledStart}, tsOf{&in.ScheduledEnd},
		tsOf{&in.Eligible}, &status, tsOf{&in.ActualStart}, tsOf{&in.ActualEnd}, &in.AttemptCount, &in.TriesLeft,
		&in.HeadAttempt, &in.Resource, &in.Node, &in.ErrorID, &in.ErrorMessage, &in.ErrorStackTrace, &in.CascadeFailedOn,
		&in.CancellationReason, &in.LateActionsFired, &events); err != nil {
		return nil, err
	}
	in.Status = pipeline.Status(status)
	if len(events) > 2 { // not "[]", which nearly every instance has
		if err := json.Unmarshal(events, &in.Events); err != nil {
			return nil, fmt.Errorf("postgres: instance %s: events: %w", in.ID, err)
		}
	}
	return &in, nil
}

func scanAttempt(row pgx.CollectableRow) (*pipeline.Attempt, error) {
	var (
		a      pipeline.Attempt
		status string
	)
	if err := row.Scan(&a.ID, &a.InstanceID, &a.N, &status, &a.TaskID, &a.Hostname, tsOf{&a.NotBefore}, tsOf{&a.ActualStart},
		tsOf{&a.ActualEnd}, tsOf{&a.ReportProgressTime}, &a.LogLocation, &a.ErrorID, &a.ErrorMessage, &a.ErrorStackTrace); err != nil {
		return nil, err
	}
	a.Status = pipeline.Status(status)
	return &a, nil
}

const commandSelect = `SELECT seq, account, pipeline_id, object_ids, status, created_at FROM commands`

func scanCommand(row pgx.CollectableRow) (*store.RunCommand, error) {
	var c store.RunCommand
	if err := row.Scan(&c.Seq, &c.Account, &c.PipelineID, &c.ObjectIDs, &c.Status, tsOf{&c.CreatedAt}); err != nil {
		return nil, err
	}
	if len(c.ObjectIDs) == 0 {
		c.ObjectIDs = nil
	}
	return &c, nil
}

// RunCommandAdd implements [store.Store].
func (db *DB) RunCommandAdd(ctx context.Context, c *store.RunCommand) error {
	var seq int64
	err := db.write(ctx, func(tx *wtx) error {
		// FOR KEY SHARE: a concurrent PipelineDelete waits, then removes
		// the command with the pipeline's others.
		if err := lockPipeline(ctx, tx.tx, c.Account, c.PipelineID, `FOR KEY SHARE`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO commands (account, pipeline_id, object_ids, status, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING seq`,
			c.Account, c.PipelineID, nonNil(c.ObjectIDs), c.Status, ts(c.CreatedAt)).Scan(&seq); err != nil {
			return err
		}
		tx.wake(store.SchedulerTopic)
		return nil
	})
	if err != nil {
		return failed(ctx, err)
	}
	c.Seq = seq
	return nil
}

// RunCommands implements [store.Store].
func (db *DB) RunCommands(ctx context.Context) ([]*store.RunCommand, error) {
	rows, err := db.pool.Query(ctx, commandSelect+` ORDER BY seq`)
	if err != nil {
		return nil, failed(ctx, err)
	}
	out, err := pgx.CollectRows(rows, scanCommand)
	if err != nil {
		return nil, failed(ctx, err)
	}
	return out, nil
}
