package scheduler

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/culvert/culvert/internal/expr"
	"github.com/culvert/culvert/internal/pipeline"
)

func object(id string, fields ...pipeline.Field) pipeline.Object {
	return pipeline.Object{ID: id, Name: id, Fields: fields}
}

func TestCompile(t *testing.T) {
	t.Parallel()
	str, ref := pipeline.String, pipeline.Ref
	def := &pipeline.Definition{Objects: []pipeline.Object{
		object("Default", str("scheduleType", "Timeseries"), str("failureAndRerunMode", "CASCADE"),
			ref("schedule", "Hourly"), str("maximumRetries", "#{myRetries}")),
		object("Hourly", str("type", "Schedule"), str("period", "1 hour"), str("startAt", "FIRST_ACTIVATION_DATE_TIME"), str("occurrences", "3")),
		object("Daily", str("type", "Schedule"), str("period", "1 day"), str("startDateTime", "2026-01-01T00:00:00")),
		object("Box", str("type", "Ec2Resource"), str("terminateAfter", "1 hour"), ref("schedule", "Daily")),
		object("In", str("type", "S3DataNode"), str("directoryPath", "s3://in/"), ref("precondition", "Ready")),
		object("Out", str("type", "S3DataNode"), str("directoryPath", "s3://out/")),
		object("Ready", str("type", "S3KeyExists"), str("s3Key", "s3://in/_SUCCESS")),
		object("Copy", str("type", "CopyActivity"), ref("input", "In"), ref("output", "Out"), ref("runsOn", "Box"),
			str("workerGroup", "ignored"), str("retryDelay", "5 minutes"), str("attemptTimeout", "2 hours"), ref("onFail", "Page")),
		object("After", str("type", "ShellCommandActivity"), str("command", "true"), ref("dependsOn", "Copy"),
			str("workerGroup", "wg"), str("maxActiveInstances", "3"), str("scheduleType", "cron")),
		object("Page", str("type", "SnsAlarm"), str("topicArn", "arn:aws:sns:us-east-1:123456789012:t"), str("subject", "s"), str("message", "m")),
	}}
	activated := time.Date(2026, 3, 1, 12, 30, 15, 0, time.UTC)
	expand := func(id, v string) (string, error) {
		if v == "#{myRetries}" {
			return "4", nil
		}
		return "", fmt.Errorf("unexpected %s in %s", v, id)
	}
	g, err := Compile(def, CompileOptions{FirstActivation: activated, Expand: expand})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	tenMinutes := expr.Period{Minutes: 10}
	base := Node{ScheduleType: TypeTimeseries, Schedule: "Hourly", MaxActive: 1, MaximumRetries: 4, RetryDelay: tenMinutes, Cascade: true}
	node := func(n Node, edit func(*Node)) Node { edit(&n); return n }
	want := []Node{
		node(base, func(n *Node) {
			n.ID, n.Type, n.Kind, n.Schedule = "Box", "Ec2Resource", pipeline.KindResource, "Daily"
			n.TerminateAfter = expr.Period{Hours: 1}
		}),
		node(base, func(n *Node) {
			n.ID, n.Type, n.Kind, n.Preconditions = "In", "S3DataNode", pipeline.KindDataNode, []string{"Ready"}
		}),
		node(base, func(n *Node) { n.ID, n.Type, n.Kind = "Out", "S3DataNode", pipeline.KindDataNode }),
		node(base, func(n *Node) {
			n.ID, n.Type, n.Kind = "Copy", "CopyActivity", pipeline.KindActivity
			n.Inputs, n.Outputs, n.RunsOn, n.WorkerGroup = []string{"In"}, []string{"Out"}, "Box", "ignored"
			n.RetryDelay, n.AttemptTimeout, n.OnFail = expr.Period{Minutes: 5}, expr.Period{Hours: 2}, []string{"Page"}
		}),
		node(base, func(n *Node) {
			n.ID, n.Type, n.Kind, n.ScheduleType = "After", "ShellCommandActivity", pipeline.KindActivity, TypeCron
			n.DependsOn, n.WorkerGroup, n.MaxActive = []string{"Copy"}, "wg", 3
		}),
	}
	if diff := cmp.Diff(want, g.Nodes, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	if s := g.Schedules["Hourly"]; !s.Start.Equal(activated) || s.Occurrences != 3 {
		t.Errorf("Hourly = %+v, want a start at the first activation and 3 occurrences", s)
	}
	comps := g.Components()
	if len(comps) != 5 || !comps[0].Resource || comps[1].Resource || comps[0].Schedule.Period != (expr.Period{Days: 1}) {
		t.Errorf("Components = %+v", comps)
	}
	if n, ok := g.Node("After"); !ok || n.MaxActive != 3 {
		t.Errorf("Node(After) = %+v, %v", n, ok)
	}
	if _, ok := g.Node("Page"); ok {
		t.Error("an action is not a runnable node")
	}
}

func TestCompileOndemand(t *testing.T) {
	t.Parallel()
	str := pipeline.String
	def := &pipeline.Definition{Objects: []pipeline.Object{
		object("Default", str("scheduleType", "ondemand")),
		object("A", str("type", "ShellCommandActivity"), str("command", "true"), str("workerGroup", "wg")),
	}}
	g, err := Compile(def, CompileOptions{})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if !g.Ondemand || len(g.Nodes) != 1 || g.Nodes[0].ScheduleType != TypeOndemand || g.Components() != nil {
		t.Errorf("ondemand graph = %+v", g)
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	str, ref := pipeline.String, pipeline.Ref
	tests := []struct {
		name string
		objs []pipeline.Object
		want string
	}{
		{"no schedule", []pipeline.Object{object("A", str("type", "ShellCommandActivity"))}, "no schedule"},
		{"expression without evaluator", []pipeline.Object{object("Default", str("scheduleType", "#{myType}"))}, "no evaluator"},
		{"bad integer", []pipeline.Object{object("A", str("type", "ShellCommandActivity"), str("maximumRetries", "x"))}, "not an integer"},
		{"bad period", []pipeline.Object{object("A", str("type", "ShellCommandActivity"), str("retryDelay", "soon"))}, "retryDelay"},
		{"bad schedule", []pipeline.Object{object("A", str("type", "ShellCommandActivity"), ref("schedule", "S")),
			object("S", str("type", "Schedule"), str("period", "1 hour"))}, "needs startDateTime"},
		{"parent cycle", []pipeline.Object{object("A", ref("parent", "B")), object("B", ref("parent", "A"))}, "cyclic"},
	}
	for _, tc := range tests {
		_, err := Compile(&pipeline.Definition{Objects: tc.objs}, CompileOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}
