package sqlite

import (
	"context"
	"time"
)

// TaskLeaseNext implements [store.Store].
func (s *DB) TaskLeaseNext(ctx context.Context) (time.Time, error) {
	s.mu.RLock()
	var next time.Time
	for ref := range s.leased {
		if le := ref.t.LeaseExpires; next.IsZero() || le.Before(next) {
			next = le
		}
	}
	seq := s.c.applied()
	s.mu.RUnlock()
	return next, s.observed(ctx, seq)
}
