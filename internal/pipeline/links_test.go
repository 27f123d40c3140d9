package pipeline_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/pipeline"
)

func TestLinker(t *testing.T) {
	t.Parallel()
	def := &pipeline.Definition{Objects: []pipeline.Object{
		{ID: "Default", Name: "Default", Fields: []pipeline.Field{pipeline.Ref("runsOn", "Box")}},
		{ID: "In", Name: "In", Fields: []pipeline.Field{pipeline.String("type", "S3DataNode")}},
		{ID: "Out", Name: "Out", Fields: []pipeline.Field{pipeline.String("type", "S3DataNode")}},
		{ID: "Box", Name: "Box", Fields: []pipeline.Field{pipeline.String("type", "Ec2Resource")}},
		{ID: "Copy", Name: "Copy", Fields: []pipeline.Field{pipeline.String("type", "CopyActivity"),
			pipeline.Ref("input", "In"), pipeline.Ref("output", "Out")}},
	}}
	h := func(n int) time.Time { return time.Date(2026, 1, 1, n, 0, 0, 0, time.UTC) }
	inst := func(comp string, from, to time.Time) *pipeline.Instance {
		return &pipeline.Instance{ID: "@" + comp + "_" + from.Format("2006-01-02T15:04:05"), ComponentID: comp, ScheduledStart: from, ScheduledEnd: to}
	}
	// A daily input, hourly copies and outputs, one resource for two hours.
	day := inst("In", h(0), h(0).Add(24*time.Hour))
	box := inst("Box", h(0), h(2))
	c0, c1, c2 := inst("Copy", h(0), h(1)), inst("Copy", h(1), h(2)), inst("Copy", h(2), h(3))
	c0.Resource, c1.Resource = box.ID, box.ID
	o0, o1 := inst("Out", h(0), h(1)), inst("Out", h(1), h(2))
	l := pipeline.NewLinker(def, []*pipeline.Instance{day, box, c0, o0, c1, o1, c2})

	for _, tc := range []struct {
		in   *pipeline.Instance
		want pipeline.InstanceLinks
	}{
		{c0, pipeline.InstanceLinks{Input: []string{day.ID}, Output: []string{o0.ID}}},
		{c1, pipeline.InstanceLinks{Input: []string{day.ID}, Output: []string{o1.ID}}},
		// The output instance of hour 2 does not exist yet: the component.
		{c2, pipeline.InstanceLinks{Input: []string{day.ID}, Output: []string{"Out"}}},
		{day, pipeline.InstanceLinks{Output: []string{c0.ID, c1.ID, c2.ID}}},
		{o1, pipeline.InstanceLinks{Input: []string{c1.ID}}},
		{box, pipeline.InstanceLinks{Input: []string{c0.ID, c1.ID}}},
	} {
		if diff := cmp.Diff(tc.want, l.Links(tc.in)); diff != "" {
			t.Errorf("Links(%s) mismatch (-want +got):\n%s", tc.in.ID, diff)
		}
	}

	// Ondemand runs have empty intervals that hold their start.
	a := &pipeline.Instance{ID: "@Copy_run", ComponentID: "Copy", ScheduledStart: h(5), ScheduledEnd: h(5)}
	in := &pipeline.Instance{ID: "@In_run", ComponentID: "In", ScheduledStart: h(5), ScheduledEnd: h(5)}
	l = pipeline.NewLinker(def, []*pipeline.Instance{a, in})
	if diff := cmp.Diff(pipeline.InstanceLinks{Input: []string{in.ID}, Output: []string{"Out"}}, l.Links(a)); diff != "" {
		t.Errorf("ondemand Links(%s) mismatch (-want +got):\n%s", a.ID, diff)
	}
	if diff := cmp.Diff(pipeline.InstanceLinks{Output: []string{a.ID}}, l.Links(in)); diff != "" {
		t.Errorf("ondemand Links(%s) mismatch (-want +got):\n%s", in.ID, diff)
	}
}
