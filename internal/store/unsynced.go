package store

import "context"

type unsyncedKey struct{}

// Unsynced returns a context under which a Store's methods need not wait
// for durability: a read may return state that is not durable yet, and a
// write may return once it is applied and ordered, before it is durable.
// What the methods promise about order still holds: a write made after a
// read is ordered after everything that read saw, so a crash can lose the
// tail of what was written but never keep a write and lose what it was
// based on. Wake-ups a write publishes (worker groups, the scheduler,
// alarms) still go out only once it is durable, so no runner is handed
// work a crash could take back.
//
// The scheduler runs under it: its writes follow from its reads, and
// nothing leaves culvert because of them until they are durable, so
// waiting for each of its commits before planning the next step would
// only serialise the planning with the disk. A failed commit is still
// reported, by the call that finds the store failed. A backend whose
// every write is durable when applied (a SQL transaction per method)
// may ignore it.
func Unsynced(ctx context.Context) context.Context {
	return context.WithValue(ctx, unsyncedKey{}, true)
}

// IsUnsynced reports whether ctx came from [Unsynced].
func IsUnsynced(ctx context.Context) bool {
	v, _ := ctx.Value(unsyncedKey{}).(bool)
	return v
}
