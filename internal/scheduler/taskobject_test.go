package scheduler

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/expr"
	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/pipeline/pipelinetest"
)

var update = flag.Bool("update", false, "rewrite testdata/taskobject/*.golden.json with the current results")

// taskFixture is a definition driven through the Run until an attempt of
// one activity is queued: the state PollForTask finds it in.
type taskFixture struct {
	def  *pipeline.Definition
	run  *Run
	task *TaskInput
}

func loadDefinition(t testing.TB, name string) *pipeline.Definition {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "taskobject", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	def, err := pipeline.ParseFile(f)
	if err != nil {
		t.Fatalf("ParseFile(%s): %v", name, err)
	}
	if r := pipeline.Validate(def, pipeline.Options{Now: at("2026-01-01T00:00:00")}); r.Errored() {
		t.Fatalf("%s does not validate: %+v", name, r.Errors)
	}
	return def
}

// queued runs def at now and returns the task input of the first queued
// attempt.
func queued(t testing.TB, def *pipeline.Definition, now string) *taskFixture {
	t.Helper()
	g, err := Compile(def, CompileOptions{FirstActivation: at(now)})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	run := NewRun("df-0937003356ZJEXAMPLE", 1, g, nil, nil, nil)
	p := PlanInstances(PlanInput{Components: g.Components(), Created: run.Created(), Now: at(now)})
	run.Add(p.Create)
	ch, _ := run.Step(at(now))
	if len(ch.Tasks) == 0 {
		t.Fatalf("no task queued at %s", now)
	}
	order := ch.Tasks[0]
	a, _ := run.Attempt(order.AttemptID)
	ti, err := taskInput(def, run, a)
	if err != nil {
		t.Fatal(err)
	}
	return &taskFixture{def: def, run: run, task: ti}
}

func TestBuildTaskObjectGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, now string
		attempt   string
		// secret, if set, must be in the task object: runners need it.
		secret string
	}{
		{name: "shell", now: "2026-03-01T10:00:00", attempt: "@ShellCommandActivityObj_2026-03-01T10:00:00_Attempt=1"},
		{name: "copy", now: "2026-01-02T00:30:00", attempt: "@Load_2026-01-01T00:00:00_Attempt=1", secret: "s3cret-pw"},
		// A precondition's check reads its node whole: an Exists on a
		// SqlDataNode needs the evaluated table and the database.
		{name: "exists", now: "2026-01-02T00:30:00", attempt: "@TableReady_2026-01-01T00:00:00_Attempt=1", secret: "s3cret-check"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := queued(t, loadDefinition(t, tc.name+".json"), tc.now)
			if fx.task.Attempt.ID != tc.attempt {
				t.Fatalf("queued attempt %s, want %s", fx.task.Attempt.ID, tc.attempt)
			}
			got, err := BuildTaskObject(fx.task)
			if err != nil {
				t.Fatalf("BuildTaskObject: %v", err)
			}
			if tc.secret != "" && !bytes.Contains(got, []byte(tc.secret)) {
				t.Errorf("task object lacks the secret value the runner needs")
			}
			checkRefsResolve(t, got, tc.attempt)

			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "  "); err != nil {
				t.Fatalf("task object is not JSON: %v\n%s", err, got)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", "taskobject", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), pretty.String()); diff != "" {
				t.Errorf("task object mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// checkRefsResolve decodes a task object's map as the wire model has it
// (id → PipelineObject) and checks that the attempt is there with name = id
// and that each of its references names an object of the map.
func checkRefsResolve(t *testing.T, objects []byte, attemptID string) {
	t.Helper()
	var m map[string]pipeline.Object
	if err := json.Unmarshal(objects, &m); err != nil {
		t.Fatalf("objects map: %v", err)
	}
	a, ok := m[attemptID]
	if !ok || a.ID != attemptID || a.Name != attemptID {
		t.Fatalf("map lacks the attempt %s (id and name)", attemptID)
	}
	for id, o := range m {
		if o.ID != id {
			t.Errorf("map key %s holds object %s", id, o.ID)
		}
	}
	for _, f := range a.Fields {
		if f.RefValue != nil {
			if _, ok := m[*f.RefValue]; !ok {
				t.Errorf("attempt's %s → %s is not in the map", f.Key, *f.RefValue)
			}
		}
		if f.StringValue != nil && strings.Contains(*f.StringValue, "#{") {
			t.Errorf("attempt's %s = %q is not evaluated", f.Key, *f.StringValue)
		}
	}
}

func TestBuildTaskObjectErrors(t *testing.T) {
	t.Parallel()
	const attempt = "@ShellCommandActivityObj_2026-03-01T10:00:00_Attempt=1"
	// edit changes one field of the shell definition's object id.
	edit := func(id, key, value string) func(*pipeline.Definition) {
		return func(def *pipeline.Definition) {
			o := def.Object(id)
			for i := range o.Fields {
				if o.Fields[i].Key == key {
					o.Fields[i] = pipeline.String(key, value)
					return
				}
			}
			o.Fields = append(o.Fields, pipeline.String(key, value))
		}
	}
	tests := []struct {
		name   string
		def    func(*pipeline.Definition)
		task   func(*TaskInput)
		want   []string // fragments of the message
		wantAs bool     // a *pipeline.FieldEvalError
		wantIs error
	}{
		{
			name: "unknown name in the activity", def: edit("ShellCommandActivityObj", "command", "echo #{myNope}"),
			want:   []string{"object '" + attempt + "'", "field 'command'", "line 1 col 8", "myNope"},
			wantAs: true, wantIs: expr.ErrUndefined,
		},
		{
			name: "syntax error", def: edit("ShellCommandActivityObj", "command", "echo #{1 +}"),
			want: []string{"field 'command'", "line 1 col"}, wantAs: true,
		},
		{
			name: "failure in a bound data node", def: edit("S3InputLocation", "directoryPath", "s3://b/#{day('x')}"),
			want: []string{"object '@S3InputLocation_2026-03-01T10:00:00'", "field 'directoryPath'", "line 1 col"}, wantAs: true,
		},
		{
			name: "failure in a resource", def: edit("EC2ResourceObj", "instanceType", "#{@nope}"),
			want: []string{"object '@EC2ResourceObj_2026-03-01T10:00:00'", "field 'instanceType'"}, wantAs: true,
		},
		{
			name: "secret kept out of the message",
			def: func(def *pipeline.Definition) {
				def.ParameterObjects = append(def.ParameterObjects, pipeline.ParameterObject{ID: "*myToken"})
				def.ParameterValues = append(def.ParameterValues, pipeline.ParameterValue{ID: "*myToken", StringValue: "tok-XYZZY"})
				edit("ShellCommandActivityObj", "command", "#{day(*myToken)}")(def)
			},
			want: []string{"field 'command'", "****"}, wantAs: true,
		},
		{
			name: "attempt of another instance",
			task: func(in *TaskInput) { a := *in.Attempt; a.InstanceID = "@Other"; in.Attempt = &a },
			want: []string{"is not of instance"},
		},
		{
			name: "unrelated bound instance",
			task: func(in *TaskInput) {
				in.Bound = append(in.Bound, &pipeline.Instance{ID: "@Stray_2026-03-01T10:00:00", ComponentID: "Stray"})
			},
			want: []string{"bound instance @Stray_2026-03-01T10:00:00 is not an input, output or resource"},
		},
		{
			name: "resource not bound",
			task: func(in *TaskInput) { in.Bound = in.Bound[:2] },
			want: []string{"resource instance @EC2ResourceObj_2026-03-01T10:00:00", "not among the bound instances"},
		},
		{
			name: "nil bound instance", task: func(in *TaskInput) { in.Bound = append(in.Bound, nil) },
			want: []string{"nil"},
		},
		{
			name: "component not in the definition",
			task: func(in *TaskInput) { x := *in.Instance; x.ComponentID = "Gone"; in.Instance = &x },
			want: []string{"no object 'Gone'"}, wantIs: pipeline.ErrNoObject,
		},
		{
			name: "nothing to build", task: func(in *TaskInput) { in.Attempt = nil },
			want: []string{"required"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			def := loadDefinition(t, "shell.json")
			if tc.def != nil {
				tc.def(def)
			}
			fx := queued(t, def, "2026-03-01T10:00:00")
			if tc.task != nil {
				tc.task(fx.task)
			}
			got, err := BuildTaskObject(fx.task)
			if err == nil {
				t.Fatalf("BuildTaskObject succeeded: %s", got)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "tok-XYZZY") {
				t.Errorf("error %q reveals a secret", msg)
			}
			var fe *pipeline.FieldEvalError
			if tc.wantAs != errors.As(err, &fe) {
				t.Errorf("errors.As(%v, *FieldEvalError) = %v, want %v", err, !tc.wantAs, tc.wantAs)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v is not %v", err, tc.wantIs)
			}
		})
	}
}

// TestBuildTaskObjectInheritedRuntimeExpression checks that a Default field
// using a runtime field is evaluated for the attempt, and kept as written
// on a database that inherits it but has no use for it.
func TestBuildTaskObjectInheritedRuntimeExpression(t *testing.T) {
	t.Parallel()
	def := loadDefinition(t, "copy.json")
	d := def.Object("Default")
	d.Fields = append(d.Fields, pipeline.String("pipelineLogUri", "s3://logs/#{format(@scheduledStartTime,'YYYY-MM-dd')}/"))
	fx := queued(t, def, "2026-01-02T00:30:00")
	got, err := BuildTaskObject(fx.task)
	if err != nil {
		t.Fatalf("BuildTaskObject: %v", err)
	}
	var m map[string]pipeline.Object
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		fx.task.Attempt.ID: "s3://logs/2026-01-01/",
		"Db":               "s3://logs/#{format(@scheduledStartTime,'YYYY-MM-dd')}/",
	} {
		o := m[id]
		if f, _ := o.Get("pipelineLogUri"); f.Value() != want {
			t.Errorf("%s: pipelineLogUri = %q, want %q", id, f.Value(), want)
		}
	}

	// The database's own fields stay strict.
	db := def.Object("Db")
	db.Fields = append(db.Fields, pipeline.String("databaseName", "#{@scheduledStartTime}"))
	if _, err := BuildTaskObject(fx.task); err == nil || !strings.Contains(err.Error(), "object 'Db', field 'databaseName'") {
		t.Errorf("BuildTaskObject with a database field using a runtime field: error %v", err)
	}
}

// TestBuildTaskObjectRetry checks that a later attempt carries its own id,
// counters and an unchanged evaluation.
func TestBuildTaskObjectRetry(t *testing.T) {
	t.Parallel()
	fx := queued(t, loadDefinition(t, "shell.json"), "2026-03-01T10:00:00")
	in := *fx.task.Instance
	in.AttemptCount, in.TriesLeft, in.HeadAttempt = 2, 1, pipeline.AttemptID(in.ID, 2)
	a := &pipeline.Attempt{ID: in.HeadAttempt, InstanceID: in.ID, N: 2, Status: pipeline.StatusWaitingForRunner}
	task := *fx.task
	task.Instance, task.Attempt = &in, a
	got, err := BuildTaskObject(&task)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]pipeline.Object
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	o := m[a.ID]
	for key, want := range map[string]string{"@attemptCount": "2", "@triesLeft": "1", "@headAttempt": a.ID, "@status": "WAITING_FOR_RUNNER"} {
		if f, ok := o.Get(key); !ok || f.Value() != want {
			t.Errorf("%s = %q, want %q", key, f.Value(), want)
		}
	}
}

func BenchmarkBuildTaskObject(b *testing.B) {
	b.Run("getting-started", func(b *testing.B) {
		fx := queued(b, loadDefinition(b, "shell.json"), "2026-03-01T10:00:00")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := BuildTaskObject(fx.task); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("500 objects", func(b *testing.B) {
		def := &pipeline.Definition{Objects: pipelinetest.Definition(500)}
		fx := queued(b, def, "2024-01-01T00:00:00")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := BuildTaskObject(fx.task); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzBuildTaskObject puts arbitrary text in the activity's command and
// the output's path: BuildTaskObject must never panic, and must fail only
// with an error naming the field.
func FuzzBuildTaskObject(f *testing.F) {
	for _, s := range []string{"#{myShellCmd}", "#{input.directoryPath}", "#{", "#{runsOn.runsOn.parent.@id}",
		"#{format(@scheduledStartTime,'YYYY')}", "${INPUT1_STAGING_DIR} #{1/0}", "#{output.command}"} {
		f.Add(s)
	}
	base := loadDefinition(f, "shell.json")
	f.Fuzz(func(t *testing.T, text string) {
		def := *base
		def.Objects = slices.Clone(base.Objects)
		for i := range def.Objects {
			o := &def.Objects[i]
			switch o.ID {
			case "ShellCommandActivityObj":
				o.Fields = append(slices.Clone(o.Fields), pipeline.String("myExtra", text))
			case "S3OutputLocation":
				o.Fields = append(slices.Clone(o.Fields), pipeline.String("manifestFilePath", text))
			}
		}
		fx := queued(t, &def, "2026-03-01T10:00:00")
		if _, err := BuildTaskObject(fx.task); err != nil {
			var fe *pipeline.FieldEvalError
			if !errors.As(err, &fe) {
				t.Errorf("BuildTaskObject(%q): error %v is not a FieldEvalError", text, err)
			}
		}
	})
}
