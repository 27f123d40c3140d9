package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// interner shares the strings that repeat across many rows (component
// ids, types, statuses), which a long backfill repeats hundreds of
// thousands of times.
type interner map[string]string

func (m interner) get(b sql.RawBytes) string {
	if s, ok := m[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	m[s] = s
	return s
}

// loadRuns reads instances, attempts, commands and counters; tasks come
// later in loadTasks.
func (s *DB) loadRuns(ctx context.Context) error {
	if err := s.loadCounters(ctx); err != nil {
		return err
	}
	in := interner{}
	if err := s.loadInstances(ctx, in); err != nil {
		return fmt.Errorf("instances: %w", err)
	}
	if err := s.loadAttempts(ctx, in); err != nil {
		return fmt.Errorf("attempts: %w", err)
	}
	if err := s.loadCommands(ctx); err != nil {
		return err
	}
	if err := s.loadAlarms(ctx); err != nil {
		return fmt.Errorf("alarms: %w", err)
	}
	return nil
}

func (s *DB) loadCounters(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT name, value FROM counters`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return err
		}
		switch name {
		case "change_seq":
			s.nextChange = max(s.nextChange, v)
		case "command_seq":
			s.nextCommand = max(s.nextCommand, v)
		case "alarm_seq":
			s.nextAlarm = max(s.nextAlarm, v)
		}
	}
	return rows.Err()
}

func (s *DB) loadInstances(ctx context.Context, intern interner) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+instanceColumns+` FROM instances`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		pid, comp, typ, status, resource sql.RawBytes
		events                           string
		n, attempts, tries, late         int64
		ss, se, el, as, ae               int64
	)
	for rows.Next() {
		in := &pipeline.Instance{}
		if err := rows.Scan(&pid, &in.ID, &comp, &typ, &n, &in.Version, &ss, &se, &el, &status, &as, &ae, &attempts, &tries,
			&in.HeadAttempt, &resource, &in.ErrorID, &in.ErrorMessage, &in.ErrorStackTrace, &in.CascadeFailedOn,
			&in.CancellationReason, &late, &in.Node, &events); err != nil {
			return err
		}
		if events != "[]" {
			if err := json.Unmarshal([]byte(events), &in.Events); err != nil {
				return fmt.Errorf("instance %s: events: %w", in.ID, err)
			}
		}
		in.ComponentID, in.Type, in.Status, in.Resource = intern.get(comp), intern.get(typ), pipeline.Status(intern.get(status)), intern.get(resource)
		in.N, in.AttemptCount, in.TriesLeft, in.LateActionsFired = int(n), int(attempts), int(tries), late != 0
		in.ScheduledStart, in.ScheduledEnd, in.Eligible = unixTime(ss), unixTime(se), unixTime(el)
		in.ActualStart, in.ActualEnd = unixTime(as), unixTime(ae)
		r := s.run(intern.get(pid))
		r.instances = append(r.instances, in)
		r.byID[in.ID] = in
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range s.runs {
		slices.SortFunc(r.instances, cmpInstance)
	}
	return nil
}

func (s *DB) loadAttempts(ctx context.Context, intern interner) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+attemptColumns+` FROM attempts`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		pid, status, host  sql.RawBytes
		n, nb, as, ae, rpt int64
	)
	for rows.Next() {
		a := &pipeline.Attempt{}
		if err := rows.Scan(&pid, &a.ID, &a.InstanceID, &n, &status, &a.TaskID, &host, &nb, &as, &ae, &rpt,
			&a.ErrorID, &a.ErrorMessage, &a.ErrorStackTrace, &a.LogLocation); err != nil {
			return err
		}
		a.N, a.Status, a.Hostname = int(n), pipeline.Status(intern.get(status)), intern.get(host)
		a.NotBefore, a.ActualStart, a.ActualEnd, a.ReportProgressTime = unixTime(nb), unixTime(as), unixTime(ae), unixTime(rpt)
		r := s.run(intern.get(pid))
		r.attempts = append(r.attempts, a)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range s.runs {
		slices.SortFunc(r.attempts, cmpAttempt)
	}
	return nil
}

func (s *DB) loadCommands(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, account, pipeline_id, object_ids, status, created_at FROM commands ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c       store.RunCommand
			ids     string
			created int64
		)
		if err := rows.Scan(&c.Seq, &c.Account, &c.PipelineID, &ids, &c.Status, &created); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(ids), &c.ObjectIDs); err != nil {
			return fmt.Errorf("command %d: object ids: %w", c.Seq, err)
		}
		c.CreatedAt = unixTime(created)
		s.nextCommand = max(s.nextCommand, c.Seq)
		r := s.run(c.PipelineID)
		r.commands = append(r.commands, &c)
	}
	return rows.Err()
}
