package datapipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/pipeline/pipelinetest"
)

// scanned reports whether the awsjson handler's scanner accepts body and
// would hand it to an operation's decoder: the inputs the hand decoder
// must decode exactly as encoding/json does.
func scanned(body []byte) bool {
	if len(bytes.Trim(body, " \t\r\n")) == 0 {
		return false // Handle decodes a blank body as {} itself
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("X-Amz-Target", "Fuzz.Op")
	scanHandler.ServeHTTP(w, r)
	return w.Code == http.StatusOK
}

var scanHandler = &awsjson.Handler{
	Target: "Fuzz",
	Ops: map[string]awsjson.Op{"Op": func(context.Context, []byte) (any, error) {
		return awsjson.RawJSON("{}"), nil
	}},
	Logger: slog.New(slog.DiscardHandler),
}

// FuzzDecodeDefinition checks the hand decoder against encoding/json on
// every body the scanner accepts: both fail alike, or both succeed with
// equal inputs, without falling back to encoding/json.
//
//	go test ./internal/datapipeline -run '^$' -fuzz '^FuzzDecodeDefinition$' -fuzztime 2m
func FuzzDecodeDefinition(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	small, err := json.Marshal(&PutPipelineDefinitionInput{PipelineID: "df-1", PipelineObjects: pipelinetest.Definition(8),
		ParameterObjects: []ParameterObject{{ID: "myP", Attributes: []ParameterAttribute{{Key: "type", StringValue: "String"}}}},
		ParameterValues:  []ParameterValue{{ID: "myP", StringValue: "v"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small)
	f.Fuzz(func(t *testing.T, body []byte) {
		if !scanned(body) {
			return
		}
		checkDecode(t, body, true)
		var in ValidatePipelineDefinitionInput
		if err := in.UnmarshalAWSJSON(body); err == errFallback {
			t.Fatal("ValidatePipelineDefinitionInput fell back")
		}
	})
}

// FuzzAppendDefinition checks appendDefinition and appendObject against
// encoding/json. Definitions come from fuzzed JSON, which decodes only to
// valid UTF-8, with a raw fuzzed string s (any bytes) put into them where
// shape says.
//
//	go test ./internal/datapipeline -run '^$' -fuzz '^FuzzAppendDefinition$' -fuzztime 2m
func FuzzAppendDefinition(f *testing.F) {
	for i, s := range encodeSeeds {
		f.Add([]byte(decodeSeeds[i%len(decodeSeeds)]), s, byte(i))
	}
	f.Fuzz(func(t *testing.T, doc []byte, s string, shape byte) {
		var in PutPipelineDefinitionInput
		if json.Unmarshal(doc, &in) != nil {
			in = PutPipelineDefinitionInput{}
		}
		def := &pipeline.Definition{Objects: in.PipelineObjects, ParameterObjects: in.ParameterObjects, ParameterValues: in.ParameterValues}
		checkEncode(t, def)
		defs := encodeDefinitions(s)
		checkEncode(t, defs[int(shape)%len(defs)])
		// s in the fuzzed definition's own places too.
		for i := range def.Objects {
			o := &def.Objects[i]
			if shape&1 != 0 {
				o.ID = s
			}
			for j := range o.Fields {
				if shape&2 != 0 {
					o.Fields[j].Key = s
				}
				if shape&4 != 0 && o.Fields[j].StringValue != nil {
					o.Fields[j].StringValue = &s
				}
			}
		}
		if shape&8 != 0 {
			def.ParameterValues = append(def.ParameterValues, ParameterValue{ID: s, StringValue: s})
		}
		checkEncode(t, def)
	})
}

// FuzzDecodeDefinitionShaped is FuzzDecodeDefinition with bodies built by
// genBody: random bytes rarely survive the scanner, so this one spends the
// fuzzing on well-formed definitions with odd names, escapes, nulls and
// values of the wrong type.
//
//	go test ./internal/datapipeline -run '^$' -fuzz '^FuzzDecodeDefinitionShaped$' -fuzztime 2m
func FuzzDecodeDefinitionShaped(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x01\x00\x01\x02\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"))
	f.Add(bytes.Repeat([]byte{1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233}, 8))
	f.Fuzz(func(t *testing.T, choices []byte) {
		body := genBody(choices)
		if !scanned(body) {
			return
		}
		checkDecode(t, body, true)
	})
}

// gen writes a JSON body, taking its decisions from fuzz bytes.
type gen struct {
	choices []byte
	out     []byte
	unknown int
}

func (g *gen) pick(n int) int {
	if len(g.choices) == 0 {
		return 0
	}
	c := g.choices[0]
	g.choices = g.choices[1:]
	return int(c) % n
}

// Shapes of the members genBody knows, by struct.
var genMembers = map[string][]struct{ name, kind string }{
	"input":  {{"pipelineId", "string"}, {"pipelineObjects", "[object"}, {"parameterObjects", "[param"}, {"parameterValues", "[value"}},
	"object": {{"id", "string"}, {"name", "string"}, {"fields", "[field"}},
	"field":  {{"key", "string"}, {"stringValue", "string"}, {"refValue", "string"}},
	"param":  {{"id", "string"}, {"attributes", "[attr"}},
	"attr":   {{"key", "string"}, {"stringValue", "string"}},
	"value":  {{"id", "string"}, {"stringValue", "string"}},
}

var genStrings = []string{
	`""`, `"plain"`, `"df-0123456789"`, `"a\"b\\c\/d\be\ff\ng\rh\ti"`, `"\u00e9\u4e16\ud83d\ude00"`, `"é世😀"`,
	`"\u2028\u2029"`, `"\u0000\u001f"`, `"echo a && b > c"`, `"#{@scheduledStartTime}"`, `"\uFFFD\uFFFE"`,
}

func genBody(choices []byte) []byte {
	g := &gen{choices: choices}
	g.object("input", 0)
	return g.out
}

func (g *gen) object(shape string, depth int) {
	g.out = append(g.out, '{')
	members := genMembers[shape]
	used := make([]bool, len(members))
	for n := 0; len(g.choices) > 0 && g.pick(4) != 0; n++ {
		if n > 0 {
			g.out = append(g.out, ',')
		}
		i := g.pick(len(members) + 1)
		if i == len(members) || used[i] {
			g.unknown++
			g.out = fmt.Appendf(g.out, `"x%d":`, g.unknown)
			g.value("", depth+1)
			continue
		}
		used[i] = true
		g.name(members[i].name)
		g.out = append(g.out, ':')
		g.value(members[i].kind, depth+1)
	}
	g.out = append(g.out, '}')
}

// name writes a spelling of name that encoding/json matches to it.
func (g *gen) name(name string) {
	g.out = append(g.out, '"')
	switch g.pick(6) {
	case 0:
		g.out = append(g.out, name...)
	case 1:
		g.out = append(g.out, strings.ToUpper(name)...)
	case 2:
		g.out = append(g.out, strings.ToLower(name)...)
	case 3: // the first letter as an escape
		g.out = fmt.Appendf(g.out, `\u%04x%s`, name[0], name[1:])
	case 4: // the two non-ASCII runes that fold to ASCII
		g.out = append(g.out, strings.NewReplacer("k", "\u212a", "s", "\u017f", "K", "\u212a", "S", "\u017f").Replace(name)...)
	case 5:
		g.out = append(g.out, strings.NewReplacer("k", `\u212A`, "s", `\u017F`).Replace(name)...)
	}
	g.out = append(g.out, '"')
}

// value writes a value for a member of the given kind ("" for unknown),
// usually of the right type.
func (g *gen) value(kind string, depth int) {
	right := kind != "" && g.pick(5) != 0
	switch {
	case right && kind == "string":
		g.out = append(g.out, genStrings[g.pick(len(genStrings))]...)
	case right && kind[0] == '[':
		g.out = append(g.out, '[')
		for n := 0; len(g.choices) > 0 && g.pick(4) != 0; n++ {
			if n > 0 {
				g.out = append(g.out, ',')
			}
			switch g.pick(8) {
			case 0:
				g.out = append(g.out, "null"...)
			case 1:
				g.value("", depth+1) // often the wrong type
			default:
				g.object(kind[1:], depth+1)
			}
		}
		g.out = append(g.out, ']')
	default:
		g.any(depth)
	}
}

// any writes a value of a random type.
func (g *gen) any(depth int) {
	switch g.pick(8) {
	case 0:
		g.out = append(g.out, "null"...)
	case 1:
		g.out = append(g.out, "true"...)
	case 2:
		g.out = append(g.out, "false"...)
	case 3:
		g.out = append(g.out, []string{"0", "-1.5e+3", "12", "1E9"}[g.pick(4)]...)
	case 4, 5:
		g.out = append(g.out, genStrings[g.pick(len(genStrings))]...)
	case 6:
		if depth > 8 {
			g.out = append(g.out, "[]"...)
			return
		}
		g.out = append(g.out, '[')
		for n := 0; len(g.choices) > 0 && g.pick(3) != 0; n++ {
			if n > 0 {
				g.out = append(g.out, ',')
			}
			g.any(depth + 1)
		}
		g.out = append(g.out, ']')
	case 7:
		if depth > 8 {
			g.out = append(g.out, "{}"...)
			return
		}
		g.object("", depth+1)
	}
}
