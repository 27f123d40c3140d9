package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// defCache keeps the definition versions pipelines point at. A version
// never changes and its number is never reused, so a cached one is right
// for every node; keeping it spares sending its document again and lets
// callers' Derive results (decoded, compiled definitions) live across
// calls, as they do with the SQLite store.
type defCache struct {
	mu  sync.Mutex
	by  map[string]map[int64]*store.Definition // pipeline id → version → definition
	max int                                    // pipelines kept
}

func newDefCache() *defCache {
	return &defCache{by: map[string]map[int64]*store.Definition{}, max: 1024}
}

func defKey(pipelineID string, version int64) string {
	return pipelineID + ":" + strconv.FormatInt(version, 10)
}

// snapshot returns the cached versions of pipelineID, or of every
// pipeline when pipelineID is empty, as the keys a query skips the
// documents of (see pipelineSelect) and as a map to take them from.
func (c *defCache) snapshot(pipelineID string) ([]string, map[string]*store.Definition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := []string{}
	defs := map[string]*store.Definition{}
	add := func(pid string, vs map[int64]*store.Definition) {
		for v, d := range vs {
			k := defKey(pid, v)
			keys = append(keys, k)
			defs[k] = d
		}
	}
	if pipelineID != "" {
		add(pipelineID, c.by[pipelineID])
		return keys, defs
	}
	for pid, vs := range c.by {
		add(pid, vs)
	}
	return keys, defs
}

// keep makes the given versions (nil ones skipped) the cached ones of a
// pipeline; nothing, for a deleted one.
func (c *defCache) keep(pipelineID string, ds ...*store.Definition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	vs := map[int64]*store.Definition{}
	for _, d := range ds {
		if d != nil {
			vs[d.Version] = d
		}
	}
	if len(vs) == 0 {
		delete(c.by, pipelineID)
		return
	}
	if _, ok := c.by[pipelineID]; !ok && len(c.by) >= c.max {
		for pid := range c.by { // any one: a miss costs one document
			delete(c.by, pid)
			break
		}
	}
	c.by[pipelineID] = vs
}

// pipelineSelect reads pipelines with their latest and active versions;
// $1 lists the cached versions (defKey) whose documents it need not send.
// The active version is joined only when it is not the latest.
const pipelineSelect = `SELECT p.seq, p.id, p.account, p.name, p.unique_id, p.description, p.creator, p.tags, p.paused,
	p.state, p.created_at, p.first_activated_at, p.last_activated_at, p.last_deactivated_at, p.activation_start,
	p.cancel_active, p.run_summary, p.deleted, p.latest_version, p.active_version, p.last_version,
	l.version, CASE WHEN NOT p.id || ':' || l.version = ANY ($1::text[]) THEN l.doc END, l.errored, l.put_at,
	a.version, CASE WHEN NOT p.id || ':' || a.version = ANY ($1::text[]) THEN a.doc END, a.errored, a.put_at
FROM pipelines p
LEFT JOIN definitions l ON l.pipeline_id = p.id AND l.version = p.latest_version
LEFT JOIN definitions a ON a.pipeline_id = p.id AND a.version = p.active_version AND p.active_version IS DISTINCT FROM p.latest_version `

// pipelineRow is a row of pipelineSelect.
type pipelineRow struct {
	p                      store.Pipeline
	tags, summary          []byte
	state                  string
	deleted                bool
	latestV, activeV       *int64
	lastVersion            int64
	defs                   [2]defRow // latest, active
	created, fa, la, ld, s time.Time
}

type defRow struct {
	version *int64
	doc     []byte
	errored *bool
	putAt   time.Time
}

func (r *pipelineRow) dest() []any {
	return []any{&r.p.Seq, &r.p.ID, &r.p.Account, &r.p.Name, &r.p.UniqueID, &r.p.Description, &r.p.Creator, &r.tags, &r.p.Paused,
		&r.state, tsOf{&r.created}, tsOf{&r.fa}, tsOf{&r.la}, tsOf{&r.ld}, tsOf{&r.s},
		&r.p.CancelActive, &r.summary, &r.deleted, &r.latestV, &r.activeV, &r.lastVersion,
		&r.defs[0].version, &r.defs[0].doc, &r.defs[0].errored, tsOf{&r.defs[0].putAt},
		&r.defs[1].version, &r.defs[1].doc, &r.defs[1].errored, tsOf{&r.defs[1].putAt}}
}

// pipeline builds the pipeline of a row, its definitions from cached
// when the query left their documents out, and caches them.
func (db *DB) pipeline(r *pipelineRow, cached map[string]*store.Definition) (*store.Pipeline, error) {
	p := r.p
	p.State = pipeline.State(r.state)
	p.CreatedAt, p.FirstActivatedAt, p.LastActivatedAt, p.LastDeactivatedAt, p.ActivationStart = r.created, r.fa, r.la, r.ld, r.s
	if err := json.Unmarshal(r.tags, &p.Tags); err != nil {
		return nil, fmt.Errorf("postgres: pipeline %s: tags: %w", p.ID, err)
	}
	if len(p.Tags) == 0 {
		p.Tags = nil
	}
	if len(p.Paused) == 0 {
		p.Paused = nil
	}
	if r.summary != nil {
		p.Summary = &pipeline.RunSummary{}
		if err := json.Unmarshal(r.summary, p.Summary); err != nil {
			return nil, fmt.Errorf("postgres: pipeline %s: run summary: %w", p.ID, err)
		}
	}
	def := func(d *defRow) *store.Definition {
		if d.version == nil {
			return nil
		}
		if c := cached[defKey(p.ID, *d.version)]; c != nil {
			return c
		}
		return &store.Definition{Version: *d.version, Doc: nonNil(d.doc), Errored: d.errored != nil && *d.errored, PutAt: d.putAt}
	}
	p.Latest = def(&r.defs[0])
	p.Active = def(&r.defs[1])
	if r.activeV != nil && r.latestV != nil && *r.activeV == *r.latestV {
		p.Active = p.Latest
	}
	if r.deleted {
		db.defs.keep(p.ID)
	} else {
		db.defs.keep(p.ID, p.Latest, p.Active)
	}
	return &p, nil
}

// loaded is a pipeline as queryPipelines read it.
type loaded struct {
	*store.Pipeline
	deleted     bool
	lastVersion int64 // the highest version ever issued
}

// queryPipelines runs pipelineSelect with the conditions that follow it
// in tail, on q, or on the pool if q is nil; args are $2 and on. cacheFor
// names the pipeline whose cached versions to use, or "" for all.
func (db *DB) queryPipelines(ctx context.Context, q pgx.Tx, cacheFor, tail string, args ...any) ([]loaded, error) {
	keys, cached := db.defs.snapshot(cacheFor)
	args = append([]any{keys}, args...)
	var (
		rows pgx.Rows
		err  error
	)
	if q != nil {
		rows, err = q.Query(ctx, pipelineSelect+tail, args...)
	} else {
		rows, err = db.pool.Query(ctx, pipelineSelect+tail, args...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []loaded
	for rows.Next() {
		var r pipelineRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		p, err := db.pipeline(&r, cached)
		if err != nil {
			return nil, err
		}
		out = append(out, loaded{p, r.deleted, r.lastVersion})
	}
	return out, rows.Err()
}

// getPipeline reads one pipeline of account, returning ErrNotFound if the
// account has none with that id and ErrDeleted if it was deleted. lock,
// if not empty, is a row-lock clause for the pipeline's row.
func (db *DB) getPipeline(ctx context.Context, q pgx.Tx, account, id, lock string) (loaded, error) {
	ps, err := db.queryPipelines(ctx, q, id, `WHERE p.id = $2 AND p.account = $3 `+lock, id, account)
	switch {
	case err != nil:
		return loaded{}, err
	case len(ps) == 0:
		return loaded{}, store.ErrNotFound
	case ps[0].deleted:
		return loaded{}, store.ErrDeleted
	}
	return ps[0], nil
}

// lockPipeline locks the row of a live pipeline of account with lock (a
// row-lock clause), returning ErrNotFound or ErrDeleted as PipelineGet.
func lockPipeline(ctx context.Context, tx pgx.Tx, account, id, lock string) error {
	var deleted bool
	if err := tx.QueryRow(ctx, `SELECT deleted FROM pipelines WHERE id = $1 AND account = $2 `+lock, id, account).Scan(&deleted); err != nil {
		return err // no row: ErrNotFound, by translate
	}
	if deleted {
		return store.ErrDeleted
	}
	return nil
}

// PipelineCreate implements [store.Store].
func (db *DB) PipelineCreate(ctx context.Context, p *store.PipelineCreateParams) (*store.Pipeline, bool, error) {
	tags, err := json.Marshal(nonNil(p.Tags))
	if err != nil {
		return nil, false, fmt.Errorf("postgres: PipelineCreate: tags: %w", err)
	}
	var (
		out     *store.Pipeline
		created bool
	)
	err = db.write(ctx, func(tx *wtx) error {
		var seq int64
		// The idempotency key is checked by the insert itself: a
		// concurrent create with the same key makes it wait, then do
		// nothing, and the pipeline that won is read below.
		err := translate(tx.QueryRow(ctx, `INSERT INTO pipelines (id, account, name, unique_id, description, creator, tags, state, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (account, name, unique_id) WHERE NOT deleted DO NOTHING RETURNING seq`,
			p.ID, p.Account, p.Name, p.UniqueID, p.Description, p.Creator, tags, string(pipeline.StatePending), ts(p.Now)).Scan(&seq))
		if errors.Is(err, store.ErrNotFound) {
			ps, err := db.queryPipelines(ctx, tx.tx, "", `WHERE p.account = $2 AND p.name = $3 AND p.unique_id = $4 AND NOT p.deleted`,
				p.Account, p.Name, p.UniqueID)
			if err != nil {
				return err
			}
			if len(ps) == 0 {
				return errRetry // deleted since the insert saw it
			}
			out, created = ps[0].Pipeline, false
			return nil
		}
		if err != nil {
			return err
		}
		out = &store.Pipeline{
			Seq: seq, Account: p.Account, ID: p.ID, Name: p.Name, UniqueID: p.UniqueID, Description: p.Description,
			Creator: p.Creator, Tags: append([]pipeline.Tag(nil), p.Tags...), State: pipeline.StatePending, CreatedAt: utc(p.Now),
		}
		created = true
		return nil
	})
	if err != nil {
		return nil, false, failed(ctx, err)
	}
	return out, created, nil
}

// PipelineGet implements [store.Store].
func (db *DB) PipelineGet(ctx context.Context, account, id string) (*store.Pipeline, error) {
	p, err := db.getPipeline(ctx, nil, account, id, "")
	if err != nil {
		return nil, failed(ctx, err)
	}
	return p.Pipeline, nil
}

// PipelineList implements [store.Store].
func (db *DB) PipelineList(ctx context.Context, account string, afterSeq int64, limit int) ([]store.PipelineSummary, bool, error) {
	limit = max(limit, 0)
	rows, err := db.pool.Query(ctx, `SELECT seq, id, name FROM pipelines
		WHERE account = $1 AND NOT deleted AND seq > $2 ORDER BY seq LIMIT $3`, account, afterSeq, limit+1)
	if err != nil {
		return nil, false, failed(ctx, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.PipelineSummary, error) {
		var s store.PipelineSummary
		return s, r.Scan(&s.Seq, &s.ID, &s.Name)
	})
	if err != nil {
		return nil, false, failed(ctx, err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// PipelinesRunning implements [store.Store].
func (db *DB) PipelinesRunning(ctx context.Context) ([]*store.Pipeline, error) {
	ps, err := db.queryPipelines(ctx, nil, "", `WHERE NOT p.deleted AND p.state IN ('SCHEDULED', 'DEACTIVATING') ORDER BY p.seq`)
	if err != nil {
		return nil, failed(ctx, err)
	}
	out := make([]*store.Pipeline, len(ps))
	for i, p := range ps {
		out[i] = p.Pipeline
	}
	return out, nil
}

// PipelineUpdate implements [store.Store].
func (db *DB) PipelineUpdate(ctx context.Context, account, id string, fn func(*store.Pipeline) error) (*store.Pipeline, error) {
	var (
		out   *store.Pipeline
		fnErr error
	)
	err := db.write(ctx, func(tx *wtx) error {
		got, err := db.getPipeline(ctx, tx.tx, account, id, `FOR NO KEY UPDATE OF p`)
		if err != nil {
			return err
		}
		old, lastVersion := got.Pipeline, got.lastVersion
		np := *old
		np.Tags = append([]pipeline.Tag(nil), old.Tags...)
		np.Paused = append([]string(nil), old.Paused...)
		if fnErr = fn(&np); fnErr != nil {
			return fnErr
		}
		// Identity is not the caller's to change.
		np.Seq, np.Account, np.ID, np.Name, np.UniqueID, np.Creator, np.CreatedAt = old.Seq, old.Account, old.ID, old.Name, old.UniqueID, old.Creator, old.CreatedAt
		np.Summary = old.Summary
		if np.Active != nil && np.Active != old.Active && np.Active != np.Latest {
			return errors.New("postgres: PipelineUpdate: Active may only become the Latest version")
		}
		// A new version is a Definition the store has not handed out:
		// setting Latest back to the Active version reuses it as it is.
		if np.Latest != old.Latest && np.Latest != nil && np.Latest != old.Active {
			given := np.Latest
			lastVersion++
			nd := &store.Definition{Version: lastVersion, Doc: nonNil(given.Doc), Errored: given.Errored, PutAt: utc(given.PutAt)}
			if np.Active == given {
				np.Active = nd
			}
			np.Latest = nd
			if _, err := tx.Exec(ctx, `INSERT INTO definitions (pipeline_id, version, doc, errored, put_at) VALUES ($1, $2, $3, $4, $5)`,
				id, nd.Version, nd.Doc, nd.Errored, ts(nd.PutAt)); err != nil {
				return err
			}
		}
		np.FirstActivatedAt, np.LastActivatedAt, np.LastDeactivatedAt = utc(np.FirstActivatedAt), utc(np.LastActivatedAt), utc(np.LastDeactivatedAt)
		np.ActivationStart = utc(np.ActivationStart)
		tags, err := json.Marshal(nonNil(np.Tags))
		if err != nil {
			return fmt.Errorf("postgres: PipelineUpdate: tags: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE pipelines SET description = $2, tags = $3, paused = $4, state = $5,
			first_activated_at = $6, last_activated_at = $7, last_deactivated_at = $8, activation_start = $9, cancel_active = $10,
			latest_version = $11, active_version = $12, last_version = $13 WHERE id = $1`,
			id, np.Description, tags, nonNil(np.Paused), string(np.State), ts(np.FirstActivatedAt), ts(np.LastActivatedAt),
			ts(np.LastDeactivatedAt), ts(np.ActivationStart), np.CancelActive, version(np.Latest), version(np.Active), lastVersion); err != nil {
			return err
		}
		if np.Latest != old.Latest || np.Active != old.Active {
			// Keep only the versions the pipeline still points at.
			if _, err := tx.Exec(ctx, `DELETE FROM definitions WHERE pipeline_id = $1 AND version <> ALL ($2::bigint[])`,
				id, pointedAt(np.Latest, np.Active)); err != nil {
				return err
			}
		}
		tx.wake(store.SchedulerTopic)
		out = &np
		return nil
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, failed(ctx, err)
	}
	db.defs.keep(id, out.Latest, out.Active)
	return out, nil
}

func version(d *store.Definition) any {
	if d == nil {
		return nil
	}
	return d.Version
}

func pointedAt(ds ...*store.Definition) []int64 {
	out := []int64{}
	for _, d := range ds {
		if d != nil {
			out = append(out, d.Version)
		}
	}
	return out
}

// PipelineDelete implements [store.Store].
func (db *DB) PipelineDelete(ctx context.Context, account, id string, now time.Time) error {
	err := db.write(ctx, func(tx *wtx) error {
		// FOR UPDATE: the lock that a concurrent TaskEnqueue or
		// RunCommandAdd (FOR KEY SHARE) waits for, so that none adds a
		// row to a pipeline once it is deleted.
		if err := lockPipeline(ctx, tx.tx, account, id, `FOR UPDATE`); err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE pipelines SET deleted = true, deleted_at = $2, tags = '[]', paused = '{}', latest_version = NULL,
			active_version = NULL, run_summary = NULL WHERE id = $1`, id, ts(now))
		for _, table := range []string{"definitions", "tasks", "instances", "attempts", "commands"} {
			b.Queue(`DELETE FROM `+table+` WHERE pipeline_id = $1`, id)
		}
		if err := tx.tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		tx.wake(store.SchedulerTopic)
		return nil
	})
	if err != nil {
		return failed(ctx, err)
	}
	db.defs.keep(id)
	return nil
}
