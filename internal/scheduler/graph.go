package scheduler

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/culvert/culvert/internal/expr"
	"github.com/culvert/culvert/internal/pipeline"
)

// Defaults for fields a definition leaves out. AWS documents none of these
// numbers except the progress timeout; they are the values its own
// fixtures and console show (spec §3.2).
const (
	DefaultMaximumRetries  = 2
	DefaultRetryDelay      = 10 * time.Minute
	DefaultMaxActive       = 1
	DefaultProgressTimeout = 15 * time.Minute
)

// Node is one runnable component of an active definition (an activity, a
// data node or a resource) with everything the planner and the state
// machine need, read once from its effective view.
type Node struct {
	ID   string
	Type string
	Kind pipeline.Kind

	// Schedule is the id of the Schedule object the node runs on; empty
	// in an ondemand pipeline.
	Schedule     string
	ScheduleType string // cron, timeseries or ondemand

	DependsOn     []string // runnable components
	Inputs        []string // data nodes
	Outputs       []string // data nodes
	Preconditions []string // precondition components
	RunsOn        string   // a resource component, or empty
	WorkerGroup   string

	MaxActive             int
	MaximumRetries        int
	RetryDelay            expr.Period
	AttemptTimeout        expr.Period // zero: none
	ReportProgressTimeout expr.Period // zero: the queue's default
	LateAfterTimeout      expr.Period // zero: none
	PreconditionTimeout   expr.Period // preconditions only; zero: none
	TerminateAfter        expr.Period // resources only; zero: none
	Cascade               bool        // failureAndRerunMode is cascade

	OnFail, OnSuccess, OnLateAction []string // action components
}

// Graph is a compiled active definition: its runnable nodes in definition
// order and the schedules they use.
type Graph struct {
	Nodes     []Node
	Schedules map[string]Schedule
	// Preconditions holds the precondition components that runnable
	// nodes name; they run per instance of the node that uses them, in
	// its interval, so they have no schedule of their own.
	Preconditions map[string]*Node
	// Ondemand is set when the pipeline's scheduleType (on Default) is
	// ondemand: every activation is one run of every node.
	Ondemand bool
	index    map[string]int
}

// Ondemand reports whether def (with the parameter values in force) is an
// ondemand pipeline: Default's scheduleType is ondemand (§4.2).
func Ondemand(def *pipeline.Definition) bool {
	if def.Object(pipeline.DefaultID) == nil {
		return false
	}
	eff, err := pipeline.NewResolver(def).Effective(pipeline.DefaultID)
	if err != nil {
		return false
	}
	st, err := fieldString(eff, "scheduleType", CompileOptions{Expand: expander(def)})
	return err == nil && strings.EqualFold(st, TypeOndemand)
}

// OndemandRunning reports whether the latest run of an ondemand pipeline,
// its instances with the latest scheduled start (instances ordered by
// ScheduledStart, as a store's RunState holds them), has one that is not
// done.
func OndemandRunning(instances []*pipeline.Instance) bool {
	for i := len(instances) - 1; i >= 0; i-- {
		in := instances[i]
		if !in.ScheduledStart.Equal(instances[len(instances)-1].ScheduledStart) {
			break
		}
		if !in.Status.Terminal() {
			return true
		}
	}
	return false
}

// Node returns the node with the given id.
func (g *Graph) Node(id string) (*Node, bool) {
	i, ok := g.index[id]
	if !ok {
		return nil, false
	}
	return &g.Nodes[i], true
}

// CompileOptions are the inputs of Compile beyond the definition.
type CompileOptions struct {
	// FirstActivation starts schedules whose startAt is
	// FIRST_ACTIVATION_DATE_TIME.
	FirstActivation time.Time
	// Expand, when set, evaluates a field value holding #{…} in the context
	// of the object that has it, so that a node's settings may come from
	// parameters. Without it such values are an error.
	Expand func(objectID, value string) (string, error)
}

// Compile reads a validated definition into a Graph. It returns an error
// naming the object and field for anything a validated definition cannot
// hold; the definition's validation is what users see first.
func Compile(def *pipeline.Definition, opt CompileOptions) (*Graph, error) {
	r := pipeline.NewResolver(def)
	g := &Graph{Schedules: map[string]Schedule{}, Preconditions: map[string]*Node{}, index: map[string]int{}}
	if def.Object(pipeline.DefaultID) != nil {
		eff, err := r.Effective(pipeline.DefaultID)
		if err != nil {
			return nil, err
		}
		st, err := fieldString(eff, "scheduleType", opt)
		if err != nil {
			return nil, err
		}
		g.Ondemand = strings.EqualFold(st, TypeOndemand)
	}
	for i := range def.Objects {
		id := def.Objects[i].ID
		if _, dup := g.index[id]; dup {
			return nil, fmt.Errorf("object %s: duplicate id", id)
		}
		eff, err := r.Effective(id)
		if err != nil {
			return nil, err
		}
		typ, err := fieldString(eff, "type", opt)
		if err != nil {
			return nil, err
		}
		t, ok := pipeline.LookupType(typ)
		if ok && t.Kind == pipeline.KindPrecondition {
			n, err := compileNode(r, eff, t, g, opt)
			if err != nil {
				return nil, err
			}
			g.Preconditions[id] = &n
			continue
		}
		if !ok || (t.Kind != pipeline.KindActivity && t.Kind != pipeline.KindDataNode && t.Kind != pipeline.KindResource) {
			continue
		}
		n, err := compileNode(r, eff, t, g, opt)
		if err != nil {
			return nil, err
		}
		g.index[id] = len(g.Nodes)
		g.Nodes = append(g.Nodes, n)
	}
	return g, nil
}

func compileNode(r *pipeline.Resolver, eff *pipeline.Object, t *pipeline.TypeSpec, g *Graph, opt CompileOptions) (Node, error) {
	n := Node{ID: eff.ID, Type: t.Name, Kind: t.Kind}
	var err error
	str := func(key string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = fieldString(eff, key, opt)
		return v
	}
	integer := func(key string, def int) int {
		s := str(key)
		if s == "" || err != nil {
			return def
		}
		v, perr := strconv.Atoi(s)
		if perr != nil {
			err = fmt.Errorf("object %s: %s %q is not an integer", eff.ID, key, s)
		}
		return v
	}
	period := func(key string) expr.Period {
		s := str(key)
		if s == "" || err != nil {
			return expr.Period{}
		}
		p, perr := expr.ParsePeriod(s)
		if perr != nil {
			err = fmt.Errorf("object %s: %s: %w", eff.ID, key, perr)
		}
		return p
	}

	n.ScheduleType = strings.ToLower(str("scheduleType"))
	if n.ScheduleType == "" {
		n.ScheduleType = TypeCron
	}
	if g.Ondemand {
		n.ScheduleType = TypeOndemand
	}
	n.DependsOn = refs(eff, "dependsOn")
	n.Inputs = refs(eff, "input")
	n.Outputs = refs(eff, "output")
	n.Preconditions = refs(eff, "precondition")
	if rs := refs(eff, "runsOn"); len(rs) > 0 {
		n.RunsOn = rs[0]
	}
	n.WorkerGroup = str("workerGroup")
	n.MaxActive = integer("maxActiveInstances", DefaultMaxActive)
	n.MaximumRetries = integer("maximumRetries", DefaultMaximumRetries)
	n.RetryDelay = period("retryDelay")
	if n.RetryDelay == (expr.Period{}) {
		n.RetryDelay = expr.Period{Minutes: int(DefaultRetryDelay / time.Minute)}
	}
	n.AttemptTimeout = period("attemptTimeout")
	n.ReportProgressTimeout = period("reportProgressTimeout")
	n.LateAfterTimeout = period("lateAfterTimeout")
	n.PreconditionTimeout = period("preconditionTimeout")
	n.TerminateAfter = period("terminateAfter")
	n.Cascade = strings.EqualFold(str("failureAndRerunMode"), "cascade")
	n.OnFail = refs(eff, "onFail")
	n.OnSuccess = refs(eff, "onSuccess")
	n.OnLateAction = refs(eff, "onLateAction")
	if err != nil {
		return Node{}, err
	}

	if !g.Ondemand && t.Kind != pipeline.KindPrecondition {
		sched := refs(eff, "schedule")
		if len(sched) == 0 {
			return Node{}, fmt.Errorf("object %s: no schedule", eff.ID)
		}
		n.Schedule = sched[0]
		if _, done := g.Schedules[n.Schedule]; !done {
			so, err := r.Effective(n.Schedule)
			if err != nil {
				return Node{}, err
			}
			s, err := FromObject(expanded(so, opt), opt.FirstActivation)
			if err != nil {
				return Node{}, err
			}
			g.Schedules[n.Schedule] = s
		}
	}
	return n, nil
}

// fieldString returns the first value of key on an effective object,
// expanded when it holds an expression.
func fieldString(o *pipeline.Object, key string, opt CompileOptions) (string, error) {
	f, ok := o.Get(key)
	if !ok || f.StringValue == nil {
		return "", nil
	}
	v := *f.StringValue
	if !strings.Contains(v, "#{") {
		return v, nil
	}
	if opt.Expand == nil {
		return "", fmt.Errorf("object %s: %s holds an expression and no evaluator was given", o.ID, key)
	}
	out, err := opt.Expand(o.ID, v)
	if err != nil {
		return "", fmt.Errorf("object %s: %s: %w", o.ID, key, err)
	}
	return out, nil
}

// expanded returns o with the Schedule fields that hold expressions
// evaluated; values that fail to evaluate are left for FromObject to
// reject.
func expanded(o *pipeline.Object, opt CompileOptions) *pipeline.Object {
	if opt.Expand == nil {
		return o
	}
	out := &pipeline.Object{ID: o.ID, Name: o.Name, Fields: make([]pipeline.Field, len(o.Fields))}
	for i, f := range o.Fields {
		out.Fields[i] = f
		if f.StringValue != nil && strings.Contains(*f.StringValue, "#{") {
			if v, err := opt.Expand(o.ID, *f.StringValue); err == nil {
				out.Fields[i] = pipeline.String(f.Key, v)
			}
		}
	}
	return out
}

func refs(o *pipeline.Object, key string) []string {
	var out []string
	for _, f := range o.Fields {
		if f.Key == key && f.RefValue != nil {
			out = append(out, *f.RefValue)
		}
	}
	return out
}

// Components returns the planner's view of the scheduled nodes; an
// ondemand graph has none, as its runs come from activations.
func (g *Graph) Components() []Component {
	if g.Ondemand {
		return nil
	}
	out := make([]Component, 0, len(g.Nodes))
	for _, n := range g.Nodes {
		out = append(out, Component{
			ID: n.ID, Schedule: g.Schedules[n.Schedule], ScheduleType: n.ScheduleType,
			Resource: n.Kind == pipeline.KindResource,
		})
	}
	return out
}
