package pipeline

import (
	"sort"
	"time"
)

// Linker derives the [InstanceLinks] of a run's instances from the
// definition's input and output references, by the rule the scheduler
// binds them with: an activity instance reads and writes the instance of
// each data node whose interval holds its scheduled start. A data node
// instance's Input is the activity instances that write it and its Output
// those that read it; a resource instance's Input is the activity
// instances that run on it ([Instance.Resource]).
//
// It serves the read side (DescribeObjects, EvaluateExpression), which
// sees a stored run rather than the scheduler's Run; building one indexes
// the instances in O(n), and each Links call is logarithmic but for the
// links it returns. Not safe for concurrent use.
type Linker struct {
	res       *Resolver
	instances []*Instance // ordered by (ScheduledStart, ID), as stored
	byComp    map[string][]*Instance
	onRes     map[string][]string // resource instance id → activity instance ids
	refs      map[string]compRefs // component id → its input/output references, memoised
	readers   map[string][]string // data node id → activity components reading it
	writers   map[string][]string // data node id → activity components writing it
}

type compRefs struct{ input, output []string }

// NewLinker returns a Linker over def and the run's instances, which must
// be ordered by ScheduledStart (as a store's RunState holds them). The
// index is built on the first call to Links.
func NewLinker(def *Definition, instances []*Instance) *Linker {
	return &Linker{res: NewResolver(def), instances: instances}
}

func (l *Linker) index() {
	if l.byComp != nil {
		return
	}
	l.byComp = map[string][]*Instance{}
	l.onRes = map[string][]string{}
	for _, in := range l.instances {
		l.byComp[in.ComponentID] = append(l.byComp[in.ComponentID], in)
		if in.Resource != "" {
			l.onRes[in.Resource] = append(l.onRes[in.Resource], in.ID)
		}
	}
	l.refs = map[string]compRefs{}
	l.readers, l.writers = map[string][]string{}, map[string][]string{}
	for comp := range l.byComp {
		r := l.refsOf(comp)
		for _, n := range r.input {
			l.readers[n] = append(l.readers[n], comp)
		}
		for _, n := range r.output {
			l.writers[n] = append(l.writers[n], comp)
		}
	}
	for _, m := range []map[string][]string{l.readers, l.writers} {
		for _, comps := range m {
			sort.Strings(comps)
		}
	}
}

// refsOf returns the effective input and output references of an
// activity component; other kinds have none.
func (l *Linker) refsOf(comp string) compRefs {
	if r, ok := l.refs[comp]; ok {
		return r
	}
	var r compRefs
	if o, err := l.res.Effective(comp); err == nil {
		typ, _ := o.Get("type")
		if t, ok := LookupType(typ.Value()); ok && t.Kind == KindActivity {
			for _, f := range o.Fields {
				switch {
				case f.RefValue == nil:
				case f.Key == "input":
					r.input = append(r.input, *f.RefValue)
				case f.Key == "output":
					r.output = append(r.output, *f.RefValue)
				}
			}
		}
	}
	l.refs[comp] = r
	return r
}

// at returns the instance of comp whose interval holds t, or nil.
func (l *Linker) at(comp string, t time.Time) *Instance { return Holding(l.byComp[comp], t) }

// Holding returns the instance of list, one component's instances ordered
// by ScheduledStart, whose interval holds t, or nil: the rule that binds
// an instance to those of the components it depends on, reads, writes or
// runs on. An ondemand run's instances have empty intervals and hold their
// start.
func Holding(list []*Instance, t time.Time) *Instance {
	i := sort.Search(len(list), func(i int) bool { return list[i].ScheduledStart.After(t) }) - 1
	if i < 0 {
		return nil
	}
	in := list[i]
	if !in.ScheduledEnd.IsZero() && !t.Before(in.ScheduledEnd) && !in.ScheduledEnd.Equal(in.ScheduledStart) {
		return nil
	}
	return in
}

// within returns the ids of comp's instances that start in [from, to), or
// at from when the interval is empty.
func (l *Linker) within(comp string, from, to time.Time) []string {
	list := l.byComp[comp]
	i := sort.Search(len(list), func(i int) bool { return !list[i].ScheduledStart.Before(from) })
	var out []string
	for ; i < len(list); i++ {
		s := list[i].ScheduledStart
		if to.After(from) && !s.Before(to) || !to.After(from) && s.After(from) {
			break
		}
		out = append(out, list[i].ID)
	}
	return out
}

// Links returns the links of instance in; references whose instance does
// not exist (yet) are links to the component, as in a task object.
func (l *Linker) Links(in *Instance) InstanceLinks {
	l.index()
	var links InstanceLinks
	if r := l.refsOf(in.ComponentID); len(r.input)+len(r.output) > 0 {
		bound := func(comp string) string {
			if b := l.at(comp, in.ScheduledStart); b != nil {
				return b.ID
			}
			return comp
		}
		for _, c := range r.input {
			links.Input = append(links.Input, bound(c))
		}
		for _, c := range r.output {
			links.Output = append(links.Output, bound(c))
		}
		return links
	}
	for _, w := range l.writers[in.ComponentID] {
		links.Input = append(links.Input, l.within(w, in.ScheduledStart, in.ScheduledEnd)...)
	}
	for _, r := range l.readers[in.ComponentID] {
		links.Output = append(links.Output, l.within(r, in.ScheduledStart, in.ScheduledEnd)...)
	}
	links.Input = append(links.Input, l.onRes[in.ID]...)
	return links
}
