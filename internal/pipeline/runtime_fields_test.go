package pipeline

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/expr"
)

func at(s string) time.Time {
	t, err := time.Parse(expr.DateTimeLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestInstanceFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    Instance
		links InstanceLinks
		want  []Field
	}{{
		// The data-node instance of Appendix B.
		name: "finished data node",
		in: Instance{ID: "@S3Input_2013-08-19T20:00:00", ComponentID: "S3Input", Type: "S3DataNode", Version: 1,
			ScheduledStart: at("2013-08-19T20:00:00"), ScheduledEnd: at("2013-08-19T21:00:00"), Status: StatusFinished,
			ActualStart: at("2014-02-19T19:44:43"), ActualEnd: at("2014-02-19T19:44:44")},
		links: InstanceLinks{Output: []string{"@MyCopyActivity_2013-08-19T20:00:00"}},
		want: []Field{
			Ref("@componentParent", "S3Input"), Ref("parent", "S3Input"), String("type", "S3DataNode"),
			String("@sphere", "INSTANCE"), String("@version", "1"), String("@pipelineId", "df-1"),
			String("@status", "FINISHED"),
			String("@scheduledStartTime", "2013-08-19T20:00:00"), String("@scheduledEndTime", "2013-08-19T21:00:00"),
			String("@actualStartTime", "2014-02-19T19:44:43"), String("@actualEndTime", "2014-02-19T19:44:44"),
			Ref("output", "@MyCopyActivity_2013-08-19T20:00:00"),
		},
	}, {
		// The resource instance of Appendix B, less @resourceId, which
		// culvert does not keep.
		name: "creating resource",
		in: Instance{ID: "@MyEC2Resource_2013-08-19T23:00:00", ComponentID: "MyEC2Resource", Type: "Ec2Resource", Version: 1,
			ScheduledStart: at("2013-08-19T23:00:00"), ScheduledEnd: at("2013-08-20T00:00:00"), Status: StatusCreating,
			ActualStart: at("2014-02-19T19:59:45"), AttemptCount: 1, TriesLeft: 2,
			HeadAttempt: "@MyEC2Resource_2013-08-19T23:00:00_Attempt=1"},
		links: InstanceLinks{Input: []string{"@MyCopyActivity_2013-08-19T23:00:00"}},
		want: []Field{
			Ref("@componentParent", "MyEC2Resource"), Ref("parent", "MyEC2Resource"), String("type", "Ec2Resource"),
			String("@sphere", "INSTANCE"), String("@version", "1"), String("@pipelineId", "df-1"),
			String("@status", "CREATING"),
			String("@scheduledStartTime", "2013-08-19T23:00:00"), String("@scheduledEndTime", "2013-08-20T00:00:00"),
			String("@actualStartTime", "2014-02-19T19:59:45"),
			String("@attemptCount", "1"), String("@triesLeft", "2"),
			Ref("@headAttempt", "@MyEC2Resource_2013-08-19T23:00:00_Attempt=1"),
			Ref("input", "@MyCopyActivity_2013-08-19T23:00:00"),
		},
	}, {
		name: "failed activity with everything set",
		in: Instance{ID: "@Act_2024-01-01T00:00:00", ComponentID: "Act", Type: "ShellCommandActivity", Version: 3,
			ScheduledStart: at("2024-01-01T00:00:00"), ScheduledEnd: at("2024-01-02T00:00:00"), Status: StatusCascadeFailed,
			ActualEnd: at("2024-01-01T00:05:00"), AttemptCount: 3, TriesLeft: 0, HeadAttempt: "@Act_2024-01-01T00:00:00_Attempt=3",
			Resource: "@Ec2_2024-01-01T00:00:00", CascadeFailedOn: "@Up_2024-01-01T00:00:00", CancellationReason: "why",
			ErrorID: "E", ErrorMessage: "msg", ErrorStackTrace: "trace"},
		links: InstanceLinks{Input: []string{"@In_2024-01-01T00:00:00"}, Output: []string{"@Out_2024-01-01T00:00:00"}},
		want: []Field{
			Ref("@componentParent", "Act"), Ref("parent", "Act"), String("type", "ShellCommandActivity"),
			String("@sphere", "INSTANCE"), String("@version", "3"), String("@pipelineId", "df-1"),
			String("@status", "CASCADE_FAILED"),
			String("@scheduledStartTime", "2024-01-01T00:00:00"), String("@scheduledEndTime", "2024-01-02T00:00:00"),
			String("@actualEndTime", "2024-01-01T00:05:00"),
			String("@attemptCount", "3"), String("@triesLeft", "0"),
			Ref("@headAttempt", "@Act_2024-01-01T00:00:00_Attempt=3"),
			Ref("runsOn", "@Ec2_2024-01-01T00:00:00"),
			Ref("input", "@In_2024-01-01T00:00:00"), Ref("output", "@Out_2024-01-01T00:00:00"),
			Ref("@cascadeFailedOn", "@Up_2024-01-01T00:00:00"), String("cancellationReason", "why"),
			String("errorId", "E"), String("errorMessage", "msg"), String("errorStackTrace", "trace"),
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := InstanceFields("df-1", &tc.in, tc.links)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("InstanceFields mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAttemptFields(t *testing.T) {
	t.Parallel()
	in := &Instance{ID: "@SayHello_2012-12-12T00:00:00", ComponentID: "SayHello", Type: "ShellCommandActivity", Version: 1,
		ScheduledStart: at("2012-12-12T00:00:00"), ScheduledEnd: at("2012-12-12T01:00:00"), Status: StatusRunning,
		AttemptCount: 1, TriesLeft: 2, HeadAttempt: "@SayHello_2012-12-12T00:00:00_Attempt=1",
		Resource: "@Ec2_2012-12-12T00:00:00"}
	tests := []struct {
		name string
		a    Attempt
		want []Field
	}{{
		name: "waiting",
		a:    Attempt{ID: "@SayHello_2012-12-12T00:00:00_Attempt=1", InstanceID: in.ID, N: 1, Status: StatusWaitingForRunner},
		want: []Field{
			Ref("@componentParent", "SayHello"), Ref("@instanceParent", in.ID), String("type", "ShellCommandActivity"),
			String("@sphere", "ATTEMPT"), String("@version", "1"), String("@pipelineId", "df-1"),
			String("@status", "WAITING_FOR_RUNNER"),
			String("@scheduledStartTime", "2012-12-12T00:00:00"), String("@scheduledEndTime", "2012-12-12T01:00:00"),
			Ref("parent", in.ID),
		},
	}, {
		name: "failed",
		a: Attempt{ID: "@SayHello_2012-12-12T00:00:00_Attempt=1", InstanceID: in.ID, N: 1, Status: StatusFailed,
			Hostname: "h1", ActualStart: at("2012-12-13T01:40:50"), ActualEnd: at("2012-12-13T01:41:00"),
			ReportProgressTime: at("2012-12-13T01:40:55"), LogLocation: "s3://logs/df-1/SayHello/a1/",
			ErrorID: "E", ErrorMessage: "exit 1", ErrorStackTrace: "st"},
		want: []Field{
			Ref("@componentParent", "SayHello"), Ref("@instanceParent", in.ID), String("type", "ShellCommandActivity"),
			String("@sphere", "ATTEMPT"), String("@version", "1"), String("@pipelineId", "df-1"),
			String("@status", "FAILED"),
			String("@scheduledStartTime", "2012-12-12T00:00:00"), String("@scheduledEndTime", "2012-12-12T01:00:00"),
			String("@actualStartTime", "2012-12-13T01:40:50"), String("@actualEndTime", "2012-12-13T01:41:00"),
			String("hostname", "h1"), String("reportProgressTime", "2012-12-13T01:40:55"),
			String("@logLocation", "s3://logs/df-1/SayHello/a1/"),
			String("errorId", "E"), String("errorMessage", "exit 1"), String("errorStackTrace", "st"),
			Ref("parent", in.ID),
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, AttemptFields("df-1", in, &tc.a)); diff != "" {
				t.Errorf("AttemptFields mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("context", func(t *testing.T) {
		t.Parallel()
		a := &Attempt{ID: "@SayHello_2012-12-12T00:00:00_Attempt=1", InstanceID: in.ID, N: 1, Status: StatusWaitingForRunner}
		got := AttemptContextFields("df-1", in, InstanceLinks{Input: []string{"@In_2012-12-12T00:00:00"}}, a)
		want := []Field{
			Ref("@componentParent", "SayHello"), Ref("@instanceParent", in.ID), String("type", "ShellCommandActivity"),
			String("@sphere", "ATTEMPT"), String("@version", "1"), String("@pipelineId", "df-1"),
			String("@status", "WAITING_FOR_RUNNER"),
			String("@scheduledStartTime", "2012-12-12T00:00:00"), String("@scheduledEndTime", "2012-12-12T01:00:00"),
			Ref("parent", "SayHello"),
			// From the instance.
			String("@attemptCount", "1"), String("@triesLeft", "2"),
			Ref("@headAttempt", a.ID), Ref("runsOn", "@Ec2_2012-12-12T00:00:00"), Ref("input", "@In_2012-12-12T00:00:00"),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AttemptContextFields mismatch (-want +got):\n%s", diff)
		}
	})
}

// runtimeDefinition is a small staged shell pipeline with a resource, a
// parameter and a secret.
func runtimeDefinition() *Definition {
	return &Definition{
		Objects: []Object{
			obj("Default", String("scheduleType", "cron"), Ref("schedule", "Sched"),
				String("pipelineLogUri", "s3://logs/#{@pipelineId}/")),
			obj("Sched", String("type", "Schedule"), String("period", "1 day"), String("startDateTime", "2024-01-01T00:00:00")),
			obj("In", String("type", "S3DataNode"), String("directoryPath", "#{myBucket}/in/#{format(@scheduledStartTime,'YYYY-MM-dd')}")),
			obj("Ec2", String("type", "Ec2Resource"), String("instanceType", "t3.micro")),
			obj("Act", String("type", "ShellCommandActivity"), Ref("input", "In"), Ref("runsOn", "Ec2"),
				String("command", "ls ${INPUT1_STAGING_DIR} #{input.directoryPath}"), String("myKey", "#{*myPassword}"),
				String("myStamp", "#{format(@scheduledStartTime,'YYYY')}/#{@attemptCount}")),
		},
		ParameterObjects: []ParameterObject{{ID: "myBucket"}, {ID: "*myPassword"}},
		ParameterValues:  []ParameterValue{{ID: "myBucket", StringValue: "s3://b"}, {ID: "*myPassword", StringValue: "hunter2"}},
	}
}

func TestRuntimeEvaluation(t *testing.T) {
	t.Parallel()
	const start = "2024-01-01T00:00:00"
	inst := &Instance{ID: "@Act_" + start, ComponentID: "Act", Type: "ShellCommandActivity", Version: 2,
		ScheduledStart: at(start), ScheduledEnd: at("2024-01-02T00:00:00"), Status: StatusWaitingForRunner,
		AttemptCount: 1, TriesLeft: 2, HeadAttempt: "@Act_" + start + "_Attempt=1", Resource: "@Ec2_" + start}
	in := &Instance{ID: "@In_" + start, ComponentID: "In", Type: "S3DataNode", Version: 2,
		ScheduledStart: at(start), ScheduledEnd: at("2024-01-02T00:00:00"), Status: StatusFinished}
	ec2 := &Instance{ID: "@Ec2_" + start, ComponentID: "Ec2", Type: "Ec2Resource", Version: 2,
		ScheduledStart: at(start), ScheduledEnd: at("2024-01-02T00:00:00"), Status: StatusRunning}
	a := &Attempt{ID: "@Act_" + start + "_Attempt=1", InstanceID: inst.ID, N: 1, Status: StatusWaitingForRunner}

	def := runtimeDefinition()
	rt := NewRuntime("df-1", 2, def)
	links := InstanceLinks{Input: []string{in.ID}}
	rt.AddInstance(inst, links)
	rt.AddInstance(in, InstanceLinks{Output: []string{inst.ID}})
	rt.AddInstance(ec2, InstanceLinks{Input: []string{inst.ID}})
	rt.AddAttempt(inst, links, a)

	tests := []struct {
		name, id, text string
		want           []string
		wantErr        string
	}{
		{name: "scheduled start", id: inst.ID, text: "#{@scheduledStartTime}", want: []string{start}},
		{name: "format", id: inst.ID, text: "#{format(@scheduledStartTime,'YYYY')}", want: []string{"2024"}},
		{name: "parent is the component", id: inst.ID, text: "#{parent.@id}", want: []string{"Act"}},
		{name: "attempt parent is the component too", id: a.ID, text: "#{parent.@id} #{@instanceParent.@id}", want: []string{"Act " + inst.ID}},
		{name: "inherited field in the instance's context", id: inst.ID, text: "#{myStamp}", want: []string{"2024/1"}},
		{name: "through the bound data-node instance", id: a.ID, text: "#{input.directoryPath}", want: []string{"s3://b/in/2024-01-01"}},
		{name: "shell variables left alone", id: a.ID, text: "#{command}", want: []string{"ls ${INPUT1_STAGING_DIR} s3://b/in/2024-01-01"}},
		{name: "runsOn reaches the resource instance", id: a.ID, text: "#{runsOn.@id} #{runsOn.instanceType}", want: []string{ec2.ID + " t3.micro"}},
		{name: "component system field through Default", id: a.ID, text: "#{pipelineLogUri}", want: []string{"s3://logs/df-1/"}},
		{name: "attempt's own and instance's fields", id: a.ID, text: "#{@sphere} #{@status} #{@triesLeft} #{name}", want: []string{"ATTEMPT WAITING_FOR_RUNNER 2 " + a.ID}},
		{name: "data node back-link", id: in.ID, text: "#{output.@id}", want: []string{inst.ID}},
		{name: "component has no scheduled start", id: "Act", text: "#{myStamp}", wantErr: "runtime field of instances"},
		{name: "secret kept out of messages", id: a.ID, text: "#{day(myKey)}", wantErr: "****"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := NewEvaluator(def, rt.Func())
			got, err := ev.Eval(tc.id, tc.text)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("Eval(%s, %q) = %q, want an error", tc.id, tc.text, got)
				}
				if msg := ev.Explain(err); !strings.Contains(msg, tc.wantErr) || strings.Contains(msg, "hunter2") {
					t.Errorf("Explain = %q, want it to contain %q and no secret", msg, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Eval(%s, %q): %s", tc.id, tc.text, ev.Explain(err))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Eval(%s, %q) mismatch (-want +got):\n%s", tc.id, tc.text, diff)
			}
		})
	}

	t.Run("flatten", func(t *testing.T) {
		t.Parallel()
		ev := NewEvaluator(def, rt.Func())
		got, err := ev.Flatten(a.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string]string{
			"command": "ls ${INPUT1_STAGING_DIR} s3://b/in/2024-01-01", "myKey": "hunter2", "myStamp": "2024/1",
			"parent": "Act", "input": in.ID, "runsOn": ec2.ID, "schedule": "Sched", "pipelineLogUri": "s3://logs/df-1/",
		} {
			if f, ok := got.Get(key); !ok || f.Value() != want {
				t.Errorf("Flatten: %s = %q, want %q", key, f.Value(), want)
			}
		}
		if _, err := NewEvaluator(def, rt.Func()).Flatten("Act", nil); err == nil {
			t.Error("Flatten(component using @scheduledStartTime) succeeded")
		} else {
			var fe *FieldEvalError
			if !errors.As(err, &fe) || fe.Object != "Act" || fe.Field != "command" || !strings.Contains(fe.Error(), "line 1 col") {
				t.Errorf("Flatten(Act) error = %v, want a FieldEvalError on command with a position", err)
			}
			if !errors.Is(err, expr.ErrUndefined) {
				t.Errorf("Flatten(Act) error %v is not expr.ErrUndefined", err)
			}
		}
		lenient, err := NewEvaluator(def, rt.Func()).Flatten("Act", func(string) bool { return true })
		if err != nil {
			t.Fatalf("Flatten(Act, keep all): %v", err)
		}
		if f, _ := lenient.Get("myStamp"); f.Value() != "#{format(@scheduledStartTime,'YYYY')}/#{@attemptCount}" {
			t.Errorf("Flatten(Act, keep all): myStamp = %q, want it as written", f.Value())
		}
	})
}
