package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNoObject is returned by Effective for an id that names no object.
var ErrNoObject = errors.New("no such object")

// CycleError reports a parent chain that leads back to itself. Cycle lists
// the ids along the loop, starting and ending with the same id.
type CycleError struct {
	Cycle []string
}

func (e *CycleError) Error() string {
	return "cyclic parent chain: " + strings.Join(e.Cycle, " -> ")
}

// DefaultID is the id of the object whose fields every object inherits.
const DefaultID = "Default"

// Resolver answers for the effective view of every object in a definition,
// resolving each object and each parent only once. It is not safe for
// concurrent use; the definition must not change while it is in use.
//
// The effective view of an object is, in order:
//
//   - its own fields;
//   - then, for each parent it names by reference (in field order), that
//     parent's effective fields whose keys the object does not already
//     have. A key present on the object, or on an earlier parent, hides all
//     of a later parent's values of that key, so repeated keys (input,
//     precondition, …) are replaced and never merged;
//   - an object that names no parent by reference has Default as its
//     parent, unless it is Default itself.
//
// Default is therefore reached at the end of every explicit chain: §2.1 says
// Default's fields are included in every object "that doesn't explicitly set
// its parent field to reference a different object", and the last object of
// an explicit chain sets no parent, so it includes Default's fields and passes
// them down with its own. This matches DescribeObjects, which shows a Schedule
// without a parent coming back with parent → Default (§1.3).
//
// The parent key itself is never inherited: it is what links the chain. A
// parent reference to an id that does not exist is ignored (Validate reports
// it) and still counts as an explicit parent, so Default is not added. Where
// ids repeat, the first object with the id is the one resolved, as in
// Validate.
type Resolver struct {
	def   *Definition
	index map[string]int
	dflt  int // index of Default, or -1
	memo  []*effective
	state []uint8 // 0 unvisited, 1 on the stack, 2 done
	path  []int
}

// effective is a resolved object with, for each field, the index of the
// object that wrote it.
type effective struct {
	obj    Object
	origin []int
	err    error
}

// NewResolver indexes def for resolution.
func NewResolver(def *Definition) *Resolver {
	r := &Resolver{
		def:   def,
		index: make(map[string]int, len(def.Objects)),
		dflt:  -1,
		memo:  make([]*effective, len(def.Objects)),
		state: make([]uint8, len(def.Objects)),
	}
	for i := range def.Objects {
		id := def.Objects[i].ID
		if _, dup := r.index[id]; !dup {
			r.index[id] = i
		}
	}
	if i, ok := r.index[DefaultID]; ok {
		r.dflt = i
	}
	return r
}

// Effective returns the effective view of the object with the given id. The
// result is shared: the caller must not modify it.
func (r *Resolver) Effective(id string) (*Object, error) {
	i, ok := r.index[id]
	if !ok {
		return nil, fmt.Errorf("effective view of %q: %w", id, ErrNoObject)
	}
	e := r.resolve(i)
	if e.err != nil {
		return nil, e.err
	}
	return &e.obj, nil
}

// Effective returns the effective view of the object with the given id in
// def (see Resolver). To resolve many objects, build one Resolver instead.
func Effective(def *Definition, id string) (*Object, error) {
	return NewResolver(def).Effective(id)
}

// parentsOf appends the indexes of i's parents: the existing objects it names
// by a parent reference, or Default when it names none.
func (r *Resolver) parentsOf(i int, dst []int) []int {
	explicit := false
	for _, f := range r.def.Objects[i].Fields {
		if f.Key == "parent" && f.RefValue != nil {
			explicit = true
			if j, ok := r.index[*f.RefValue]; ok {
				dst = append(dst, j)
			}
		}
	}
	if !explicit && r.dflt >= 0 && i != r.dflt {
		dst = append(dst, r.dflt)
	}
	return dst
}

func (r *Resolver) resolve(i int) *effective {
	if e := r.memo[i]; e != nil {
		return e
	}
	if r.state[i] == 1 {
		// i is on the path: the loop runs from its first appearance.
		start := 0
		for k, j := range r.path {
			if j == i {
				start = k
				break
			}
		}
		cycle := make([]string, 0, len(r.path)-start+1)
		for _, j := range r.path[start:] {
			cycle = append(cycle, r.def.Objects[j].ID)
		}
		cycle = append(cycle, r.def.Objects[i].ID)
		return &effective{err: &CycleError{Cycle: cycle}}
	}
	r.state[i] = 1
	r.path = append(r.path, i)
	defer func() { r.path = r.path[:len(r.path)-1] }()

	o := &r.def.Objects[i]
	var parents [4]int
	ps := r.parentsOf(i, parents[:0])
	e := &effective{obj: Object{ID: o.ID, Name: o.Name}}
	if len(ps) == 0 {
		e.obj.Fields = slices.Clone(o.Fields)
		e.origin = make([]int, len(o.Fields))
		for k := range e.origin {
			e.origin[k] = i
		}
	} else {
		pes := make([]*effective, len(ps))
		n := len(o.Fields)
		for k, p := range ps {
			pe := r.resolve(p)
			if pe.err != nil {
				e.err = pe.err
				r.memo[i], r.state[i] = e, 2
				return e
			}
			pes[k] = pe
			n += len(pe.obj.Fields)
		}
		e.obj.Fields = make([]Field, 0, n)
		e.origin = make([]int, 0, n)
		e.obj.Fields = append(e.obj.Fields, o.Fields...)
		for range o.Fields {
			e.origin = append(e.origin, i)
		}
		for _, pe := range pes {
			// Keys already present hide the parent's values of that key;
			// keys this parent adds do not hide its own repeated values.
			known := len(e.obj.Fields)
			for k, f := range pe.obj.Fields {
				if f.Key == "parent" || hasKey(e.obj.Fields[:known], f.Key) {
					continue
				}
				e.obj.Fields = append(e.obj.Fields, f)
				e.origin = append(e.origin, pe.origin[k])
			}
		}
	}
	r.memo[i], r.state[i] = e, 2
	return e
}

func hasKey(fs []Field, key string) bool {
	for _, f := range fs {
		if f.Key == key {
			return true
		}
	}
	return false
}
