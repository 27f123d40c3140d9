package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/culvert/culvert/internal/store"
)

func (s *DB) loadTasks(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, seq, account, pipeline_id, attempt_id, worker_group, objects, status,
		lease_owner, lease_expires, canceled, error_id, error_message, error_stack, created_at, updated_at
		FROM tasks ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			t                        store.Task
			seq, lease, cancel, c, u int64
			status                   string
		)
		if err := rows.Scan(&t.ID, &seq, &t.Account, &t.PipelineID, &t.AttemptID, &t.WorkerGroup, &t.Objects, &status,
			&t.LeaseOwner, &lease, &cancel, &t.ErrorID, &t.ErrorMessage, &t.ErrorStack, &c, &u); err != nil {
			return err
		}
		t.Status, t.LeaseExpires, t.Canceled, t.CreatedAt, t.UpdatedAt = store.TaskStatus(status), unixTime(lease), cancel != 0, unixTime(c), unixTime(u)
		s.nextTask = max(s.nextTask, seq)
		tp := &t
		s.tasks[t.ID] = tp
		if !t.Status.Done() {
			topic := store.TaskTopic(t.Account, t.WorkerGroup)
			s.queues[topic] = append(s.queues[topic], tp)
		}
	}
	return rows.Err()
}

// dropTasks forgets the tasks of a deleted pipeline; the caller holds s.mu
// and has already queued the matching DELETE.
func (s *DB) dropTasks(pipelineID string) {
	for id, t := range s.tasks {
		if t.PipelineID != pipelineID {
			continue
		}
		delete(s.tasks, id)
		topic := store.TaskTopic(t.Account, t.WorkerGroup)
		q := s.queues[topic]
		for i, qt := range q {
			if qt.ID == id {
				s.queues[topic] = append(q[:i:i], q[i+1:]...)
				break
			}
		}
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
	nt := *t
	nt.Status = store.TaskQueued
	nt.LeaseOwner, nt.LeaseExpires, nt.UpdatedAt = "", time.Time{}, nt.CreatedAt
	// The INSERT below does not write these; memory must match the row.
	nt.Canceled, nt.ErrorID, nt.ErrorMessage, nt.ErrorStack = false, "", "", ""
	seqNo := s.nextTask + 1
	seq, err := s.write(stmt{`INSERT INTO tasks (id, seq, account, pipeline_id, attempt_id, worker_group, objects, status,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		[]any{nt.ID, seqNo, nt.Account, nt.PipelineID, nt.AttemptID, nt.WorkerGroup, nonNilSlice(nt.Objects), string(nt.Status),
			unixNano(nt.CreatedAt), unixNano(nt.UpdatedAt)}})
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.nextTask = seqNo
	s.tasks[nt.ID] = &nt
	topic := store.TaskTopic(nt.Account, nt.WorkerGroup)
	s.queues[topic] = append(s.queues[topic], &nt)
	s.mu.Unlock()
	if err := s.observed(ctx, seq); err != nil {
		return err
	}
	// Wake pollers only once the task is durable, so a runner never holds a
	// task that a crash could take back.
	s.notifier.Publish(topic)
	return nil
}

// TaskClaim implements [store.Store].
func (s *DB) TaskClaim(ctx context.Context, p *store.TaskClaimParams) (*store.Task, error) {
	topic := store.TaskTopic(p.Account, p.WorkerGroup)
	s.mu.Lock()
	var found *store.Task
	for _, t := range s.queues[topic] {
		if t.Status == store.TaskQueued || t.Status == store.TaskClaimed && t.LeaseExpires.Before(p.Now) {
			found = t
			break
		}
	}
	if found == nil {
		s.mu.Unlock()
		return nil, store.ErrNotFound
	}
	nt := *found
	nt.Status, nt.LeaseOwner, nt.LeaseExpires, nt.UpdatedAt = store.TaskClaimed, p.Owner, p.LeaseUntil, p.Now
	seq, err := s.write(stmt{`UPDATE tasks SET status = ?, lease_owner = ?, lease_expires = ?, updated_at = ? WHERE id = ?`,
		[]any{string(nt.Status), nt.LeaseOwner, unixNano(nt.LeaseExpires), unixNano(nt.UpdatedAt), nt.ID}})
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.swapTask(found, &nt)
	s.mu.Unlock()
	return &nt, s.observed(ctx, seq)
}

// swapTask replaces a task snapshot in every index; the caller holds s.mu.
func (s *DB) swapTask(old, nt *store.Task) {
	s.tasks[nt.ID] = nt
	topic := store.TaskTopic(nt.Account, nt.WorkerGroup)
	q := s.queues[topic]
	for i, t := range q {
		if t == old {
			if nt.Status.Done() {
				s.queues[topic] = append(q[:i:i], q[i+1:]...)
			} else {
				q[i] = nt
			}
			break
		}
	}
}

// claimed returns the claimed, unfinished task id of account; the caller
// holds s.mu. A task still queued has been handed to no runner, so no
// runner can report on it.
func (s *DB) claimed(account, id string) (*store.Task, error) {
	t := s.tasks[id]
	if t == nil || t.Account != account || t.Status != store.TaskClaimed {
		return nil, store.ErrNotFound
	}
	return t, nil
}

// TaskProgress implements [store.Store].
func (s *DB) TaskProgress(ctx context.Context, p *store.TaskProgressParams) (*store.Task, error) {
	s.mu.Lock()
	old, err := s.claimed(p.Account, p.ID)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	nt := *old
	nt.LeaseExpires, nt.UpdatedAt = p.LeaseUntil, p.Now
	seq, err := s.write(stmt{`UPDATE tasks SET lease_expires = ?, updated_at = ? WHERE id = ?`,
		[]any{unixNano(nt.LeaseExpires), unixNano(nt.UpdatedAt), nt.ID}})
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.swapTask(old, &nt)
	s.mu.Unlock()
	return &nt, s.observed(ctx, seq)
}

// TaskComplete implements [store.Store].
func (s *DB) TaskComplete(ctx context.Context, p *store.TaskCompleteParams) (*store.Task, error) {
	if !p.Status.Done() {
		return nil, fmt.Errorf("sqlite: TaskComplete: %q is not a final status", p.Status)
	}
	s.mu.Lock()
	old, err := s.claimed(p.Account, p.ID)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	nt := *old
	nt.Status, nt.ErrorID, nt.ErrorMessage, nt.ErrorStack, nt.UpdatedAt = p.Status, p.ErrorID, p.ErrorMessage, p.ErrorStack, p.Now
	seq, err := s.write(stmt{`UPDATE tasks SET status = ?, error_id = ?, error_message = ?, error_stack = ?, updated_at = ? WHERE id = ?`,
		[]any{string(nt.Status), nt.ErrorID, nt.ErrorMessage, nt.ErrorStack, unixNano(nt.UpdatedAt), nt.ID}})
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.swapTask(old, &nt)
	s.mu.Unlock()
	return &nt, s.observed(ctx, seq)
}

// RunnerHeartbeat implements [store.Store].
func (s *DB) RunnerHeartbeat(ctx context.Context, p *store.RunnerHeartbeatParams) error {
	s.mu.Lock()
	seq, err := s.write(stmt{`INSERT INTO runners (account, runner_id, worker_group, hostname, last_seen) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account, runner_id) DO UPDATE SET worker_group = excluded.worker_group,
		hostname = excluded.hostname, last_seen = excluded.last_seen`,
		[]any{p.Account, p.RunnerID, p.WorkerGroup, p.Hostname, unixNano(p.Now)}})
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.observed(ctx, seq)
}
