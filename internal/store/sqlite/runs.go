package sqlite

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

const instanceColumns = `pipeline_id, id, component_id, type, n, version, scheduled_start, scheduled_end, eligible, status,
	actual_start, actual_end, attempt_count, tries_left, head_attempt, resource, error_id, error_message, error_stack,
	cascade_failed_on, cancellation_reason, late_actions_fired, node, events`

func instanceArgs(args []any, pipelineID string, in *pipeline.Instance) []any {
	return append(args, pipelineID, in.ID, in.ComponentID, in.Type, int64(in.N), in.Version,
		unixNano(in.ScheduledStart), unixNano(in.ScheduledEnd), unixNano(in.Eligible), string(in.Status),
		unixNano(in.ActualStart), unixNano(in.ActualEnd), int64(in.AttemptCount), int64(in.TriesLeft), in.HeadAttempt,
		in.Resource, in.ErrorID, in.ErrorMessage, in.ErrorStackTrace, in.CascadeFailedOn, in.CancellationReason,
		boolInt(in.LateActionsFired), in.Node, eventsJSON(in.Events))
}

// planColumns are the fields an instance has as planned; the table's
// defaults hold the others (migration 0009).
const planColumns = `pipeline_id, id, component_id, type, n, version, scheduled_start, scheduled_end, eligible, status, tries_left`

// planned reports whether an instance has nothing but planColumns set, so
// that planColumns store it whole.
func planned(in *pipeline.Instance) bool {
	return in.ActualStart.IsZero() && in.ActualEnd.IsZero() && in.AttemptCount == 0 && in.HeadAttempt == "" &&
		in.Resource == "" && in.ErrorID == "" && in.ErrorMessage == "" && in.ErrorStackTrace == "" &&
		in.CascadeFailedOn == "" && in.CancellationReason == "" && !in.LateActionsFired && in.Node == "" && len(in.Events) == 0
}

func planArgs(args []any, pipelineID string, in *pipeline.Instance) []any {
	return append(args, pipelineID, in.ID, in.ComponentID, in.Type, int64(in.N), in.Version,
		unixNano(in.ScheduledStart), unixNano(in.ScheduledEnd), unixNano(in.Eligible), string(in.Status), int64(in.TriesLeft))
}

// eventsJSON encodes an instance's events; nearly every instance has none.
func eventsJSON(events []string) string {
	if len(events) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(events) // a []string always encodes
	return string(b)
}

const attemptColumns = `pipeline_id, id, instance_id, n, status, task_id, hostname, not_before, actual_start, actual_end,
	report_progress_time, error_id, error_message, error_stack, log_location`

func attemptArgs(args []any, pipelineID string, a *pipeline.Attempt) []any {
	return append(args, pipelineID, a.ID, a.InstanceID, int64(a.N), string(a.Status), a.TaskID, a.Hostname,
		unixNano(a.NotBefore), unixNano(a.ActualStart), unixNano(a.ActualEnd), unixNano(a.ReportProgressTime),
		a.ErrorID, a.ErrorMessage, a.ErrorStackTrace, a.LogLocation)
}

// bulkRows is how many rows one multi-row INSERT carries. Binding many rows
// per execution amortises the per-statement cost of database/sql and the
// driver: about 10% of a year-long backfill (BenchmarkRunApplyYearBackfill),
// the rest being SQLite's own work.
const bulkRows = 32

// bulk returns the statements that run "head VALUES (…), (…) tail" over n
// rows of cols columns, row appending the arguments of row i. Statements
// carry bulkRows rows, then powers of two for the rest, so that a handful
// of query texts (each prepared once) serve every n.
func bulk(head string, cols, n int, row func(i int, args []any) []any) []stmt {
	var out []stmt
	start := 0
	for size := bulkRows; size > 0 && start < n; size /= 2 {
		count := (n - start) / size
		if count == 0 {
			continue
		}
		first := start
		out = append(out, stmt{query: valuesQuery(head, cols, size), n: count, fill: func(i int, args []any) []any {
			for r := range size {
				args = row(first+i*size+r, args)
			}
			return args
		}})
		start += count * size
	}
	return out
}

func valuesQuery(head string, cols, rows int) string {
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(" VALUES ")
	tuple := "(" + strings.Repeat("?, ", cols-1) + "?)"
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	return b.String()
}

// utc gives stored times one location, so that memory matches what a
// reopened store reads back, and drops monotonic clock readings.
func utc(t time.Time) time.Time { return t.UTC() }

func copyInstance(in *pipeline.Instance) *pipeline.Instance {
	c := *in
	c.Events = slices.Clone(c.Events)
	c.ScheduledStart, c.ScheduledEnd, c.Eligible = utc(c.ScheduledStart), utc(c.ScheduledEnd), utc(c.Eligible)
	c.ActualStart, c.ActualEnd = utc(c.ActualStart), utc(c.ActualEnd)
	return &c
}

func copyAttempt(a *pipeline.Attempt) *pipeline.Attempt {
	c := *a
	c.NotBefore, c.ActualStart, c.ActualEnd, c.ReportProgressTime = utc(c.NotBefore), utc(c.ActualStart), utc(c.ActualEnd), utc(c.ReportProgressTime)
	return &c
}

// dedupe keeps the last of each run of equal elements in a stably sorted
// slice: a RunChanges that names an object twice means its last form.
func dedupe[T any](s []T, eq func(a, b T) bool) []T {
	out := s[:0]
	for i, x := range s {
		if i+1 < len(s) && eq(x, s[i+1]) {
			continue
		}
		out = append(out, x)
	}
	return out
}

// summaryStmt is the statement that stores a pipeline's run summary.
func summaryStmt(pipelineID string, sum *pipeline.RunSummary) (stmt, error) {
	b, err := json.Marshal(sum)
	if err != nil {
		return stmt{}, err
	}
	return stmt{query: `UPDATE pipelines SET run_summary = ? WHERE id = ?`, args: []any{string(b), pipelineID}}, nil
}

// RunApply implements [store.Store].
func (s *DB) RunApply(ctx context.Context, c *store.RunChanges) error {
	// Copy and sort outside the lock: the caller keeps changing its own
	// instances, and none of this depends on the store.
	ins := make([]*pipeline.Instance, len(c.Instances))
	for i, in := range c.Instances {
		ins[i] = copyInstance(in)
	}
	slices.SortStableFunc(ins, func(a, b *pipeline.Instance) int { return strings.Compare(a.ID, b.ID) })
	ins = dedupe(ins, func(a, b *pipeline.Instance) bool { return a.ID == b.ID })
	slices.SortFunc(ins, cmpInstance)
	ats := make([]*pipeline.Attempt, len(c.Attempts))
	for i, a := range c.Attempts {
		ats[i] = copyAttempt(a)
	}
	slices.SortStableFunc(ats, cmpAttempt)
	ats = dedupe(ats, func(a, b *pipeline.Attempt) bool { return a.ID == b.ID })
	now := utc(c.Now)

	s.mu.Lock()
	old, err := s.lookup(c.Account, c.PipelineID)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	tasks := make([]*store.Task, len(c.Tasks))
	ids := make(map[string]bool, len(c.Tasks))
	for i, t := range c.Tasks {
		if s.tasks[t.ID] != nil || ids[t.ID] {
			s.mu.Unlock()
			return store.ErrConflict
		}
		ids[t.ID] = true
		nt := newTask(t)
		nt.Account, nt.PipelineID = c.Account, c.PipelineID
		nt.ChangeSeq = s.nextChange + int64(i) + 1
		tasks[i] = nt
	}
	nextChange := s.nextChange + int64(len(tasks))
	var canceled []*store.Task
	var cancelRefs []*taskRef
	for _, id := range c.Cancel {
		ref := s.tasks[id]
		if ref == nil || ref.t.PipelineID != c.PipelineID || ref.t.Status.Done() || ref.t.Canceled || slices.Contains(cancelRefs, ref) {
			continue
		}
		nt := *ref.t
		nextChange++
		nt.Canceled, nt.ChangeSeq, nt.UpdatedAt = true, nextChange, now
		canceled = append(canceled, &nt)
		cancelRefs = append(cancelRefs, ref)
	}
	r := s.run(c.PipelineID)
	var doneSeqs []int64
	for _, seq := range c.CommandsDone {
		if slices.ContainsFunc(r.commands, func(rc *store.RunCommand) bool { return rc.Seq == seq }) && !slices.Contains(doneSeqs, seq) {
			doneSeqs = append(doneSeqs, seq)
		}
	}

	pid := c.PipelineID
	firstTask := s.nextTask + 1
	var stmts []stmt
	// Most instances of a large step are new and as planned: a short row.
	var plain, full []*pipeline.Instance
	for _, in := range ins {
		if planned(in) {
			plain = append(plain, in)
		} else {
			full = append(full, in)
		}
	}
	stmts = append(stmts, bulk(`INSERT OR REPLACE INTO instances (`+planColumns+`)`, 11, len(plain),
		func(i int, args []any) []any { return planArgs(args, pid, plain[i]) })...)
	stmts = append(stmts, bulk(`INSERT OR REPLACE INTO instances (`+instanceColumns+`)`, 24, len(full),
		func(i int, args []any) []any { return instanceArgs(args, pid, full[i]) })...)
	stmts = append(stmts, bulk(`INSERT OR REPLACE INTO attempts (`+attemptColumns+`)`, 15, len(ats),
		func(i int, args []any) []any { return attemptArgs(args, pid, ats[i]) })...)
	stmts = append(stmts, taskInserts(tasks, firstTask)...)
	if len(canceled) > 0 {
		stmts = append(stmts, stmt{query: `UPDATE tasks SET canceled = 1, change_seq = ?, updated_at = ? WHERE seq = ?`, n: len(canceled),
			fill: func(i int, args []any) []any {
				return append(args, canceled[i].ChangeSeq, unixNano(canceled[i].UpdatedAt), cancelRefs[i].seq)
			}})
	}
	if len(doneSeqs) > 0 {
		stmts = append(stmts, stmt{query: `DELETE FROM commands WHERE seq = ?`, n: len(doneSeqs),
			fill: func(i int, args []any) []any { return append(args, doneSeqs[i]) }})
	}
	alarms, alarmStmts := s.newAlarms(c, now)
	stmts = append(stmts, alarmStmts...)
	var np *store.Pipeline
	if c.State != "" && c.State != old.State {
		p := *old
		p.State = c.State
		np = &p
		stmts = append(stmts, stmt{query: `UPDATE pipelines SET state = ? WHERE id = ?`, args: []any{string(c.State), pid}})
	}
	if c.Summary != nil {
		if np == nil {
			p := *old
			np = &p
		}
		np.Summary = c.Summary
		// Written now when the run stops (State set) or a second has
		// passed since the last write; otherwise at the next write or at
		// Close (RunChanges.Summary).
		last := s.summaryWritten[pid]
		if c.State != "" || last.IsZero() || time.Since(last) >= summaryEvery {
			st, err := summaryStmt(pid, c.Summary)
			if err != nil {
				s.mu.Unlock()
				return err
			}
			stmts = append(stmts, st)
			s.summaryWritten[pid] = time.Now()
			delete(s.summaryPending, pid)
		} else {
			s.summaryPending[pid] = c.Summary
		}
	}
	if len(stmts) == 0 {
		if np != nil {
			s.replace(old, np) // a summary written later
		}
		seq := s.c.applied()
		s.mu.Unlock()
		return s.observed(ctx, seq)
	}
	seq, err := s.write(stmts...)
	if err != nil {
		s.mu.Unlock()
		return err
	}

	r.putInstances(ins)
	r.putAttempts(ats)
	var topics []string
	for i, t := range tasks {
		s.indexTask(t, firstTask+int64(i))
		if claimable(t, now) {
			if topic := store.TaskTopic(t.Account, t.WorkerGroup); !slices.Contains(topics, topic) {
				topics = append(topics, topic)
			}
		}
	}
	s.nextTask += int64(len(tasks))
	for i, ref := range cancelRefs {
		s.setTask(ref, canceled[i])
	}
	s.nextChange = nextChange
	r.doneCommands(doneSeqs)
	if np != nil {
		s.replace(old, np)
	}
	for i, a := range alarms {
		c.Alarms[i].Seq = a.Seq
	}
	s.alarms = append(s.alarms, alarms...)
	if len(alarms) > 0 {
		s.nextAlarm = alarms[len(alarms)-1].Seq
		topics = append(topics, store.AlarmTopic)
	}
	s.mu.Unlock()
	// Only once durable, as TaskEnqueue does.
	return s.published(ctx, seq, topics...)
}

// RunLoad implements [store.Store].
func (s *DB) RunLoad(ctx context.Context, account, pipelineID string) (*store.RunState, error) {
	// The write lock, because handing the slices out marks them shared; it
	// is held for O(1) work.
	s.mu.Lock()
	if _, err := s.lookup(account, pipelineID); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	st := &store.RunState{}
	if r := s.runs[pipelineID]; r != nil {
		st = r.snapshot()
	}
	st.ChangeSeq = s.nextChange
	seq := s.c.applied()
	s.mu.Unlock()
	return st, s.observed(ctx, seq)
}

// RunCommands implements [store.Store].
func (s *DB) RunCommands(ctx context.Context) ([]*store.RunCommand, error) {
	s.mu.RLock()
	var out []*store.RunCommand
	for _, r := range s.runs {
		out = append(out, r.commands...)
	}
	seq := s.c.applied()
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *store.RunCommand) int { return cmpInt64(a.Seq, b.Seq) })
	return out, s.observed(ctx, seq)
}

// TaskChangeHead implements [store.Store].
func (s *DB) TaskChangeHead(ctx context.Context) (int64, error) {
	s.mu.RLock()
	head := s.nextChange
	seq := s.c.applied()
	s.mu.RUnlock()
	return head, s.observed(ctx, seq)
}

// RunCommandAdd implements [store.Store].
func (s *DB) RunCommandAdd(ctx context.Context, c *store.RunCommand) error {
	ids, err := json.Marshal(nonNilSlice(c.ObjectIDs))
	if err != nil {
		return err
	}
	s.mu.Lock()
	if _, err := s.lookup(c.Account, c.PipelineID); err != nil {
		s.mu.Unlock()
		return err
	}
	nc := &store.RunCommand{
		Seq: s.nextCommand + 1, Account: c.Account, PipelineID: c.PipelineID,
		ObjectIDs: slices.Clone(c.ObjectIDs), Status: c.Status, CreatedAt: utc(c.CreatedAt),
	}
	seq, err := s.write(
		stmt{query: `INSERT INTO commands (seq, account, pipeline_id, object_ids, status, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			args: []any{nc.Seq, nc.Account, nc.PipelineID, string(ids), nc.Status, unixNano(nc.CreatedAt)}},
		// Done commands are deleted, so the table alone cannot say which
		// numbers were issued.
		counterStmt("command_seq", nc.Seq),
	)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.nextCommand = nc.Seq
	r := s.run(c.PipelineID)
	r.commands = append(r.commands, nc)
	c.Seq = nc.Seq
	s.mu.Unlock()
	if err := s.published(ctx, seq, store.SchedulerTopic); err != nil {
		return err
	}
	return nil
}

func counterStmt(name string, value int64) stmt {
	return stmt{query: `INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)`,
		args: []any{name, value}}
}

// PipelinesRunning implements [store.Store].
func (s *DB) PipelinesRunning(ctx context.Context) ([]*store.Pipeline, error) {
	s.mu.RLock()
	var out []*store.Pipeline
	for _, a := range s.accounts {
		for _, p := range a.live {
			if p.State == pipeline.StateScheduled || p.State == pipeline.StateDeactivating {
				out = append(out, p)
			}
		}
	}
	seq := s.c.applied()
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *store.Pipeline) int { return cmpInt64(a.Seq, b.Seq) })
	return out, s.observed(ctx, seq)
}
