package datapipeline

import (
	"context"
	"sort"
	"strings"

	"github.com/culvert/culvert/internal/expr"
	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// runView is one read of a pipeline's run: the instances and attempts
// DescribeObjects, QueryObjects and EvaluateExpression show.
type runView struct {
	state *store.RunState
	// links derives instances' input and output links; nil until a
	// definition is known (linker).
	links *pipeline.Linker
	tasks map[string]*store.Task // by id, built on first need
}

// linker makes the view derive instance links from def, the pipeline's
// active definition (the one its instances were made from).
func (v *runView) linker(def *pipeline.Definition) {
	if def != nil && v.links == nil {
		v.links = pipeline.NewLinker(def, v.state.Instances)
	}
}

// linksOf returns in's links, none if no definition is known.
func (v *runView) linksOf(in *pipeline.Instance) pipeline.InstanceLinks {
	if v.links == nil {
		return pipeline.InstanceLinks{}
	}
	return v.links.Links(in)
}

// loadRun reads a pipeline's run. A pipeline that never ran has none.
func (s *Service) loadRun(ctx context.Context, account, pipelineID string) (*runView, error) {
	st, err := s.store.RunLoad(ctx, account, pipelineID)
	if err != nil {
		return nil, pipelineError(err, pipelineID)
	}
	return &runView{state: st}, nil
}

// instance finds an instance by id. Ids end in the scheduled start
// (@Comp_2026-01-01T00:00:00), by which instances are ordered, so the
// search is logarithmic however long the run.
func (v *runView) instance(id string) *pipeline.Instance {
	list := v.state.Instances
	if len(id) < len(expr.DateTimeLayout) {
		return nil
	}
	start, err := expr.ParseDateTime(id[len(id)-len(expr.DateTimeLayout):])
	if err != nil {
		return nil
	}
	i := sort.Search(len(list), func(i int) bool { return !list[i].ScheduledStart.Before(start) })
	for ; i < len(list) && list[i].ScheduledStart.Equal(start); i++ {
		if list[i].ID == id {
			return list[i]
		}
	}
	return nil
}

// attempt finds an attempt by id, with its instance.
func (v *runView) attempt(id string) (*pipeline.Attempt, *pipeline.Instance) {
	k := strings.LastIndex(id, "_Attempt=")
	if k < 0 {
		return nil, nil
	}
	in := v.instance(id[:k])
	if in == nil {
		return nil, nil
	}
	list := v.state.Attempts
	i := sort.Search(len(list), func(i int) bool { return list[i].ID >= id })
	if i < len(list) && list[i].ID == id {
		return list[i], in
	}
	return nil, nil
}

// object renders the instance or attempt with the given id as
// DescribeObjects returns it, or reports false.
func (v *runView) object(pipelineID, id string) (*pipeline.Object, bool) {
	if in := v.instance(id); in != nil {
		return &pipeline.Object{ID: in.ID, Name: in.ID, Fields: pipeline.InstanceFields(pipelineID, in, v.linksOf(in))}, true
	}
	if a, in := v.attempt(id); a != nil {
		return &pipeline.Object{ID: a.ID, Name: a.ID, Fields: pipeline.AttemptFields(pipelineID, in, v.progressed(a))}, true
	}
	return nil, false
}

// progressed returns a with its reportProgressTime and @logLocation as
// its task knows them: progress reports reach the task, not the
// scheduler, which copies them to the attempt only when the task ends.
// An attempt that ended without its task ending (canceled, or marked
// finished, while its runner worked) keeps showing its task's location,
// since its logs are there all the same.
func (v *runView) progressed(a *pipeline.Attempt) *pipeline.Attempt {
	if a.TaskID == "" || (a.Status.Terminal() && a.LogLocation != "") {
		return a
	}
	if v.tasks == nil {
		v.tasks = make(map[string]*store.Task, len(v.state.Tasks))
		for _, t := range v.state.Tasks {
			v.tasks[t.ID] = t
		}
	}
	t := v.tasks[a.TaskID]
	if t == nil {
		return a
	}
	running := !a.Status.Terminal()
	newer := running && t.ProgressedAt.After(a.ReportProgressTime)
	located := t.LogLocation != "" && t.LogLocation != a.LogLocation && (running || a.LogLocation == "")
	if !newer && !located {
		return a
	}
	c := *a
	if newer {
		c.ReportProgressTime = t.ProgressedAt
	}
	if located {
		c.LogLocation = t.LogLocation
	}
	return &c
}

// evaluator returns an Evaluator over def that also knows the run's
// instances and attempts, so expressions may use their runtime fields.
func (v *runView) evaluator(pipelineID string, version int64, def *pipeline.Definition) *pipeline.Evaluator {
	rt := pipeline.NewRuntime(pipelineID, version, def)
	byID := make(map[string]*pipeline.Instance, len(v.state.Instances))
	v.linker(def)
	for _, in := range v.state.Instances {
		rt.AddInstance(in, v.linksOf(in))
		byID[in.ID] = in
	}
	for _, a := range v.state.Attempts {
		if in := byID[a.InstanceID]; in != nil {
			rt.AddAttempt(in, v.linksOf(in), v.progressed(a))
		}
	}
	return pipeline.NewEvaluator(def, rt.Func())
}

// query returns the ids of the instances (or attempts) whose fields
// satisfy every predicate, in scheduled order, after skipping start
// matches and up to limit, and whether more match.
func (v *runView) query(pipelineID string, sphere pipeline.Sphere, preds []predicate, start, limit int64) ([]string, bool) {
	ids := []string{}
	var matched int64
	match := func(id string, fields []pipeline.Field) bool {
		if !matchAll(preds, append(fields, pipeline.String("name", id))) {
			return true
		}
		matched++
		if matched <= start {
			return true
		}
		if int64(len(ids)) == limit {
			return false
		}
		ids = append(ids, id)
		return true
	}
	if sphere == pipeline.SphereInstance {
		for _, in := range v.state.Instances {
			if !match(in.ID, pipeline.InstanceFields(pipelineID, in, pipeline.InstanceLinks{})) {
				return ids, true
			}
		}
		return ids, false
	}
	byID := make(map[string]*pipeline.Instance, len(v.state.Instances))
	for _, in := range v.state.Instances {
		byID[in.ID] = in
	}
	// Attempts follow their instances' order, then their own.
	attempts := append([]*pipeline.Attempt(nil), v.state.Attempts...)
	sort.SliceStable(attempts, func(i, j int) bool {
		a, b := byID[attempts[i].InstanceID], byID[attempts[j].InstanceID]
		if a != nil && b != nil && !a.ScheduledStart.Equal(b.ScheduledStart) {
			return a.ScheduledStart.Before(b.ScheduledStart)
		}
		return attempts[i].ID < attempts[j].ID
	})
	for _, a := range attempts {
		in := byID[a.InstanceID]
		if in == nil {
			continue
		}
		if !match(a.ID, pipeline.AttemptFields(pipelineID, in, v.progressed(a))) {
			return ids, true
		}
	}
	return ids, false
}
