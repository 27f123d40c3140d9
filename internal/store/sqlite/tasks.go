package sqlite

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/culvert/culvert/internal/store"
)

// taskRef is the store's handle on one task. Task snapshots are immutable
// and replaced on every change; the ref stays, so the indexes that point at
// it (the claim queue, the claimed set, the change feed, the pipeline's run)
// need no search to follow a change.
type taskRef struct {
	t       *store.Task // current snapshot
	seq     int64       // queue order (the tasks.seq column)
	pos     int         // index in its run's tasks
	dropped bool        // its pipeline was deleted
}

// feedEntry is one change in the task feed. It is live while the task's
// last change is still this one; later changes append new entries and leave
// this one stale until the feed is compacted.
type feedEntry struct {
	seq int64
	ref *taskRef
}

func (e feedEntry) live() bool { return !e.ref.dropped && e.ref.t.ChangeSeq == e.seq }

// taskColumns are the columns of a task row, in the order of taskArgs. A
// task's objects are kept apart, in task_objects, written once (see
// migrations/0005_task_objects.sql).
const taskColumns = `id, seq, account, pipeline_id, attempt_id, instance_id, worker_group, status, not_before,
	hostname, lease_owner, lease_expires, canceled, error_id, error_message, error_stack, change_seq, created_at, updated_at,
	progress_timeout, progressed_at, log_location, claimed_at`

func taskArgs(args []any, t *store.Task, seq int64) []any {
	return append(args, t.ID, seq, t.Account, t.PipelineID, t.AttemptID, t.InstanceID, t.WorkerGroup,
		string(t.Status), unixNano(t.NotBefore), t.Hostname, t.LeaseOwner, unixNano(t.LeaseExpires), boolInt(t.Canceled),
		t.ErrorID, t.ErrorMessage, t.ErrorStack, t.ChangeSeq, unixNano(t.CreatedAt), unixNano(t.UpdatedAt),
		int64(t.ProgressTimeout), unixNano(t.ProgressedAt), t.LogLocation, unixNano(t.ClaimedAt))
}

// taskInserts returns the statements that insert tasks (in queue order,
// the first at queue position first): their rows and their objects.
func taskInserts(tasks []*store.Task, first int64) []stmt {
	out := bulk(`INSERT INTO tasks (`+taskColumns+`)`, 23, len(tasks),
		func(i int, args []any) []any { return taskArgs(args, tasks[i], first+int64(i)) })
	return append(out, bulk(`INSERT INTO task_objects (seq, objects)`, 2, len(tasks),
		func(i int, args []any) []any { return append(args, first+int64(i), nonNilSlice(tasks[i].Objects)) })...)
}

// taskDeletes returns the statements that delete the tasks at the given
// queue positions, rows and objects.
func taskDeletes(seqs []int64) []stmt {
	if len(seqs) == 0 {
		return nil
	}
	fill := func(i int, args []any) []any { return append(args, seqs[i]) }
	return []stmt{
		{query: `DELETE FROM task_objects WHERE seq = ?`, n: len(seqs), fill: fill},
		{query: `DELETE FROM tasks WHERE seq = ?`, n: len(seqs), fill: fill},
	}
}

func (s *DB) loadTasks(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+taskColumns+`,
		(SELECT objects FROM task_objects o WHERE o.seq = tasks.seq) FROM tasks ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			t                                store.Task
			seq, notBefore, lease, cancel, c int64
			u, progress, progressed, claimed int64
			status                           string
		)
		if err := rows.Scan(&t.ID, &seq, &t.Account, &t.PipelineID, &t.AttemptID, &t.InstanceID, &t.WorkerGroup,
			&status, &notBefore, &t.Hostname, &t.LeaseOwner, &lease, &cancel, &t.ErrorID, &t.ErrorMessage, &t.ErrorStack,
			&t.ChangeSeq, &c, &u, &progress, &progressed, &t.LogLocation, &claimed, &t.Objects); err != nil {
			return err
		}
		t.ProgressTimeout = time.Duration(progress)
		t.Status, t.NotBefore, t.LeaseExpires, t.Canceled = store.TaskStatus(status), unixTime(notBefore), unixTime(lease), cancel != 0
		t.CreatedAt, t.UpdatedAt, t.ProgressedAt, t.ClaimedAt = unixTime(c), unixTime(u), unixTime(progressed), unixTime(claimed)
		s.nextTask = max(s.nextTask, seq)
		s.nextChange = max(s.nextChange, t.ChangeSeq)
		if objectsDead(&t) && t.Objects != nil {
			// Their deletion had not been committed yet.
			t.Objects = nil
			s.deadObjects = append(s.deadObjects, seq)
		}
		s.indexTask(&t, seq)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	slices.SortFunc(s.feed, func(a, b feedEntry) int { return cmpInt64(a.seq, b.seq) })
	return nil
}

// objectsDead reports whether no runner can claim t any more, so that
// nothing will read its objects again: it is done, or canceled before a
// runner claimed it. Objects are the bulk of a task (a few KB of JSON), and
// keeping those of every task ever run would grow memory and the database
// file by that much per task for as long as the pipeline exists.
func objectsDead(t *store.Task) bool {
	return t.Status.Done() || (t.Status == store.TaskQueued && t.Canceled)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// indexTask adds a new task to every index; the caller holds s.mu.
func (s *DB) indexTask(t *store.Task, seq int64) *taskRef {
	r := s.run(t.PipelineID)
	ref := &taskRef{t: t, seq: seq, pos: len(r.tasks)}
	r.tasks = append(r.tasks, t) // an append never disturbs what a reader holds
	s.tasks[t.ID] = ref
	s.feed = append(s.feed, feedEntry{t.ChangeSeq, ref})
	switch {
	case t.Status == store.TaskQueued && !t.Canceled:
		topic := store.TaskTopic(t.Account, t.WorkerGroup)
		s.queues[topic] = append(s.queues[topic], ref)
	case t.Status == store.TaskClaimed:
		s.leased[ref] = struct{}{}
	}
	return ref
}

// setTask replaces the snapshot of a task in every index; the caller holds
// s.mu. A snapshot with a new ChangeSeq enters the feed.
func (s *DB) setTask(ref *taskRef, nt *store.Task) {
	old := ref.t
	if objectsDead(nt) && nt.Objects != nil {
		nt.Objects = nil
		s.deadObjects = append(s.deadObjects, ref.seq)
	}
	ref.t = nt
	r := s.runs[nt.PipelineID]
	r.writableTasks()
	r.tasks[ref.pos] = nt
	if nt.ChangeSeq != old.ChangeSeq {
		s.feed = append(s.feed, feedEntry{nt.ChangeSeq, ref})
		s.feedStale++
	}
	if old.Status == store.TaskQueued && !old.Canceled && (nt.Status != store.TaskQueued || nt.Canceled) {
		s.unqueue(ref)
	}
	if nt.Status == store.TaskClaimed {
		s.leased[ref] = struct{}{}
	} else {
		delete(s.leased, ref)
	}
	s.compactFeed()
}

// unqueue removes a task from its claim queue; the caller holds s.mu.
func (s *DB) unqueue(ref *taskRef) {
	topic := store.TaskTopic(ref.t.Account, ref.t.WorkerGroup)
	q := s.queues[topic]
	if i := slices.Index(q, ref); i >= 0 {
		q = slices.Delete(q, i, i+1)
	}
	if len(q) == 0 {
		delete(s.queues, topic)
	} else {
		s.queues[topic] = q
	}
}

// compactFeed drops stale feed entries once they are the majority, which
// keeps the feed within twice the number of tasks at amortised O(1) a change.
func (s *DB) compactFeed() {
	if s.feedStale < 1024 || s.feedStale*2 < len(s.feed) {
		return
	}
	live := s.feed[:0]
	for _, e := range s.feed {
		if e.live() {
			live = append(live, e)
		}
	}
	clear(s.feed[len(live):])
	s.feed, s.feedStale = live, 0
}

// dropTasks forgets the tasks of a deleted pipeline; the caller holds s.mu
// and has already queued the matching DELETE.
func (s *DB) dropTasks(r *run) {
	for _, t := range r.tasks {
		ref := s.tasks[t.ID]
		if ref.t.Status == store.TaskQueued && !ref.t.Canceled {
			s.unqueue(ref)
		}
		delete(s.leased, ref)
		delete(s.tasks, t.ID)
		ref.dropped = true
		s.feedStale++
	}
	s.compactFeed()
}

// newTask returns the stored form of a task to enqueue: queued, with only
// the fields the caller may set.
func newTask(t *store.Task) *store.Task {
	return &store.Task{
		ID: t.ID, Account: t.Account, PipelineID: t.PipelineID, AttemptID: t.AttemptID, InstanceID: t.InstanceID,
		WorkerGroup: t.WorkerGroup, Objects: t.Objects, NotBefore: t.NotBefore.UTC(), Status: store.TaskQueued,
		ProgressTimeout: max(t.ProgressTimeout, 0),
		CreatedAt:       t.CreatedAt.UTC(), UpdatedAt: t.CreatedAt.UTC(),
	}
}

// TaskEnqueue implements [store.Store].
func (s *DB) TaskEnqueue(ctx context.Context, t *store.Task) error {
	s.mu.Lock()
	if _, err := s.lookup(t.Account, t.PipelineID); err != nil {
		s.mu.Unlock()
		return store.ErrNotFound
	}
	if s.tasks[t.ID] != nil {
		s.mu.Unlock()
		return store.ErrConflict
	}
	nt := newTask(t)
	nt.ChangeSeq = s.nextChange + 1
	seqNo := s.nextTask + 1
	seq, err := s.write(taskInserts([]*store.Task{nt}, seqNo)...)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.nextTask, s.nextChange = seqNo, nt.ChangeSeq
	s.indexTask(nt, seqNo)
	s.mu.Unlock()
	// Wake pollers only once the task is durable, so a runner never holds a
	// task that a crash could take back.
	return s.published(ctx, seq, store.TaskTopic(nt.Account, nt.WorkerGroup))
}

// claimable reports whether a task in a claim queue may be claimed at now.
func claimable(t *store.Task, now time.Time) bool { return !t.NotBefore.After(now) }

// TaskClaim implements [store.Store].
func (s *DB) TaskClaim(ctx context.Context, p *store.TaskClaimParams) (*store.Task, error) {
	topic := store.TaskTopic(p.Account, p.WorkerGroup)
	s.mu.Lock()
	var found *taskRef
	// The queue holds only queued, uncanceled tasks, so the scan passes over
	// nothing but retries still waiting for their NotBefore.
	for _, ref := range s.queues[topic] {
		if claimable(ref.t, p.Now) {
			found = ref
			break
		}
	}
	if found == nil {
		s.mu.Unlock()
		return nil, store.ErrNotFound
	}
	nt := *found.t
	nt.Status, nt.LeaseOwner, nt.LeaseExpires, nt.Hostname, nt.UpdatedAt = store.TaskClaimed, p.Owner, p.LeaseUntil.UTC(), p.Hostname, p.Now.UTC()
	nt.ClaimedAt = nt.UpdatedAt
	nt.ChangeSeq = s.nextChange + 1
	seq, err := s.write(stmt{query: `UPDATE tasks SET status = ?, lease_owner = ?, lease_expires = ?, hostname = ?, change_seq = ?, updated_at = ?, claimed_at = ? WHERE seq = ?`,
		args: []any{string(nt.Status), nt.LeaseOwner, unixNano(nt.LeaseExpires), nt.Hostname, nt.ChangeSeq, unixNano(nt.UpdatedAt), unixNano(nt.ClaimedAt), found.seq}})
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.nextChange = nt.ChangeSeq
	s.setTask(found, &nt)
	s.mu.Unlock()
	if err := s.published(ctx, seq, store.SchedulerTopic); err != nil {
		return nil, err
	}
	return &nt, nil
}

// claimed returns the claimed, unfinished task id of account; the caller
// holds s.mu. A task still queued has been handed to no runner, so no
// runner can report on it.
func (s *DB) claimed(account, id string) (*taskRef, error) {
	ref := s.tasks[id]
	if ref == nil || ref.t.Account != account || ref.t.Status != store.TaskClaimed {
		return nil, store.ErrNotFound
	}
	return ref, nil
}

// TaskProgress implements [store.Store].
func (s *DB) TaskProgress(ctx context.Context, p *store.TaskProgressParams) (*store.Task, error) {
	s.mu.Lock()
	ref, err := s.claimed(p.Account, p.ID)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	// Progress is not a change in the feed: it would turn every heartbeat
	// of every runner into work for the scheduler.
	nt := *ref.t
	nt.LeaseExpires, nt.UpdatedAt, nt.ProgressedAt = p.LeaseUntil.UTC(), p.Now.UTC(), p.Now.UTC()
	if nt.ProgressTimeout > 0 {
		nt.LeaseExpires = p.Now.Add(nt.ProgressTimeout).UTC()
	}
	if p.LogLocation != "" {
		nt.LogLocation = p.LogLocation
	}
	seq, err := s.write(stmt{query: `UPDATE tasks SET lease_expires = ?, updated_at = ?, progressed_at = ?, log_location = ? WHERE seq = ?`,
		args: []any{unixNano(nt.LeaseExpires), unixNano(nt.UpdatedAt), unixNano(nt.ProgressedAt), nt.LogLocation, ref.seq}})
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	shortened := nt.LeaseExpires.Before(ref.t.LeaseExpires)
	s.setTask(ref, &nt)
	s.mu.Unlock()
	if shortened {
		// The scheduler plans its next reap from the leases it knows; one
		// that now ends sooner (a progress lease shorter than the
		// acknowledgement's) must be reaped when it ends.
		if err := s.published(ctx, seq, store.SchedulerTopic); err != nil {
			return nil, err
		}
		return &nt, nil
	}
	return &nt, s.observed(ctx, seq)
}

// TaskComplete implements [store.Store].
func (s *DB) TaskComplete(ctx context.Context, p *store.TaskCompleteParams) (*store.Task, error) {
	if !p.Status.Done() || p.Status == store.TaskLost {
		return nil, fmt.Errorf("sqlite: TaskComplete: %q is not a runner's final status", p.Status)
	}
	s.mu.Lock()
	ref, err := s.claimed(p.Account, p.ID)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	nt := *ref.t
	nt.Status, nt.ErrorID, nt.ErrorMessage, nt.ErrorStack, nt.UpdatedAt = p.Status, p.ErrorID, p.ErrorMessage, p.ErrorStack, p.Now.UTC()
	nt.ChangeSeq = s.nextChange + 1
	seq, err := s.write(stmt{query: `UPDATE tasks SET status = ?, error_id = ?, error_message = ?, error_stack = ?, change_seq = ?, updated_at = ? WHERE seq = ?`,
		args: []any{string(nt.Status), nt.ErrorID, nt.ErrorMessage, nt.ErrorStack, nt.ChangeSeq, unixNano(nt.UpdatedAt), ref.seq}})
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.nextChange = nt.ChangeSeq
	s.setTask(ref, &nt)
	s.mu.Unlock()
	if err := s.published(ctx, seq, store.SchedulerTopic); err != nil {
		return nil, err
	}
	return &nt, nil
}

// TaskReap implements [store.Store].
func (s *DB) TaskReap(ctx context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	var expired []*taskRef
	for ref := range s.leased {
		if ref.t.LeaseExpires.Before(now) {
			expired = append(expired, ref)
		}
	}
	if len(expired) == 0 {
		seq := s.c.applied()
		s.mu.Unlock()
		return 0, s.observed(ctx, seq)
	}
	// Queue order, so that the feed shows losses in a reproducible order.
	slices.SortFunc(expired, func(a, b *taskRef) int { return cmpInt64(a.seq, b.seq) })
	lost := make([]*store.Task, len(expired))
	for i, ref := range expired {
		nt := *ref.t
		nt.Status, nt.UpdatedAt, nt.ChangeSeq = store.TaskLost, now.UTC(), s.nextChange+int64(i)+1
		lost[i] = &nt
	}
	seq, err := s.write(stmt{query: `UPDATE tasks SET status = ?, change_seq = ?, updated_at = ? WHERE seq = ?`, n: len(lost),
		fill: func(i int, args []any) []any {
			t := lost[i]
			return append(args, string(t.Status), t.ChangeSeq, unixNano(t.UpdatedAt), expired[i].seq)
		}})
	if err != nil {
		s.mu.Unlock()
		return 0, err
	}
	s.nextChange += int64(len(lost))
	for i, ref := range expired {
		s.setTask(ref, lost[i])
	}
	s.mu.Unlock()
	if err := s.published(ctx, seq, store.SchedulerTopic); err != nil {
		return 0, err
	}
	return len(lost), nil
}

// TaskChanges implements [store.Store].
func (s *DB) TaskChanges(ctx context.Context, after int64, limit int) ([]*store.Task, int64, error) {
	s.mu.RLock()
	i, _ := slices.BinarySearchFunc(s.feed, after+1, func(e feedEntry, seq int64) int { return cmpInt64(e.seq, seq) })
	var out []*store.Task
	last := after
	for _, e := range s.feed[i:] {
		if len(out) >= limit {
			break
		}
		if e.live() {
			out = append(out, e.ref.t)
			last = e.seq
		}
	}
	seq := s.c.applied()
	s.mu.RUnlock()
	return out, last, s.observed(ctx, seq)
}

// TaskNextAvailable implements [store.Store].
func (s *DB) TaskNextAvailable(ctx context.Context, now time.Time) (time.Time, error) {
	s.mu.RLock()
	var next time.Time
	for _, q := range s.queues {
		for _, ref := range q {
			if nb := ref.t.NotBefore; nb.After(now) && (next.IsZero() || nb.Before(next)) {
				next = nb
			}
		}
	}
	seq := s.c.applied()
	s.mu.RUnlock()
	return next, s.observed(ctx, seq)
}

// RunnerHeartbeat implements [store.Store].
func (s *DB) RunnerHeartbeat(ctx context.Context, p *store.RunnerHeartbeatParams) error {
	s.mu.Lock()
	seq, err := s.write(stmt{query: `INSERT INTO runners (account, runner_id, worker_group, hostname, last_seen) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account, runner_id) DO UPDATE SET worker_group = excluded.worker_group,
		hostname = excluded.hostname, last_seen = excluded.last_seen`,
		args: []any{p.Account, p.RunnerID, p.WorkerGroup, p.Hostname, unixNano(p.Now)}})
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.observed(ctx, seq)
}
