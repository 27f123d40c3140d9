package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/culvert/culvert/internal/store"
)

// Leases are rows of the leases table, timed by the database's clock
// (clock_timestamp(), not the transaction's start) so that nodes whose
// clocks disagree agree on who holds one. A lease is live while
// expires_at is after the clock. Fenced writes hold the lease row FOR KEY
// SHARE (see fence): a renewal or a release changes no key column and
// goes ahead of them, while a takeover changes the term, which the
// unique index on (name, term) makes a key, and so waits until every
// fenced write of the old term in flight has committed or rolled back.

const leaseCols = `l.name, l.holder, l.term, l.acquired_at, l.expires_at, clock_timestamp()`

func scanLease(row pgx.Row) (*store.Lease, error) {
	var l store.Lease
	if err := row.Scan(&l.Name, &l.Holder, &l.Term, tsOf{&l.AcquiredAt}, tsOf{&l.Expires}, tsOf{&l.Now}); err != nil {
		return nil, err
	}
	return &l, nil
}

// LeaseAcquire implements [store.Leases].
func (db *DB) LeaseAcquire(ctx context.Context, p *store.LeaseParams) (*store.Lease, error) {
	if p.TTL <= 0 {
		return nil, fmt.Errorf("postgres: LeaseAcquire: TTL %v is not positive", p.TTL)
	}
	ttl := p.TTL.Microseconds()
	for range 3 {
		// A renewal keeps the term and changes no key, so that it need
		// not wait for the holder's own fenced writes.
		l, err := scanLease(db.pool.QueryRow(ctx, `UPDATE leases AS l SET expires_at = clock_timestamp() + $3 * interval '1 microsecond'
			WHERE name = $1 AND holder = $2 AND expires_at > clock_timestamp() RETURNING `+leaseCols, p.Name, p.Holder, ttl))
		if err = translate(err); !errors.Is(err, store.ErrNotFound) {
			return l, failed(ctx, err)
		}
		// A new lease, or one that lapsed, whoever held it: the next
		// term. The clock is read once, before any wait for the row, so
		// that a lease that lapsed only during the wait is taken on the
		// next try rather than this one.
		l, err = scanLease(db.pool.QueryRow(ctx, `INSERT INTO leases AS l (name, holder, term, acquired_at, expires_at)
			SELECT $1, $2, 1, c.now, c.now + $3 * interval '1 microsecond' FROM (SELECT clock_timestamp() AS now) c
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, term = l.term + 1,
				acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
			WHERE l.expires_at <= excluded.acquired_at
			RETURNING `+leaseCols, p.Name, p.Holder, ttl))
		if err = translate(err); !errors.Is(err, store.ErrNotFound) {
			return l, failed(ctx, err)
		}
		cur, err := db.LeaseGet(ctx, p.Name)
		if err != nil {
			return nil, err
		}
		if cur.Holder != p.Holder && cur.Expires.After(cur.Now) {
			return cur, store.ErrConflict
		}
		// The lease changed hands between the statements: look again.
	}
	return nil, fmt.Errorf("postgres: LeaseAcquire(%s): %w: the lease keeps changing hands", p.Name, store.ErrConflict)
}

// LeaseRelease implements [store.Leases]: the lease lapses now, keeping
// its holder and term, so that the next holder's term is a new one.
func (db *DB) LeaseRelease(ctx context.Context, name, holder string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE leases SET expires_at = clock_timestamp()
		WHERE name = $1 AND holder = $2 AND expires_at > clock_timestamp()`, name, holder)
	if err != nil {
		return failed(ctx, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// LeaseGet implements [store.Leases].
func (db *DB) LeaseGet(ctx context.Context, name string) (*store.Lease, error) {
	l, err := scanLease(db.pool.QueryRow(ctx, `SELECT `+leaseCols+` FROM leases l WHERE name = $1`, name))
	if err != nil {
		return nil, failed(ctx, err)
	}
	return l, nil
}
