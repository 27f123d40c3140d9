package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/expr"
)

// evalDefinition exercises every kind of name: parameters of each type,
// inheritance through Default and an explicit parent, references, fields
// holding expressions, secrets and cycles.
func evalDefinition() *Definition {
	param := func(id string, attrs ...string) ParameterObject {
		p := ParameterObject{ID: id}
		for i := 0; i+1 < len(attrs); i += 2 {
			p.Attributes = append(p.Attributes, ParameterAttribute{Key: attrs[i], StringValue: attrs[i+1]})
		}
		return p
	}
	return &Definition{
		Objects: []Object{
			obj("Default", String("scheduleType", "ondemand"), String("pipelineLogUri", "s3://logs/#{@pipelineId}/"),
				String("myBase", "s3://base")),
			obj("Sched", String("type", "Schedule"), String("startDateTime", "2012-12-12T00:00:00"),
				String("endDateTime", "2012-12-21T18:00:00"), String("period", "1 day")),
			obj("Tmpl", String("myDir", "#{myBase}/tmpl/#{name}")),
			{ID: "In", Name: "In name", Fields: []Field{String("type", "S3DataNode"), String("directoryPath", "#{myBucket}/in"), Ref("parent", "Tmpl")}},
			obj("In2", String("type", "S3DataNode"), String("directoryPath", "s3://other/in2")),
			obj("Act", String("type", "ShellCommandActivity"), String("command", "cp #{input.directoryPath} x"),
				Ref("input", "In"), String("myStamp", "#{format(@scheduledStartTime,'YYYY')}"), String("workerGroup", "wg")),
			obj("Two", Ref("input", "In"), Ref("input", "In2"), String("myBucket", "field loses"), String("myOwn", "#{myBucket}")),
			obj("Self", String("mySelf", "#{mySelf}"), String("myA", "x#{myB}"), String("myB", "#{myA}")),
			obj("X", String("myX", "#{other.myY}"), Ref("other", "Y")),
			obj("Y", String("myY", "#{back.myX}"), Ref("back", "X")),
			obj("Db", String("type", "RdsDatabase"), String("*password", "#{*myPassword}"), String("username", "u")),
			obj("Alarm", String("type", "SnsAlarm"), String("message", "#{node.name} failed")),
			obj("Num", String("type", "ShellCommandActivity"), String("maximumRetries", "3"), String("attemptCountLimit", "#{maximumRetries + 1}")),
			obj("Dyn", String("type", "DynamoDBDataNode"), String("readThroughputPercent", "0.25")),
		},
		ParameterObjects: []ParameterObject{
			param("myBucket", "default", "s3://bucket"),
			param("myCount", "type", "Integer", "default", "3"),
			param("myRatio", "type", "Double", "default", "0.5"),
			param("myList", "isArray", "true"),
			param("myDefaults", "type", "integer", "isArray", "true", "default", "1", "default", "2"),
			param("*myPassword"),
			param("myNoValue", "optional", "true"),
			param("myBadInt", "type", "Integer"),
		},
		ParameterValues: []ParameterValue{
			{ID: "myCount", StringValue: "5"},
			{ID: "myList", StringValue: "a"}, {ID: "myList", StringValue: "b"},
			{ID: "*myPassword", StringValue: "hunter2"},
			{ID: "myBadInt", StringValue: "x"},
			{ID: "myUndeclared", StringValue: "loose"},
		},
	}
}

// evalRuntime knows the components' system fields and one instance of Act
// and In.
func evalRuntime(id string) ([]Field, bool) {
	const start = "2024-01-01T00:00:00"
	switch id {
	case "@Act_" + start:
		return []Field{String("@sphere", "INSTANCE"), String("@scheduledStartTime", start), Ref("parent", "Act"), Ref("input", "@In_"+start)}, true
	case "@In_" + start:
		return []Field{String("@sphere", "INSTANCE"), String("@scheduledStartTime", start), Ref("parent", "In")}, true
	case "@Loop":
		return []Field{Ref("parent", "@Loop")}, true
	}
	if evalDefinition().Object(id) == nil {
		return nil, false
	}
	return []Field{String("@sphere", "COMPONENT"), String("@pipelineId", "df-1")}, true
}

func TestEvaluatorEval(t *testing.T) {
	t.Parallel()
	const act = "@Act_2024-01-01T00:00:00"
	tests := []struct {
		name, id, text string
		want           []string
		wantErr        string // fragment of Explain's message
		wantIs         error
	}{
		{name: "plain text", id: "Act", text: "no # {expression}", want: []string{"no # {expression}"}},
		{name: "parameter default", id: "Act", text: "#{myBucket}/x", want: []string{"s3://bucket/x"}},
		{name: "supplied value wins, Integer arithmetic", id: "Act", text: "#{myCount * 2} #{myCount / 2}", want: []string{"10 2"}},
		{name: "Double parameter", id: "Act", text: "#{myRatio * 2}", want: []string{"1.0"}},
		{name: "array parameter", id: "Act", text: "x-#{myList}", want: []string{"x-a", "x-b"}},
		{name: "array defaults, type in lower case", id: "Act", text: "#{myDefaults * 10}", want: []string{"10", "20"}},
		{name: "parameter before a field of its name", id: "Two", text: "#{myBucket} #{myOwn}", want: []string{"s3://bucket s3://bucket"}},
		{name: "undeclared value is a String", id: "Act", text: "#{myUndeclared}", want: []string{"loose"}},
		{name: "secret parameter", id: "Db", text: "#{*myPassword}", want: []string{"hunter2"}},
		{name: "secret field without star", id: "Db", text: "#{username}:#{password}", want: []string{"u:hunter2"}},
		{name: "inherited from Default", id: "Act", text: "#{scheduleType}", want: []string{"ondemand"}},
		{name: "inherited expression in the heir's context", id: "In", text: "#{myDir}", want: []string{"s3://base/tmpl/In name"}},
		{name: "runtime field", id: "Act", text: "#{@pipelineId} #{@sphere}", want: []string{"df-1 COMPONENT"}},
		{name: "inherited field using a runtime field", id: "Act", text: "#{pipelineLogUri}", want: []string{"s3://logs/df-1/"}},
		{name: "own id and name", id: "In", text: "#{@id}|#{name}", want: []string{"In|In name"}},
		{name: "dotted ref to an expression field", id: "Act", text: "#{input.directoryPath}", want: []string{"s3://bucket/in"}},
		{name: "nested expression through a ref", id: "Act", text: "#{command}", want: []string{"cp s3://bucket/in x"}},
		{name: "repeated ref", id: "Two", text: "#{input.directoryPath}", want: []string{"s3://bucket/in", "s3://other/in2"}},
		{name: "explicit parent", id: "In", text: "#{parent.@id} #{parent.myDir}", want: []string{"Tmpl s3://base/tmpl/Tmpl"}},
		{name: "implicit parent is Default", id: "Act", text: "#{parent.name}", want: []string{"Default"}},
		{name: "Schedule example", id: "Sched", text: "Transform started at #{startDateTime} and finished at #{endDateTime}",
			want: []string{"Transform started at 2012-12-12T00:00:00 and finished at 2012-12-21T18:00:00"}},
		{name: "string field as DateTime", id: "Sched", text: "#{format(plusDays(startDateTime, 1), 'YYYY-MM-dd')}", want: []string{"2012-12-13"}},
		{name: "type is verbatim", id: "Act", text: "#{type}", want: []string{"ShellCommandActivity"}},

		{name: "instance runtime field", id: act, text: "#{format(@scheduledStartTime,'YYYY-MM-dd')}", want: []string{"2024-01-01"}},
		{name: "instance inherits and evaluates in its own context", id: act, text: "#{myStamp} #{workerGroup}", want: []string{"2024 wg"}},
		{name: "instance ref to an instance", id: act, text: "#{command} #{input.@scheduledStartTime}", want: []string{"cp s3://bucket/in x 2024-01-01T00:00:00"}},
		{name: "instance parent and name", id: act, text: "#{parent.@id} #{name} #{@sphere}", want: []string{"Act " + act + " INSTANCE"}},

		{name: "runtime field on a component", id: "Act", text: "#{format(@scheduledStartTime,'YYYY')}",
			wantErr: "line 1 col 10: @scheduledStartTime: '@scheduledStartTime' is a runtime field of instances; component 'Act' has no value for it. Evaluate the expression against an instance of Act, whose id looks like @Act_YYYY-MM-DDTHH:MM:SS",
			wantIs:  expr.ErrUndefined},
		{name: "node on a component", id: "Alarm", text: "#{message}", wantErr: "in field 'message' of 'Alarm', #{node.name}, line 1 col 3: node: 'node' is a runtime field of instances", wantIs: expr.ErrUndefined},
		{name: "field using a runtime field on a component", id: "Act", text: "#{myStamp}", wantErr: "in field 'myStamp' of 'Act', #{format(@scheduledStartTime,'YYYY')}, line 1 col 10: @scheduledStartTime: '@scheduledStartTime' is a runtime field of instances"},
		{name: "component runtime field without a value", id: "Act", text: "#{@nextRunTime}", wantErr: "'@nextRunTime' is a runtime field with no value on component 'Act'"},
		{name: "secret as a pattern is not quoted", id: "Db", text: "#{format(makeDate(2011,1,1), *myPassword)}",
			wantErr: "illegal pattern component at character 2 of the pattern"},
		{name: "Integer field is a number", id: "Num", text: "#{maximumRetries + 1} #{maximumRetries / 2}", want: []string{"4 1"}},
		{name: "Integer field from an expression", id: "Num", text: "#{attemptCountLimit}", want: []string{"4"}},
		{name: "Double field is a number", id: "Dyn", text: "#{readThroughputPercent * 2}", want: []string{"0.5"}},
		{name: "unknown name", id: "Act", text: "a #{myNope}", wantErr: "line 1 col 5: myNope: 'myNope' is neither a field of 'Act' (own or inherited) nor a parameter", wantIs: expr.ErrUndefined},
		{name: "unknown object", id: "Nope", text: "#{name}", wantErr: "no object 'Nope' in the pipeline", wantIs: ErrNoObject},
		{name: "unknown instance", id: "@Act_1999-01-01T00:00:00", text: "#{name}", wantIs: expr.ErrUndefined},
		{name: "runtime parent loop", id: "@Loop", text: "#{name}", wantErr: "cyclic parent chain"},
		{name: "syntax error", id: "Act", text: "ok #{1 +}", wantErr: "line 1 col 9: unexpected"},
		{name: "parameter without value", id: "Act", text: "#{myNoValue}", wantErr: "parameter 'myNoValue' has neither a value nor a default", wantIs: expr.ErrUndefined},
		{name: "bad Integer parameter", id: "Act", text: "#{myBadInt}", wantErr: `parameter 'myBadInt' is of type Integer but its value "x" is not`},
		{name: "field refers to itself", id: "Self", text: "#{mySelf}", wantErr: "the field refers to itself: Self.mySelf -> Self.mySelf"},
		{name: "fields refer to each other", id: "Self", text: "#{myA}", wantErr: "Self.myA -> Self.myB -> Self.myA"},
		{name: "cycle across objects", id: "X", text: "#{myX}", wantErr: "X.myX -> Y.myY -> X.myX"},
		{name: "secret kept out of messages", id: "Db", text: "#{day(*myPassword)}", wantErr: `want DateTime, got String "****"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := NewEvaluator(evalDefinition(), evalRuntime)
			got, err := ev.Eval(tc.id, tc.text)
			if tc.wantErr == "" && tc.wantIs == nil {
				if err != nil {
					t.Fatalf("Eval(%s, %q) error: %s", tc.id, tc.text, ev.Explain(err))
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("Eval(%s, %q) mismatch (-want +got):\n%s", tc.id, tc.text, diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("Eval(%s, %q) = %q, want an error", tc.id, tc.text, got)
			}
			msg := ev.Explain(err)
			if !strings.Contains(msg, tc.wantErr) {
				t.Errorf("Explain = %q, want it to contain %q", msg, tc.wantErr)
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("Explain = %q reveals a secret", msg)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v is not %v", err, tc.wantIs)
			}
		})
	}
}

func TestEvaluatorBounds(t *testing.T) {
	t.Parallel()
	t.Run("depth", func(t *testing.T) {
		t.Parallel()
		o := obj("Deep", String("myF0", "end"))
		for i := 1; i <= 40; i++ {
			o.Fields = append(o.Fields, String(fmt.Sprint("myF", i), fmt.Sprintf("#{myF%d}", i-1)))
		}
		ev := NewEvaluator(&Definition{Objects: []Object{o}}, nil)
		if got, err := ev.Eval("Deep", "#{myF20}"); err != nil || got[0] != "end" {
			t.Errorf("Eval(myF20) = %q, %v; want end", got, err)
		}
		_, err := NewEvaluator(&Definition{Objects: []Object{o}}, nil).Eval("Deep", "#{myF40}")
		if err == nil || !strings.Contains(err.Error(), "more than 32 deep") {
			t.Errorf("Eval(myF40) error = %v, want the depth bound", err)
		}
	})
	t.Run("doubling", func(t *testing.T) {
		t.Parallel()
		// Each field doubles the last: 1 KB × 2^30 if nothing stopped it.
		o := obj("Big", String("myE0", strings.Repeat("x", 1024)))
		for i := 1; i <= 30; i++ {
			o.Fields = append(o.Fields, String(fmt.Sprint("myE", i), fmt.Sprintf("#{myE%d}#{myE%d}", i-1, i-1)))
		}
		start := time.Now()
		_, err := NewEvaluator(&Definition{Objects: []Object{o}}, nil).Eval("Big", "#{myE30}")
		if err == nil || !strings.Contains(err.Error(), "bytes") {
			t.Errorf("Eval(myE30) error = %v, want a size bound", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("Eval(myE30) took %v", d)
		}
	})
}

func TestEvaluatorWithoutRuntime(t *testing.T) {
	t.Parallel()
	ev := NewEvaluator(evalDefinition(), nil)
	_, err := ev.Eval("Act", "#{@sphere}")
	if err == nil || !strings.Contains(ev.Explain(err), "'@sphere' is a runtime field with no value on component 'Act'") {
		t.Errorf("Eval(@sphere) without a runtime: error %v", err)
	}
	if _, err := ev.Env("@Act_2024-01-01T00:00:00"); !errors.Is(err, ErrNoObject) {
		t.Errorf("Env(instance) without a runtime: error %v, want ErrNoObject", err)
	}
}

// FuzzEvaluatorEval evaluates arbitrary text in the context of every kind
// of object: it must never panic, and every failure must explain itself.
func FuzzEvaluatorEval(f *testing.F) {
	for _, s := range []string{
		"#{command}", "#{myA}", "#{other.myY}", "#{input.@scheduledStartTime}", "#{myList + myList}",
		"#{format(plusDays(startDateTime, myCount), 'YYYY')}", "#{*myPassword}#{password}", "#{node.name}",
		"#{parent.parent.parent.name}", "#{1 +", "#{myDefaults * myRatio ^ 2}", "#{@id}#{name}#{type}",
	} {
		f.Add(uint8(0), s)
	}
	def := evalDefinition()
	ids := []string{"Act", "In", "Two", "Self", "X", "Db", "Alarm", "Sched", "Default", "@Act_2024-01-01T00:00:00", "@Loop", "Nope"}
	f.Fuzz(func(t *testing.T, which uint8, text string) {
		ev := NewEvaluator(def, evalRuntime)
		if _, err := ev.Eval(ids[int(which)%len(ids)], text); err != nil && ev.Explain(err) == "" {
			t.Errorf("Eval(%q) error %v explains as nothing", text, err)
		}
	})
}
