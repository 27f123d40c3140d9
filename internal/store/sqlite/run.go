package sqlite

import (
	"cmp"
	"slices"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// run is what the store holds about one pipeline's run. Its slices are
// handed to RunLoad callers as they are, so a slice that was handed out
// (shared) is copied before anything in it is overwritten or moved;
// appending is always safe, since a reader never looks past its length.
// A year-long backfill of ten activities is 350,400 instances, so an
// instance costs its snapshot, one pointer here and one map entry.
type run struct {
	instances []*pipeline.Instance // by (ScheduledStart, ID)
	byID      map[string]*pipeline.Instance
	attempts  []*pipeline.Attempt // by ID
	tasks     []*store.Task       // queue order; taskRef.pos indexes it
	commands  []*store.RunCommand // by Seq

	sharedInstances, sharedAttempts, sharedTasks, sharedCommands bool
}

// run returns the run of a pipeline, creating it; the caller holds s.mu.
func (s *DB) run(pipelineID string) *run {
	r := s.runs[pipelineID]
	if r == nil {
		r = &run{byID: map[string]*pipeline.Instance{}}
		s.runs[pipelineID] = r
	}
	return r
}

func (r *run) writableTasks() {
	if r.sharedTasks {
		r.tasks, r.sharedTasks = slices.Clone(r.tasks), false
	}
}

// snapshot returns the run as RunLoad hands it out and marks its slices
// shared. The caller holds s.mu for writing or r's slices for reading only.
func (r *run) snapshot() *store.RunState {
	r.sharedInstances, r.sharedAttempts, r.sharedTasks, r.sharedCommands = true, true, true, true
	return &store.RunState{Instances: r.instances, Attempts: r.attempts, Tasks: r.tasks, Commands: r.commands}
}

func cmpInstance(a, b *pipeline.Instance) int {
	if c := a.ScheduledStart.Compare(b.ScheduledStart); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

func cmpAttempt(a, b *pipeline.Attempt) int { return cmp.Compare(a.ID, b.ID) }

// putInstances inserts or replaces instances. ins must be sorted by
// cmpInstance without duplicate ids, and owned by the store.
func (r *run) putInstances(ins []*pipeline.Instance) {
	// An instance's place is found by its sort key. A replacement whose
	// ScheduledStart moved is taken out from its old place and inserted.
	fresh := make([]*pipeline.Instance, 0, len(ins))
	for _, in := range ins {
		old := r.byID[in.ID]
		r.byID[in.ID] = in
		if old == nil || !old.ScheduledStart.Equal(in.ScheduledStart) {
			if old != nil {
				if r.sharedInstances {
					r.instances, r.sharedInstances = slices.Clone(r.instances), false
				}
				i, _ := slices.BinarySearchFunc(r.instances, old, cmpInstance)
				r.instances = slices.Delete(r.instances, i, i+1)
			}
			fresh = append(fresh, in)
			continue
		}
		if r.sharedInstances {
			r.instances, r.sharedInstances = slices.Clone(r.instances), false
		}
		i, _ := slices.BinarySearchFunc(r.instances, old, cmpInstance)
		r.instances[i] = in
	}
	r.instances, r.sharedInstances = mergeSorted(r.instances, fresh, cmpInstance, r.sharedInstances)
}

// putAttempts inserts or replaces attempts. as must be sorted by ID without
// duplicates, and owned by the store.
func (r *run) putAttempts(as []*pipeline.Attempt) {
	var fresh []*pipeline.Attempt
	for _, a := range as {
		i, found := slices.BinarySearchFunc(r.attempts, a, cmpAttempt)
		if !found {
			fresh = append(fresh, a)
			continue
		}
		if r.sharedAttempts {
			r.attempts, r.sharedAttempts = slices.Clone(r.attempts), false
		}
		r.attempts[i] = a
	}
	r.attempts, r.sharedAttempts = mergeSorted(r.attempts, fresh, cmpAttempt, r.sharedAttempts)
}

// mergeSorted inserts add (sorted, none equal to an element of list) into
// the sorted list and reports whether the result is still shared. A list
// readers may hold is only ever appended to, or copied; otherwise the merge
// runs in place from the back. Each element of add finds its place by
// binary search and the elements of list between two places move with one
// copy, so a merge compares O(len(add) × log len(list)) times: attempt ids
// are random, and comparing every element of a run's attempts on every
// step cost the scheduler more than the step itself in a long run.
func mergeSorted[T any](list, add []T, cmp func(a, b T) int, shared bool) ([]T, bool) {
	if len(add) == 0 {
		return list, shared
	}
	if len(list) == 0 || cmp(list[len(list)-1], add[0]) < 0 {
		return append(list, add...), shared
	}
	n := len(list)
	var out []T
	if shared {
		out = make([]T, n+len(add))
	} else {
		out = slices.Grow(list, len(add))[:n+len(add)]
	}
	// list[:i] is still in place; out[k:] is final. k-i is the number of
	// elements of add not yet placed, so a block moves right, never over
	// an element not yet moved.
	i, k := n, n+len(add)
	for j := len(add) - 1; j >= 0; j-- {
		p, _ := slices.BinarySearchFunc(list[:i], add[j], cmp)
		k -= i - p
		copy(out[k:], list[p:i])
		k--
		out[k] = add[j]
		i = p
	}
	copy(out[:i], list[:i]) // a fresh copy needs the head; in place it is there
	return out, false
}

// doneCommands removes the commands with the given Seqs.
func (r *run) doneCommands(seqs []int64) {
	if len(seqs) == 0 || len(r.commands) == 0 {
		return
	}
	done := make(map[int64]bool, len(seqs))
	for _, s := range seqs {
		done[s] = true
	}
	// A fresh slice: commands are few, and the old one may be shared.
	kept := make([]*store.RunCommand, 0, len(r.commands))
	for _, c := range r.commands {
		if !done[c.Seq] {
			kept = append(kept, c)
		}
	}
	r.commands, r.sharedCommands = kept, false
}
