package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/culvert/culvert/internal/store"
)

// AlarmsDue implements [store.Store].
func (db *DB) AlarmsDue(ctx context.Context, sink string, now time.Time, limit int) ([]*store.Alarm, time.Time, error) {
	var (
		due  []*store.Alarm
		next time.Time
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT seq, sink, account, pipeline_id, action_id, instance_id, event, topic_arn, subject, message, role,
		created_at, tries, next_try, last_error FROM alarms
		WHERE sink = $1 AND (next_try IS NULL OR next_try <= $2) ORDER BY seq LIMIT $3`, sink, ts(now), max(limit, 0)).
		Query(func(rows pgx.Rows) error {
			var err error
			due, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Alarm, error) {
				var a store.Alarm
				err := row.Scan(&a.Seq, &a.Sink, &a.Account, &a.PipelineID, &a.ActionID, &a.InstanceID, &a.Event, &a.TopicArn,
					&a.Subject, &a.Message, &a.Role, tsOf{&a.CreatedAt}, &a.Tries, tsOf{&a.NextTry}, &a.LastError)
				return &a, err
			})
			return err
		})
	b.Queue(`SELECT min(next_try) FROM alarms WHERE sink = $1 AND next_try > $2`, sink, ts(now)).
		QueryRow(func(row pgx.Row) error { return row.Scan(tsOf{&next}) })
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, time.Time{}, failed(ctx, err)
	}
	return due, next, nil
}

// AlarmSettle implements [store.Store].
func (db *DB) AlarmSettle(ctx context.Context, p *store.AlarmSettleParams) error {
	err := db.write(ctx, func(tx *wtx) error {
		var (
			n   int64
			err error
		)
		if p.Done {
			tag, e := tx.Exec(ctx, `DELETE FROM alarms WHERE seq = $1`, p.Seq)
			n, err = tag.RowsAffected(), e
		} else {
			tag, e := tx.Exec(ctx, `UPDATE alarms SET tries = tries + 1, next_try = $2, last_error = $3 WHERE seq = $1`,
				p.Seq, ts(p.NextTry), p.LastError)
			n, err = tag.RowsAffected(), e
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	return failed(ctx, err)
}
