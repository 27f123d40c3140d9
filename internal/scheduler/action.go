package scheduler

import (
	"strings"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// AlarmObject returns action actionID (an SnsAlarm) as it fires for
// instance in: flattened, with every #{…} evaluated where node is the
// instance, bound to its input, output and resource instances as in a task
// object (§3.3: "#{node.@scheduledStartTime}", "#{node.input}"). The
// evaluator is returned too, so that the caller can redact secrets from
// what it logs. Returns a [*pipeline.FieldEvalError], wrapped, for a field
// that does not evaluate.
func AlarmObject(pipelineID string, def *pipeline.Definition, run *Run, in *pipeline.Instance, actionID string) (*pipeline.Object, *pipeline.Evaluator, error) {
	rt := pipeline.NewRuntime(pipelineID, in.Version, def)
	ev := pipeline.NewEvaluator(def, rt.Func())
	inst, _, err := addBound(rt, ev, in, run.Bound(in))
	if err != nil {
		return nil, ev, err
	}
	id := actionID + "_" + inst.ID
	rt.AddFields(id, []pipeline.Field{pipeline.Ref("parent", actionID), pipeline.Ref("node", inst.ID)})
	o, err := ev.Flatten(id, nil)
	return o, ev, err
}

// action performs an onSuccess, onFail or onLateAction action for an
// instance, recording it among the instance's events: Terminate cancels
// the instance; SnsAlarm is evaluated, logged (secrets redacted) and
// queued with the step for each of the configured sinks.
func (l *Loop) action(pr *pipelineRun, a ActionOrder, out *store.RunChanges, now time.Time) {
	o := pr.def.Object(a.ActionID)
	in, ok := pr.run.Instance(a.InstanceID)
	if o == nil || !ok {
		return
	}
	typ := ""
	if f, ok := o.Get("type"); ok {
		typ = f.Value()
	}
	log := l.cfg.Logger.With("pipeline", pr.id, "instance", in.ID, "event", a.Event, "action", a.ActionID, "type", typ)
	var detail string
	switch typ {
	case "Terminate":
		if err := pr.run.Cancel(in.ID, now); err != nil {
			detail = "nothing to cancel: " + err.Error()
		} else {
			detail = "canceled"
		}
		log.Info("scheduler: action", "result", detail)
	case "SnsAlarm":
		alarm, ev, err := AlarmObject(pr.id, pr.def, pr.run, in, a.ActionID)
		if err != nil {
			detail = "not sent: " + ev.Explain(err)
			log.Error("scheduler: alarm not sent", "err", detail)
			break
		}
		get := func(key string) string {
			if f, ok := alarm.Get(key); ok {
				return f.Value()
			}
			return ""
		}
		subject, message := get("subject"), get("message")
		detail = ev.Redact(subject)
		log.Info("scheduler: alarm", "topicArn", get("topicArn"), "subject", detail, "message", ev.Redact(message))
		for _, sink := range l.cfg.AlarmSinks {
			out.Alarms = append(out.Alarms, &store.Alarm{
				Sink: sink, ActionID: a.ActionID, InstanceID: in.ID, Event: a.Event,
				TopicArn: get("topicArn"), Subject: subject, Message: message, Role: get("role"),
			})
		}
	default:
		// Validation admits only SnsAlarm and Terminate as actions.
		detail = "not performed: actions of type '" + typ + "' are not supported"
		log.Warn("scheduler: action not performed")
	}
	in.Events = append(in.Events, strings.Join([]string{pipeline.FormatDateTime(now), a.Event, typ, a.ActionID + ":", detail}, " "))
	out.Instances = append(out.Instances, in)
}
