package datapipeline_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/datapipeline"
	"github.com/culvert/culvert/internal/queue"
	"github.com/culvert/culvert/internal/store/sqlite"
)

// This file checks the input constraints of every operation against the
// service model that botocore ships, read from the installed botocore at
// test time: the model, not this file, says what must be rejected.
//
// For each operation the test builds a minimal valid request from the
// model, then walks every constraint reachable from the input shape
// (required members, string lengths, list lengths, the XML-character
// pattern, enums) and, for each, sends the valid request with exactly that
// one constraint broken. The operation must answer InvalidRequestException
// in AWS's "1 validation error detected: Value at 'PATH' failed to satisfy
// constraint: …" form, naming the member by its AWS path. Constraints that
// culvert deliberately handles another way are listed in modelDeviations.

// apiModel is the part of a botocore service-2.json that the test reads.
type apiModel struct {
	Metadata struct {
		APIVersion string `json:"apiVersion"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input *apiRef `json:"input"`
	} `json:"operations"`
	Shapes map[string]*apiShape `json:"shapes"`
}

type apiShape struct {
	Type     string            `json:"type"`
	Required []string          `json:"required"`
	Members  map[string]apiRef `json:"members"`
	Member   *apiRef           `json:"member"`
	Min      *int              `json:"min"`
	Max      *int              `json:"max"`
	Pattern  string            `json:"pattern"`
	Enum     []string          `json:"enum"`
}

type apiRef struct {
	Shape string `json:"shape"`
}

// errNoBotocore marks the environment problems that skip the model tests
// rather than fail them.
var errNoBotocore = errors.New("botocore is not available")

// botocoreModel reads the Data Pipeline model from the installed botocore,
// once per test binary.
var botocoreModel = sync.OnceValues(func() (*apiModel, error) {
	python, err := exec.LookPath("python3")
	if err != nil {
		return nil, fmt.Errorf("%w: python3 not found in PATH", errNoBotocore)
	}
	out, err := exec.Command(python, "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		return nil, fmt.Errorf("%w: python3 cannot import botocore: %v", errNoBotocore, err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "data", "datapipeline", "2012-10-29", "service-2.json.gz")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoBotocore, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var m apiModel
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	if m.Metadata.APIVersion != "2012-10-29" || len(m.Operations) == 0 {
		return nil, fmt.Errorf("%s does not look like the Data Pipeline 2012-10-29 model", path)
	}
	return &m, nil
})

// loadModel returns the botocore model, or skips the test loudly when
// python3 or botocore is missing. CULVERT_TEST_REQUIRE_BOTOCORE=1 turns
// that skip into a failure, for CI.
func loadModel(tb testing.TB) *apiModel {
	tb.Helper()
	m, err := botocoreModel()
	if errors.Is(err, errNoBotocore) {
		msg := fmt.Sprintf("the model tests need botocore's Data Pipeline model, the authority for input constraints: %v. "+
			"Install it with `pip install botocore`", err)
		if os.Getenv("CULVERT_TEST_REQUIRE_BOTOCORE") == "1" {
			tb.Fatal(msg + " (CULVERT_TEST_REQUIRE_BOTOCORE=1 is set).")
		}
		tb.Skip("SKIP: " + msg + "; set CULVERT_TEST_REQUIRE_BOTOCORE=1 to make this a failure.")
	}
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// step is one step of a member path: a structure member, or the first
// element of a list.
type step struct {
	member string // "" for a list element
}

type memberPath []step

func (p memberPath) member(name string) memberPath { return append(slices.Clip(p), step{member: name}) }
func (p memberPath) elem() memberPath              { return append(slices.Clip(p), step{}) }

// aws renders p as AWS's validation messages do: members joined by dots,
// and a list element as ".1.member" (1-based), so the first field key of
// the first object is 'pipelineObjects.1.member.fields.1.member.key' and
// the first id of a list of ids is 'objectIds.1.member'.
func (p memberPath) aws() string {
	var b strings.Builder
	for _, s := range p {
		if s.member == "" {
			b.WriteString(".1.member")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.member)
	}
	return b.String()
}

// Kinds of constraint.
const (
	kRequired = "required"
	kMin      = "min"
	kMax      = "max"
	kPattern  = "pattern"
	kEnum     = "enum"
)

// constraint is one constraint of the model at one member path.
type constraint struct {
	path  memberPath
	shape string // the constrained shape
	kind  string
	limit int // for kMin and kMax
}

func (c constraint) String() string {
	s := c.path.aws() + "/" + c.kind
	if c.kind == kMin || c.kind == kMax {
		s += strconv.Itoa(c.limit)
	}
	return s
}

// constraints lists every constraint reachable from shape, in a stable
// order. Constraints on shapes the walker does not understand are returned
// as problems, so that a new kind of constraint in a future model fails
// the test instead of going unchecked.
func (m *apiModel) constraints(shape string, path memberPath) (out []constraint, problems []string) {
	if len(path) > 16 {
		return nil, []string{fmt.Sprintf("%s: shape nesting too deep (recursive shape?)", path.aws())}
	}
	s := m.Shapes[shape]
	if s == nil {
		return nil, []string{fmt.Sprintf("%s: unknown shape %q", path.aws(), shape)}
	}
	switch s.Type {
	case "structure":
		for _, name := range slices.Sorted(maps.Keys(s.Members)) {
			p := path.member(name)
			if slices.Contains(s.Required, name) {
				out = append(out, constraint{path: p, shape: s.Members[name].Shape, kind: kRequired})
			}
			cs, ps := m.constraints(s.Members[name].Shape, p)
			out, problems = append(out, cs...), append(problems, ps...)
		}
	case "list":
		if s.Min != nil && *s.Min > 0 {
			out = append(out, constraint{path: path, shape: shape, kind: kMin, limit: *s.Min})
		}
		if s.Max != nil {
			out = append(out, constraint{path: path, shape: shape, kind: kMax, limit: *s.Max})
		}
		cs, ps := m.constraints(s.Member.Shape, path.elem())
		out, problems = append(out, cs...), append(problems, ps...)
	case "string":
		if len(s.Enum) > 0 {
			out = append(out, constraint{path: path, shape: shape, kind: kEnum})
		}
		if s.Min != nil && *s.Min > 0 {
			out = append(out, constraint{path: path, shape: shape, kind: kMin, limit: *s.Min})
		}
		if s.Max != nil {
			out = append(out, constraint{path: path, shape: shape, kind: kMax, limit: *s.Max})
		}
		if s.Pattern != "" {
			out = append(out, constraint{path: path, shape: shape, kind: kPattern})
		}
	default:
		if s.Min != nil || s.Max != nil || s.Pattern != "" || len(s.Enum) > 0 || len(s.Members) > 0 {
			problems = append(problems, fmt.Sprintf("%s: constraints on a %s shape (%s) are not walked by this test", path.aws(), s.Type, shape))
		}
	}
	return out, problems
}

// memberValues are valid values that are more useful than the generic
// ones: they let a valid request get past the operation's own checks, so
// that it fails, if at all, on the store (the pipeline does not exist).
var memberValues = map[string]string{
	"sphere":  "COMPONENT",
	"status":  "PAUSE",
	"version": "latest",
}

// extraMembers are optional members that a valid request includes anyway,
// because the operation's semantics need them: a field with neither a
// string nor a reference value is a fatal definition error.
var extraMembers = map[string][]string{
	"Field": {"stringValue"},
}

// exclusiveMembers are members of which a valid request sets only one:
// setting one of them (to break or to stretch it) drops the others.
var exclusiveMembers = map[string][]string{
	"Field": {"stringValue", "refValue"},
}

// value returns a valid value of shape: required members only (or every
// member if full), lists of one element, the first enum value, and strings
// of the shortest valid non-empty length.
func (m *apiModel) value(shape, member string, full bool) any {
	s := m.Shapes[shape]
	switch s.Type {
	case "structure":
		obj := map[string]any{}
		for name, ref := range s.Members {
			if full || slices.Contains(s.Required, name) || slices.Contains(extraMembers[shape], name) {
				obj[name] = m.value(ref.Shape, name, full)
			}
		}
		return obj
	case "list":
		return []any{m.value(s.Member.Shape, member, full)}
	case "string":
		if len(s.Enum) > 0 {
			return s.Enum[0]
		}
		if v, ok := memberValues[member]; ok {
			return v
		}
		if shape == "id" {
			return "df-X"
		}
		n := 1
		if s.Min != nil {
			n = max(n, *s.Min)
		}
		return strings.Repeat("a", n)
	case "boolean":
		return true
	case "integer", "long":
		return 1
	case "timestamp":
		return 1700000000
	}
	panic("model_test: no value for shape type " + s.Type)
}

// deleteMember is the value set to remove a member.
var deleteMember = new(int)

// set stores v (or deletes the member, for deleteMember) at path p of
// body, an input of shape inputShape. Missing parents are created as
// minimal valid values first, so a constraint deep inside an optional
// member can be reached from a minimal request.
func (m *apiModel) set(body map[string]any, inputShape string, p memberPath, v any) {
	var cur any = body
	shape := inputShape
	for i, st := range p {
		s := m.Shapes[shape]
		last := i == len(p)-1
		if st.member == "" {
			list := cur.([]any) // value() never builds an empty list
			if last {
				list[0] = v
				return
			}
			cur, shape = list[0], s.Member.Shape
			continue
		}
		obj := cur.(map[string]any)
		memberShape := s.Members[st.member].Shape
		if last {
			if others := exclusiveMembers[shape]; slices.Contains(others, st.member) {
				for _, o := range others {
					delete(obj, o)
				}
			}
			if v == deleteMember {
				delete(obj, st.member)
			} else {
				obj[st.member] = v
			}
			return
		}
		child, ok := obj[st.member]
		if !ok {
			child = m.value(memberShape, st.member, false)
			obj[st.member] = child
		}
		cur, shape = child, memberShape
	}
}

// violation returns a value that breaks c and nothing else.
func (m *apiModel) violation(c constraint) any {
	s := m.Shapes[c.shape]
	switch c.kind {
	case kRequired:
		return deleteMember
	case kEnum:
		return "NOT_A_VALUE"
	case kPattern:
		return "a\u0001a" // U+0001 is outside the model's XML-character pattern
	case kMin:
		if s.Type == "list" {
			return slices.Repeat([]any{m.value(s.Member.Shape, "", false)}, c.limit-1)
		}
		return strings.Repeat("a", c.limit-1)
	case kMax:
		if s.Type == "list" {
			return slices.Repeat([]any{m.value(s.Member.Shape, "", false)}, c.limit+1)
		}
		return strings.Repeat("a", c.limit+1)
	}
	panic("model_test: no violation for " + c.kind)
}

// atLimit returns a value exactly at c's maximum, which must be accepted.
// Strings use a 3-byte rune so that counting bytes instead of characters
// shows; the 20 MiB longString uses ASCII to keep the test fast.
func (m *apiModel) atLimit(c constraint) any {
	s := m.Shapes[c.shape]
	if s.Type == "list" {
		return slices.Repeat([]any{m.value(s.Member.Shape, "", false)}, c.limit)
	}
	if c.limit > 1<<16 {
		return strings.Repeat("a", c.limit)
	}
	return strings.Repeat("€", c.limit)
}

// wantFragment is what culvert's message says for each kind of violation.
func wantFragment(c constraint) []string {
	switch c.kind {
	case kRequired:
		return []string{"Member must not be null"}
	case kMin:
		// A required string that is empty is reported as "null or empty".
		return []string{"Member must have length greater than or equal to " + strconv.Itoa(c.limit), "Member must not be null or empty"}
	case kMax:
		return []string{"Member must have length less than or equal to " + strconv.Itoa(c.limit)}
	case kPattern:
		return []string{"Member must satisfy regular expression pattern"}
	case kEnum:
		return []string{"Member must satisfy enum value set"}
	}
	return nil
}

// deviationKind is how culvert answers a constraint it deliberately does
// not report as a model violation.
type deviationKind int

const (
	// fatalOnPut: the definition rules report it as a FATAL error, so
	// PutPipelineDefinition still answers InvalidRequestException.
	fatalOnPut deviationKind = iota + 1
	// erroredOnValidate: ValidatePipelineDefinition returns it as
	// validation output with errored:true (on an existing pipeline).
	erroredOnValidate
	// accepted: the request is valid as far as culvert's model checks go.
	accepted
)

type deviation struct {
	kind   deviationKind
	reason string
}

const (
	whyFatalDefinition = "validate.go: an empty object id or name is the FATAL definition error AWS documents, reported by pipeline.Validate with the object's id"
	whyFatalRef        = "validate.go: an empty refValue is a FATAL definition error (EMPTY_VALUE), reported by pipeline.Validate with the object's id"
	whyOptionalEmpty   = "the member is optional and Go decodes \"\" like an absent member, so an empty value is treated as absent"
	whyTagValue        = "tagValue has min 0, so an empty value is valid and Go cannot tell it from an absent one"
)

// modelDeviations lists, by "Operation path/constraint", every model
// constraint that culvert deliberately does not answer with a model
// validation error. An entry that no constraint uses fails the test.
var modelDeviations = map[string]deviation{
	"PutPipelineDefinition pipelineObjects.1.member.id/required":                        {fatalOnPut, whyFatalDefinition},
	"PutPipelineDefinition pipelineObjects.1.member.id/min1":                            {fatalOnPut, whyFatalDefinition},
	"PutPipelineDefinition pipelineObjects.1.member.name/required":                      {fatalOnPut, whyFatalDefinition},
	"PutPipelineDefinition pipelineObjects.1.member.name/min1":                          {fatalOnPut, whyFatalDefinition},
	"PutPipelineDefinition pipelineObjects.1.member.fields.1.member.refValue/min1":      {fatalOnPut, whyFatalRef},
	"ValidatePipelineDefinition pipelineObjects.1.member.id/required":                   {erroredOnValidate, whyFatalDefinition},
	"ValidatePipelineDefinition pipelineObjects.1.member.id/min1":                       {erroredOnValidate, whyFatalDefinition},
	"ValidatePipelineDefinition pipelineObjects.1.member.name/required":                 {erroredOnValidate, whyFatalDefinition},
	"ValidatePipelineDefinition pipelineObjects.1.member.name/min1":                     {erroredOnValidate, whyFatalDefinition},
	"ValidatePipelineDefinition pipelineObjects.1.member.fields.1.member.refValue/min1": {erroredOnValidate, whyFatalRef},
	"AddTags tags.1.member.value/required":                                              {accepted, whyTagValue},
	"CreatePipeline tags.1.member.value/required":                                       {accepted, whyTagValue},
	"PollForTask hostname/min1":                                                         {accepted, whyOptionalEmpty},
	"ReportTaskRunnerHeartbeat hostname/min1":                                           {accepted, whyOptionalEmpty},
}

// isModelError reports whether err is culvert's answer to a broken model
// constraint: InvalidRequestException in the "N validation errors
// detected" form.
func isModelError(err error) (*datapipeline.Error, bool) {
	var e *datapipeline.Error
	if errors.As(err, &e) && e.Code == datapipeline.CodeInvalidRequestException && strings.Contains(e.Message, "failed to satisfy constraint") {
		return e, true
	}
	return nil, false
}

// newModelService returns a Service over a fresh SQLite store, with a
// poll hold short enough that valid PollForTask requests return at once.
func newModelService(tb testing.TB, wait time.Duration) (*datapipeline.Service, *sqlite.DB) {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(tb.TempDir(), "culvert.db"), Logger: discardLogger})
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	q, err := queue.New(queue.Config{Wait: wait}, db)
	if err != nil {
		tb.Fatalf("queue.New: %v", err)
	}
	svc, err := datapipeline.New(datapipeline.Config{Logger: discardLogger}, db, q)
	if err != nil {
		tb.Fatalf("datapipeline.New: %v", err)
	}
	return svc, db
}

// discardLogger keeps expected failures out of the test output.
var discardLogger = slog.New(slog.DiscardHandler)

// principalA is the caller of every model test.
var principalA = awsjson.Principal{AccessKeyID: "AKID", AccountID: "123456789012"}

func ctxAs(p awsjson.Principal) context.Context {
	return awsjson.WithPrincipal(context.Background(), p)
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("json.Marshal: %v", err)
	}
	return b
}

func TestModelOperations(t *testing.T) {
	t.Parallel()
	m := loadModel(t)
	svc, _ := newModelService(t, time.Millisecond)
	want := slices.Sorted(maps.Keys(m.Operations))
	got := slices.Sorted(maps.Keys(svc.Ops()))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Ops() names mismatch with the botocore model (-model +Ops):\n%s", diff)
	}
	if len(want) != 19 {
		t.Errorf("the model has %d operations; Data Pipeline 2012-10-29 has 19", len(want))
	}
}

func TestModelConstraints(t *testing.T) {
	t.Parallel()
	m := loadModel(t)
	svc, _ := newModelService(t, time.Millisecond)
	ops := svc.Ops()
	ctx := ctxAs(principalA)

	// ValidatePipelineDefinition looks the pipeline up before it judges the
	// definition, so its deviations are checked on a real one.
	created, err := svc.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: "model", UniqueID: "model"})
	if err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}

	var (
		mu      sync.Mutex
		used    = map[string]bool{}
		walked  int
		checked int
	)
	t.Cleanup(func() {
		for _, key := range slices.Sorted(maps.Keys(modelDeviations)) {
			if !used[key] {
				t.Errorf("modelDeviations[%q] matches no constraint of the model; remove it", key)
			}
		}
		t.Logf("walked %d model constraints, %d of them checked as InvalidRequestException and %d as listed deviations",
			walked, checked, walked-checked)
	})

	for _, name := range slices.Sorted(maps.Keys(m.Operations)) {
		input := m.Operations[name].Input
		if input == nil {
			continue
		}
		op := ops[name]
		if op == nil {
			continue // TestModelOperations reports it
		}
		cs, problems := m.constraints(input.Shape, nil)
		for _, p := range problems {
			t.Errorf("%s: %s", name, p)
		}
		mu.Lock()
		walked += len(cs)
		mu.Unlock()

		t.Run(name, func(t *testing.T) {
			t.Parallel()
			call := func(t *testing.T, body map[string]any) (any, error) {
				t.Helper()
				return op(ctx, mustJSON(t, body))
			}

			for _, full := range []bool{false, true} {
				label := "valid/minimal"
				if full {
					label = "valid/every-member"
				}
				t.Run(label, func(t *testing.T) {
					t.Parallel()
					body := m.value(input.Shape, "", full).(map[string]any)
					if _, err := call(t, body); err != nil {
						if e, ok := isModelError(err); ok {
							t.Fatalf("valid request %s rejected by a model check: %s", mustJSON(t, body), e.Message)
						}
						var e *datapipeline.Error
						if !errors.As(err, &e) {
							t.Fatalf("valid request %s: non-API error %v", mustJSON(t, body), err)
						}
						t.Logf("valid request passes the model checks, then: %v", err)
					}
				})
			}

			for _, c := range cs {
				key := name + " " + c.String()
				t.Run(c.String(), func(t *testing.T) {
					t.Parallel()
					body := m.value(input.Shape, "", false).(map[string]any)
					m.set(body, input.Shape, c.path, m.violation(c))
					out, err := call(t, body)

					if dev, ok := modelDeviations[key]; ok {
						mu.Lock()
						used[key] = true
						mu.Unlock()
						checkDeviation(t, dev, body, out, err, func(body map[string]any) (any, error) {
							body["pipelineId"] = created.PipelineID
							return call(t, body)
						})
						return
					}
					mu.Lock()
					checked++
					mu.Unlock()

					e, ok := isModelError(err)
					if !ok {
						t.Fatalf("breaking %s: got (%v, %v), want InvalidRequestException naming '%s'", c, out, err, c.path.aws())
					}
					if !strings.HasPrefix(e.Message, "1 validation error detected: ") {
						t.Errorf("message = %q, want exactly one validation error", e.Message)
					}
					if !strings.Contains(e.Message, "'"+c.path.aws()+"'") {
						t.Errorf("message = %q, want it to name the member '%s'", e.Message, c.path.aws())
					}
					frags := wantFragment(c)
					if !slices.ContainsFunc(frags, func(f string) bool { return strings.Contains(e.Message, f) }) {
						t.Errorf("message = %q, want one of %q", e.Message, frags)
					}
				})

				if c.kind == kMax {
					// The boundary itself is valid, counted in characters.
					t.Run(c.path.aws()+"/at-max"+strconv.Itoa(c.limit), func(t *testing.T) {
						t.Parallel()
						body := m.value(input.Shape, "", false).(map[string]any)
						m.set(body, input.Shape, c.path, m.atLimit(c))
						if _, err := call(t, body); err != nil {
							if e, ok := isModelError(err); ok {
								t.Fatalf("value at the maximum of %s rejected: %s", c, e.Message)
							}
						}
					})
				}
			}
		})
	}
}

// checkDeviation checks a listed deviation: the constraint is answered as
// the entry says, not left to chance.
func checkDeviation(t *testing.T, dev deviation, body map[string]any, out any, err error, onPipeline func(map[string]any) (any, error)) {
	t.Helper()
	t.Logf("deviation: %s", dev.reason)
	switch dev.kind {
	case fatalOnPut:
		var e *datapipeline.Error
		if !errors.As(err, &e) || e.Code != datapipeline.CodeInvalidRequestException || !strings.Contains(e.Message, "FATAL") {
			t.Fatalf("got (%v, %v), want InvalidRequestException for a FATAL definition error", out, err)
		}
	case erroredOnValidate:
		out, err := onPipeline(body)
		if err != nil {
			t.Fatalf("got error %v, want validation output with errored:true", err)
		}
		res, ok := out.(*datapipeline.ValidatePipelineDefinitionOutput)
		if !ok || !res.Errored || len(res.ValidationErrors) == 0 {
			t.Fatalf("got %#v, want errored:true with validationErrors", out)
		}
	case accepted:
		if e, ok := isModelError(err); ok {
			t.Fatalf("culvert now rejects this (%s); drop it from modelDeviations", e.Message)
		}
	}
}

// TestModelLengthsCountCharacters pins that model lengths are counted in
// characters (Unicode scalar values, as Smithy and botocore count them),
// not in bytes: a 1024-character id of multi-byte runes is valid.
func TestModelLengthsCountCharacters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rune    string
		n       int
		wantErr bool
	}{
		{name: "1024 3-byte runes", rune: "€", n: 1024},
		{name: "1025 3-byte runes", rune: "€", n: 1025, wantErr: true},
		{name: "1024 4-byte runes", rune: "😀", n: 1024},
		{name: "1025 4-byte runes", rune: "😀", n: 1025, wantErr: true},
		{name: "1024 ASCII", rune: "a", n: 1024},
		{name: "1025 ASCII", rune: "a", n: 1025, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, _ := newModelService(t, time.Millisecond)
			name := strings.Repeat(tc.rune, tc.n)
			_, err := svc.CreatePipeline(ctxAs(principalA), &datapipeline.CreatePipelineInput{Name: name, UniqueID: "u"})
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("CreatePipeline(name of %d × %q) error: %v", tc.n, tc.rune, err)
				}
				return
			}
			e, ok := isModelError(err)
			if !ok || !strings.Contains(e.Message, "'name'") || !strings.Contains(e.Message, "less than or equal to 1024") {
				t.Fatalf("CreatePipeline(name of %d × %q) = %v, want InvalidRequestException naming 'name'", tc.n, tc.rune, err)
			}
		})
	}
}

// modelBodies returns a minimal and a full valid body per operation, for
// seeding the fuzzer; nil without botocore.
func modelBodies() map[string][][]byte {
	m, err := botocoreModel()
	if err != nil {
		return nil
	}
	out := map[string][][]byte{}
	for name, op := range m.Operations {
		if op.Input == nil {
			continue
		}
		for _, full := range []bool{false, true} {
			var buf bytes.Buffer
			if err := json.NewEncoder(&buf).Encode(m.value(op.Input.Shape, "", full)); err == nil {
				out[name] = append(out[name], bytes.TrimSpace(buf.Bytes()))
			}
		}
	}
	return out
}
