package pipeline

import (
	"strconv"
	"time"

	"github.com/culvert/culvert/internal/expr"
)

// FormatDateTime renders t as a DateTime field value, YYYY-MM-DDTHH:MM:SS in
// UTC (§3.1): the form DescribeObjects shows and expressions parse.
func FormatDateTime(t time.Time) string { return t.UTC().Format(expr.DateTimeLayout) }

// InstanceLinks are an instance's references to other instances that the
// scheduler derives from the graph and an [Instance] does not keep. The keys
// are the ones AWS shows (§3.2, Appendix B):
//
//   - for an activity instance, Input and Output are the data-node instances
//     it reads and writes in its interval. They replace the component's
//     input and output, so that #{input.directoryPath} and
//     #{input.@scheduledStartTime} resolve through the instance;
//   - for a data-node instance, Input is the activity instances that write
//     it and Output those that read it; for a resource instance, Input is
//     the activity instances that run on it. These are AWS's consumer
//     back-links, whose naming reads as data flow.
//
// The resource an activity instance runs on is [Instance.Resource]; it is
// shown as an instance-level runsOn (see [InstanceFields]).
type InstanceLinks struct {
	Input, Output []string
}

// Keys of runtime fields culvert shows on instances and attempts, beyond
// those the definition fields use (§3.2).
const (
	KeyComponentParent = "@componentParent"
	KeyInstanceParent  = "@instanceParent"
	KeyHeadAttempt     = "@headAttempt"
	KeyCascadeFailedOn = "@cascadeFailedOn"
	KeySphere          = "@sphere"
	KeyStatus          = "@status"
	KeyVersion         = "@version"
	KeyPipelineID      = "@pipelineId"
	// KeyLogLocation is where an attempt's runner put its logs
	// (Attempt.LogLocation).
	KeyLogLocation = "@logLocation"
	// KeyEvent is an action the instance fired (Instance.Events), one
	// field per action.
	KeyEvent = "@event"
)

// InstanceFields returns instance in of pipeline pipelineID as
// DescribeObjects shows it (Appendix B): its lineage, its schedule window,
// status and counters, and the fields that are only set once something
// happened (@actualStartTime, @headAttempt, errors, …) only when set.
//
// The resource the instance runs on is shown as runsOn, a reference to the
// resource instance: AWS documents no field for it (§3.2), and naming it like
// the component's field, as AWS does for the instance-level input and output,
// means every reference an instance inherits through parent is overridden
// by the instance it is bound to, and #{runsOn.…} in an expression reaches
// the resource instance. Until a resource instance is bound, the
// component's runsOn shows through to expressions instead.
//
// @attemptCount and @triesLeft are shown once the instance has had an
// attempt, as in the CLI fixture, where a data-node instance, never
// attempted, has neither.
func InstanceFields(pipelineID string, in *Instance, links InstanceLinks) []Field {
	fs := make([]Field, 0, 16+len(links.Input)+len(links.Output))
	fs = append(fs,
		Ref(KeyComponentParent, in.ComponentID),
		Ref("parent", in.ComponentID),
		String("type", in.Type),
		String(KeySphere, string(SphereInstance)),
		String(KeyVersion, strconv.FormatInt(in.Version, 10)),
		String(KeyPipelineID, pipelineID),
		String(KeyStatus, string(in.Status)),
		String("@scheduledStartTime", FormatDateTime(in.ScheduledStart)),
		String("@scheduledEndTime", FormatDateTime(in.ScheduledEnd)),
	)
	fs = appendTime(fs, "@actualStartTime", in.ActualStart)
	fs = appendTime(fs, "@actualEndTime", in.ActualEnd)
	if in.AttemptCount > 0 {
		fs = append(fs,
			String("@attemptCount", strconv.Itoa(in.AttemptCount)),
			String("@triesLeft", strconv.Itoa(in.TriesLeft)))
	}
	fs = appendRef(fs, KeyHeadAttempt, in.HeadAttempt)
	fs = appendRef(fs, "runsOn", in.Resource)
	for _, id := range links.Input {
		fs = append(fs, Ref("input", id))
	}
	for _, id := range links.Output {
		fs = append(fs, Ref("output", id))
	}
	fs = appendRef(fs, "node", in.Node)
	fs = appendRef(fs, KeyCascadeFailedOn, in.CascadeFailedOn)
	fs = appendString(fs, "cancellationReason", in.CancellationReason)
	for _, e := range in.Events {
		fs = append(fs, String(KeyEvent, e))
	}
	return appendErrors(fs, in.ErrorID, in.ErrorMessage, in.ErrorStackTrace)
}

// AttemptFields returns attempt a of instance in as DescribeObjects shows it:
// its lineage (parent and @instanceParent are the instance, @componentParent
// the component), its status and times, and what the runner reported. The
// schedule window is copied from the instance, so that QueryObjects and
// list-runs can select attempts by it as they do instances.
func AttemptFields(pipelineID string, in *Instance, a *Attempt) []Field {
	fs := attemptOwn(make([]Field, 0, 18), pipelineID, in, a)
	return append(fs, Ref("parent", in.ID))
}

// AttemptContextFields returns the runtime fields attempt a has as the
// context of expressions and as the object a task runner receives (§1.3
// PollForTask): its own fields, then the runtime fields of its instance
// (with links) that it does not have, and parent naming the component, as in
// AWS's task object. Inheriting the instance's fields directly rather than
// through parent keeps #{parent.@id} the component's id in both contexts, as
// the developer guide says it is, and lets the attempt's expressions use the
// instance's input, output and runsOn bindings.
func AttemptContextFields(pipelineID string, in *Instance, links InstanceLinks, a *Attempt) []Field {
	fs := attemptOwn(make([]Field, 0, 32), pipelineID, in, a)
	fs = append(fs, Ref("parent", in.ComponentID))
	// The instance's parent is the same component; its other fields show
	// through where the attempt has none of its own.
	return appendHidden(fs, len(fs), InstanceFields(pipelineID, in, links), false)
}

func attemptOwn(fs []Field, pipelineID string, in *Instance, a *Attempt) []Field {
	fs = append(fs,
		Ref(KeyComponentParent, in.ComponentID),
		Ref(KeyInstanceParent, in.ID),
		String("type", in.Type),
		String(KeySphere, string(SphereAttempt)),
		String(KeyVersion, strconv.FormatInt(in.Version, 10)),
		String(KeyPipelineID, pipelineID),
		String(KeyStatus, string(a.Status)),
		String("@scheduledStartTime", FormatDateTime(in.ScheduledStart)),
		String("@scheduledEndTime", FormatDateTime(in.ScheduledEnd)),
	)
	fs = appendTime(fs, "@actualStartTime", a.ActualStart)
	fs = appendTime(fs, "@actualEndTime", a.ActualEnd)
	fs = appendString(fs, "hostname", a.Hostname)
	fs = appendTime(fs, "reportProgressTime", a.ReportProgressTime)
	fs = appendString(fs, KeyLogLocation, a.LogLocation)
	return appendErrors(fs, a.ErrorID, a.ErrorMessage, a.ErrorStackTrace)
}

func appendTime(fs []Field, key string, t time.Time) []Field {
	if t.IsZero() {
		return fs
	}
	return append(fs, String(key, FormatDateTime(t)))
}

func appendString(fs []Field, key, v string) []Field {
	if v == "" {
		return fs
	}
	return append(fs, String(key, v))
}

func appendRef(fs []Field, key, id string) []Field {
	if id == "" {
		return fs
	}
	return append(fs, Ref(key, id))
}

func appendErrors(fs []Field, id, msg, stack string) []Field {
	fs = appendString(fs, "errorId", id)
	fs = appendString(fs, "errorMessage", msg)
	return appendString(fs, "errorStackTrace", stack)
}

// ComponentSystemFields returns the system fields a component of a
// pipeline's definition version has at run time (§3.1): @sphere, @version
// and @pipelineId. DescribeObjects adds @status, which depends on the
// pipeline's state.
func ComponentSystemFields(pipelineID string, version int64) []Field {
	return []Field{
		String(KeySphere, string(SphereComponent)),
		String(KeyVersion, strconv.FormatInt(version, 10)),
		String(KeyPipelineID, pipelineID),
	}
}

// Runtime gathers the runtime fields of the components, instances and
// attempts one evaluation may reach, and answers for them as a
// [RuntimeFunc]: components have their system fields, instances their
// [InstanceFields], attempts their [AttemptContextFields].
type Runtime struct {
	pipelineID string
	system     []Field
	components map[string]bool
	objects    map[string][]Field
}

// NewRuntime returns a Runtime for version of pipeline pipelineID, whose
// definition is def.
func NewRuntime(pipelineID string, version int64, def *Definition) *Runtime {
	r := &Runtime{
		pipelineID: pipelineID,
		system:     ComponentSystemFields(pipelineID, version),
		components: make(map[string]bool, len(def.Objects)),
		objects:    map[string][]Field{},
	}
	for i := range def.Objects {
		r.components[def.Objects[i].ID] = true
	}
	return r
}

// AddInstance makes instance in known, with its links.
func (r *Runtime) AddInstance(in *Instance, links InstanceLinks) {
	r.objects[in.ID] = InstanceFields(r.pipelineID, in, links)
}

// AddAttempt makes attempt a of instance in known, with the instance's
// links.
func (r *Runtime) AddAttempt(in *Instance, links InstanceLinks, a *Attempt) {
	r.objects[a.ID] = AttemptContextFields(r.pipelineID, in, links, a)
}

// AddFields makes an object the definition does not have known with the
// given runtime fields; through a parent reference it inherits the rest. An
// SnsAlarm fired for an instance is one: its parent is the alarm and its
// node the instance.
func (r *Runtime) AddFields(id string, fields []Field) {
	r.objects[id] = fields
}

// Func returns r as a RuntimeFunc. Objects added later are seen too.
func (r *Runtime) Func() RuntimeFunc {
	return func(id string) ([]Field, bool) {
		if fs, ok := r.objects[id]; ok {
			return fs, true
		}
		if r.components[id] {
			return r.system, true
		}
		return nil, false
	}
}
