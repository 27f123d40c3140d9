package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// lookup returns the live pipeline id of account; the caller holds s.mu.
// A pipeline of another account is reported exactly like a missing one.
func (s *DB) lookup(account, id string) (*store.Pipeline, error) {
	p := s.pipelines[id]
	if p == nil || p.Account != account {
		return nil, store.ErrNotFound
	}
	if s.deleted[id] {
		return nil, store.ErrDeleted
	}
	return p, nil
}

// PipelineCreate implements [store.Store].
func (s *DB) PipelineCreate(ctx context.Context, p *store.PipelineCreateParams) (*store.Pipeline, bool, error) {
	s.mu.Lock()
	a := s.account(p.Account)
	if existing := a.idem[idemKey{p.Name, p.UniqueID}]; existing != nil {
		seq := s.c.applied()
		s.mu.Unlock()
		return existing, false, s.observed(ctx, seq)
	}
	if s.pipelines[p.ID] != nil {
		s.mu.Unlock()
		return nil, false, store.ErrConflict
	}
	tags, err := json.Marshal(nonNilSlice(p.Tags))
	if err != nil {
		s.mu.Unlock()
		return nil, false, err
	}
	np := &store.Pipeline{
		Seq: s.nextSeq + 1, Account: p.Account, ID: p.ID, Name: p.Name, UniqueID: p.UniqueID,
		Description: p.Description, Creator: p.Creator, Tags: append([]pipeline.Tag(nil), p.Tags...), State: pipeline.StatePending, CreatedAt: p.Now.UTC(),
	}
	seq, err := s.write(stmt{query: `INSERT INTO pipelines (seq, id, account, name, unique_id, description, creator, tags, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		args: []any{np.Seq, np.ID, np.Account, np.Name, np.UniqueID, np.Description, np.Creator, string(tags), string(np.State), unixNano(np.CreatedAt)}})
	if err != nil {
		s.mu.Unlock()
		return nil, false, err
	}
	s.nextSeq = np.Seq
	s.pipelines[np.ID] = np
	a.live = append(a.live, np)
	a.idem[idemKey{np.Name, np.UniqueID}] = np
	s.mu.Unlock()
	return np, true, s.observed(ctx, seq)
}

func nonNilSlice[T any](t []T) []T {
	if t == nil {
		return []T{}
	}
	return t
}

// PipelineGet implements [store.Store].
func (s *DB) PipelineGet(ctx context.Context, account, id string) (*store.Pipeline, error) {
	s.mu.RLock()
	p, err := s.lookup(account, id)
	seq := s.c.applied()
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	return p, s.observed(ctx, seq)
}

// PipelineList implements [store.Store].
func (s *DB) PipelineList(ctx context.Context, account string, afterSeq int64, limit int) ([]store.PipelineSummary, bool, error) {
	s.mu.RLock()
	var live []*store.Pipeline
	if a := s.accounts[account]; a != nil {
		live = a.live
	}
	i := sort.Search(len(live), func(i int) bool { return live[i].Seq > afterSeq })
	end := min(len(live), i+max(limit, 0))
	out := make([]store.PipelineSummary, 0, end-i)
	for _, p := range live[i:end] {
		out = append(out, store.PipelineSummary{Seq: p.Seq, ID: p.ID, Name: p.Name})
	}
	more := end < len(live)
	seq := s.c.applied()
	s.mu.RUnlock()
	return out, more, s.observed(ctx, seq)
}

// PipelineUpdate implements [store.Store].
func (s *DB) PipelineUpdate(ctx context.Context, account, id string, fn func(*store.Pipeline) error) (*store.Pipeline, error) {
	s.mu.Lock()
	old, err := s.lookup(account, id)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	np := *old
	np.Tags = append([]pipeline.Tag(nil), old.Tags...)
	np.Paused = append([]string(nil), old.Paused...)
	if err := fn(&np); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	// Identity is not the caller's to change.
	np.Seq, np.Account, np.ID, np.Name, np.UniqueID, np.Creator, np.CreatedAt = old.Seq, old.Account, old.ID, old.Name, old.UniqueID, old.Creator, old.CreatedAt
	if np.Active != nil && np.Active != old.Active && np.Active != np.Latest {
		s.mu.Unlock()
		return nil, errors.New("sqlite: PipelineUpdate: Active may only become the Latest version")
	}
	tags, err := json.Marshal(nonNilSlice(np.Tags))
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	paused, err := json.Marshal(nonNilSlice(np.Paused))
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	var stmts []stmt
	// A new version is a Definition the store has not seen: setting Latest
	// back to the Active version reuses that version as it is.
	if np.Latest != old.Latest && np.Latest != nil && np.Latest != old.Active {
		np.Latest.Version = s.versions[np.ID] + 1
		stmts = append(stmts, stmt{query: `INSERT INTO definitions (pipeline_id, version, doc, errored, put_at) VALUES (?, ?, ?, ?, ?)`,
			args: []any{np.ID, np.Latest.Version, nonNilSlice(np.Latest.Doc), boolInt(np.Latest.Errored), unixNano(np.Latest.PutAt)}})
	}
	lastVersion := s.versions[np.ID]
	if np.Latest != nil {
		lastVersion = max(lastVersion, np.Latest.Version)
	}
	stmts = append(stmts, stmt{query: `UPDATE pipelines SET description = ?, tags = ?, paused = ?, state = ?, first_activated_at = ?,
		last_activated_at = ?, last_deactivated_at = ?, latest_version = ?, active_version = ?, last_version = ?,
		activation_start = ?, cancel_active = ? WHERE id = ?`,
		args: []any{np.Description, string(tags), string(paused), string(np.State), unixNano(np.FirstActivatedAt), unixNano(np.LastActivatedAt),
			unixNano(np.LastDeactivatedAt), version(np.Latest), version(np.Active), lastVersion,
			unixNano(np.ActivationStart), boolInt(np.CancelActive), np.ID}})
	if np.Latest != old.Latest || np.Active != old.Active {
		// Keep only the versions the pipeline still points at.
		stmts = append(stmts, stmt{query: `DELETE FROM definitions WHERE pipeline_id = ? AND version NOT IN (?, ?)`,
			args: []any{np.ID, versionOr(np.Latest), versionOr(np.Active)}})
	}
	seq, err := s.write(stmts...)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.replace(old, &np)
	s.versions[np.ID] = lastVersion
	s.mu.Unlock()
	if err := s.published(ctx, seq, store.SchedulerTopic); err != nil {
		return nil, err
	}
	return &np, nil
}

// replace swaps the snapshot of a live pipeline in every index.
func (s *DB) replace(old, np *store.Pipeline) {
	s.pipelines[np.ID] = np
	a := s.accounts[np.Account]
	a.idem[idemKey{np.Name, np.UniqueID}] = np
	i := sort.Search(len(a.live), func(i int) bool { return a.live[i].Seq >= np.Seq })
	if i < len(a.live) && a.live[i] == old {
		a.live[i] = np
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func version(d *store.Definition) any {
	if d == nil {
		return nil
	}
	return d.Version
}

func versionOr(d *store.Definition) int64 {
	if d == nil {
		return -1
	}
	return d.Version
}

// PipelineDelete implements [store.Store].
func (s *DB) PipelineDelete(ctx context.Context, account, id string, now time.Time) error {
	s.mu.Lock()
	old, err := s.lookup(account, id)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	// Tasks are found by queue position (the table has no other index),
	// which only memory knows.
	var taskSeqs []int64
	if r := s.runs[id]; r != nil {
		for _, t := range r.tasks {
			taskSeqs = append(taskSeqs, s.tasks[t.ID].seq)
		}
	}
	stmts := []stmt{
		{query: `UPDATE pipelines SET deleted_at = ?, tags = '[]', paused = '[]', latest_version = NULL, active_version = NULL WHERE id = ?`,
			args: []any{unixNano(now), id}},
		{query: `DELETE FROM definitions WHERE pipeline_id = ?`, args: []any{id}},
	}
	stmts = append(stmts, taskDeletes(taskSeqs)...)
	stmts = append(stmts,
		stmt{query: `DELETE FROM instances WHERE pipeline_id = ?`, args: []any{id}},
		stmt{query: `DELETE FROM attempts WHERE pipeline_id = ?`, args: []any{id}},
		stmt{query: `DELETE FROM commands WHERE pipeline_id = ?`, args: []any{id}},
		// The deleted tasks may hold the highest ChangeSeq; a reopened
		// store must not issue it again.
		counterStmt("change_seq", s.nextChange),
	)
	seq, err := s.write(stmts...)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	tomb := &store.Pipeline{Seq: old.Seq, Account: old.Account, ID: old.ID, Name: old.Name, UniqueID: old.UniqueID, CreatedAt: old.CreatedAt}
	s.pipelines[id] = tomb
	s.deleted[id] = true
	a := s.accounts[account]
	if a.idem[idemKey{old.Name, old.UniqueID}] == old {
		delete(a.idem, idemKey{old.Name, old.UniqueID})
	}
	i := sort.Search(len(a.live), func(i int) bool { return a.live[i].Seq >= old.Seq })
	if i < len(a.live) && a.live[i] == old {
		a.live = append(a.live[:i:i], a.live[i+1:]...)
	}
	if r := s.runs[id]; r != nil {
		s.dropTasks(r)
		delete(s.runs, id)
	}
	delete(s.summaryPending, id)
	delete(s.summaryWritten, id)
	s.mu.Unlock()
	if err := s.published(ctx, seq, store.SchedulerTopic); err != nil {
		return err
	}
	return nil
}
