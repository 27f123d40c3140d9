package sqlite

import (
	"context"
	"slices"
	"time"

	"github.com/culvert/culvert/internal/store"
)

const alarmColumns = `seq, sink, account, pipeline_id, action_id, instance_id, event, topic_arn, subject, message, role,
	created_at, tries, next_try, last_error`

func alarmArgs(args []any, a *store.Alarm) []any {
	return append(args, a.Seq, a.Sink, a.Account, a.PipelineID, a.ActionID, a.InstanceID, a.Event, a.TopicArn,
		a.Subject, a.Message, a.Role, unixNano(a.CreatedAt), int64(a.Tries), unixNano(a.NextTry), a.LastError)
}

// newAlarms numbers the alarms of a run step from s.nextAlarm and returns
// the store's copies and the statements that insert them. The caller holds
// s.mu and commits s.nextAlarm once the statements are written.
func (s *DB) newAlarms(c *store.RunChanges, now time.Time) ([]*store.Alarm, []stmt) {
	if len(c.Alarms) == 0 {
		return nil, nil
	}
	out := make([]*store.Alarm, len(c.Alarms))
	for i, a := range c.Alarms {
		na := *a
		na.Seq = s.nextAlarm + int64(i) + 1
		na.Account, na.PipelineID, na.CreatedAt, na.NextTry = c.Account, c.PipelineID, now, now
		na.Tries, na.LastError = 0, ""
		out[i] = &na
	}
	stmts := bulk(`INSERT INTO alarms (`+alarmColumns+`)`, 15, len(out),
		func(i int, args []any) []any { return alarmArgs(args, out[i]) })
	// Delivered alarms are deleted, so the table alone cannot say which
	// numbers were issued.
	return out, append(stmts, counterStmt("alarm_seq", out[len(out)-1].Seq))
}

// AlarmsDue implements [store.Store].
func (s *DB) AlarmsDue(ctx context.Context, sink string, now time.Time, limit int) ([]*store.Alarm, time.Time, error) {
	var (
		due  []*store.Alarm
		next time.Time
	)
	s.mu.RLock()
	for _, a := range s.alarms {
		if a.Sink != sink {
			continue
		}
		if a.NextTry.After(now) {
			if next.IsZero() || a.NextTry.Before(next) {
				next = a.NextTry
			}
			continue
		}
		if len(due) < limit {
			c := *a
			due = append(due, &c)
		}
	}
	seq := s.c.applied()
	s.mu.RUnlock()
	return due, next, s.observed(ctx, seq)
}

// AlarmSettle implements [store.Store].
func (s *DB) AlarmSettle(ctx context.Context, p *store.AlarmSettleParams) error {
	s.mu.Lock()
	i := slices.IndexFunc(s.alarms, func(a *store.Alarm) bool { return a.Seq == p.Seq })
	if i < 0 {
		s.mu.Unlock()
		return store.ErrNotFound
	}
	var st stmt
	var na store.Alarm
	if p.Done {
		st = stmt{query: `DELETE FROM alarms WHERE seq = ?`, args: []any{p.Seq}}
	} else {
		na = *s.alarms[i]
		na.Tries++
		na.NextTry, na.LastError = utc(p.NextTry), p.LastError
		st = stmt{query: `UPDATE alarms SET tries = ?, next_try = ?, last_error = ? WHERE seq = ?`,
			args: []any{int64(na.Tries), unixNano(na.NextTry), na.LastError, p.Seq}}
	}
	seq, err := s.write(st)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if p.Done {
		s.alarms = slices.Delete(s.alarms, i, i+1)
	} else {
		s.alarms[i] = &na
	}
	s.mu.Unlock()
	return s.observed(ctx, seq)
}

func (s *DB) loadAlarms(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+alarmColumns+` FROM alarms ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			a                      store.Alarm
			created, tries, nextTr int64
		)
		if err := rows.Scan(&a.Seq, &a.Sink, &a.Account, &a.PipelineID, &a.ActionID, &a.InstanceID, &a.Event, &a.TopicArn,
			&a.Subject, &a.Message, &a.Role, &created, &tries, &nextTr, &a.LastError); err != nil {
			return err
		}
		a.CreatedAt, a.Tries, a.NextTry = unixTime(created), int(tries), unixTime(nextTr)
		s.nextAlarm = max(s.nextAlarm, a.Seq)
		s.alarms = append(s.alarms, &a)
	}
	return rows.Err()
}
