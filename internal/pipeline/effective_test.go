package pipeline

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEffective(t *testing.T) {
	t.Parallel()
	dflt := obj("Default", String("scheduleType", "cron"), Ref("schedule", "Sched"), String("workerGroup", "wg"))
	tests := []struct {
		name string
		objs []Object
		id   string
		want []Field
	}{
		{
			name: "own fields then Default",
			objs: []Object{dflt, obj("A", String("type", "ShellCommandActivity"), String("workerGroup", "mine"))},
			id:   "A",
			want: []Field{
				String("type", "ShellCommandActivity"), String("workerGroup", "mine"),
				String("scheduleType", "cron"), Ref("schedule", "Sched"),
			},
		},
		{
			name: "Default itself",
			objs: []Object{dflt},
			id:   "Default",
			want: dflt.Fields,
		},
		{
			name: "no Default object",
			objs: []Object{obj("A", String("type", "Exists"))},
			id:   "A",
			want: []Field{String("type", "Exists")},
		},
		{
			name: "explicit Default parent is the same as implicit",
			objs: []Object{dflt, obj("A", String("type", "Exists"), Ref("parent", "Default"))},
			id:   "A",
			want: []Field{
				String("type", "Exists"), Ref("parent", "Default"),
				String("scheduleType", "cron"), Ref("schedule", "Sched"), String("workerGroup", "wg"),
			},
		},
		{
			name: "chain ends at Default",
			objs: []Object{
				dflt,
				obj("P", String("workerGroup", "pw"), String("stage", "true")),
				obj("A", String("type", "ShellCommandActivity"), Ref("parent", "P")),
			},
			id: "A",
			want: []Field{
				String("type", "ShellCommandActivity"), Ref("parent", "P"),
				String("workerGroup", "pw"), String("stage", "true"),
				String("scheduleType", "cron"), Ref("schedule", "Sched"),
			},
		},
		{
			name: "transitive chain, child overrides",
			objs: []Object{
				obj("G", String("a", "g"), String("b", "g"), String("c", "g")),
				obj("P", Ref("parent", "G"), String("b", "p")),
				obj("A", Ref("parent", "P"), String("c", "a")),
			},
			id: "A",
			want: []Field{
				Ref("parent", "P"), String("c", "a"), String("b", "p"), String("a", "g"),
			},
		},
		{
			name: "a child key hides all of the parent's values",
			objs: []Object{
				obj("P", Ref("input", "N1"), Ref("input", "N2"), Ref("output", "N3"), Ref("output", "N4")),
				obj("A", Ref("parent", "P"), Ref("input", "N5")),
			},
			id: "A",
			want: []Field{
				Ref("parent", "P"), Ref("input", "N5"), Ref("output", "N3"), Ref("output", "N4"),
			},
		},
		{
			name: "two parents: the first wins per key",
			objs: []Object{
				obj("P1", String("a", "1"), String("b", "1")),
				obj("P2", String("b", "2"), String("c", "2"), String("c", "2b")),
				obj("A", Ref("parent", "P1"), Ref("parent", "P2")),
			},
			id: "A",
			want: []Field{
				Ref("parent", "P1"), Ref("parent", "P2"),
				String("a", "1"), String("b", "1"), String("c", "2"), String("c", "2b"),
			},
		},
		{
			name: "dangling parent: no Default either",
			objs: []Object{dflt, obj("A", String("type", "Exists"), Ref("parent", "Nope"))},
			id:   "A",
			want: []Field{String("type", "Exists"), Ref("parent", "Nope")},
		},
		{
			name: "string parent is not a parent",
			objs: []Object{dflt, obj("A", String("parent", "Default"))},
			id:   "A",
			want: []Field{
				String("parent", "Default"),
				String("scheduleType", "cron"), Ref("schedule", "Sched"), String("workerGroup", "wg"),
			},
		},
		{
			name: "duplicate ids: the first wins",
			objs: []Object{obj("A", String("x", "first")), obj("A", String("x", "second"))},
			id:   "A",
			want: []Field{String("x", "first")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			def := &Definition{Objects: tt.objs}
			got, err := Effective(def, tt.id)
			if err != nil {
				t.Fatalf("Effective: %v", err)
			}
			if got.ID != tt.id {
				t.Errorf("ID = %q, want %q", got.ID, tt.id)
			}
			if diff := cmp.Diff(tt.want, got.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEffectiveCycles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		objs []Object
		id   string
		want []string
	}{
		{"self", []Object{obj("A", Ref("parent", "A"))}, "A", []string{"A", "A"}},
		{"pair", []Object{obj("A", Ref("parent", "B")), obj("B", Ref("parent", "A"))}, "A", []string{"A", "B", "A"}},
		{
			"into a loop",
			[]Object{obj("X", Ref("parent", "A")), obj("A", Ref("parent", "B")), obj("B", Ref("parent", "A"))},
			"X", []string{"A", "B", "A"},
		},
		{
			"through implicit Default",
			[]Object{obj("Default", Ref("parent", "A")), obj("A", String("type", "Exists"))},
			"A", []string{"A", "Default", "A"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := NewResolver(&Definition{Objects: tt.objs})
			_, err := r.Effective(tt.id)
			var ce *CycleError
			if !errors.As(err, &ce) {
				t.Fatalf("Effective(%q) error = %v, want a CycleError", tt.id, err)
			}
			if diff := cmp.Diff(tt.want, ce.Cycle); diff != "" {
				t.Errorf("cycle (-want +got):\n%s", diff)
			}
			// Asking again answers from the memo, with the same error.
			if _, err2 := r.Effective(tt.id); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("second Effective error = %v, want %v", err2, err)
			}
		})
	}
}

func TestEffectiveUnknownID(t *testing.T) {
	t.Parallel()
	_, err := Effective(&Definition{}, "nope")
	if !errors.Is(err, ErrNoObject) {
		t.Errorf("error = %v, want ErrNoObject", err)
	}
}

func TestEffectiveDoesNotAlias(t *testing.T) {
	t.Parallel()
	def := &Definition{Objects: []Object{
		obj("Default", String("a", "d")),
		obj("A", String("b", "a")),
	}}
	r := NewResolver(def)
	a, err := r.Effective("A")
	if err != nil {
		t.Fatal(err)
	}
	a.Fields[0] = String("b", "changed")
	if got := def.Objects[1].Fields[0].Value(); got != "a" {
		t.Errorf("definition changed through the effective view: %q", got)
	}
}
