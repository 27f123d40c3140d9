package datapipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/pipeline/pipelinetest"
)

// marshal is the reference encoder: encoding/json without escaping <, >
// and &, and without the trailing newline, as the stored document was
// encoded before appendDefinition.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// checkDecode decodes body with the hand decoder and with encoding/json
// and fails unless they agree: both succeed with equal inputs, or both
// fail with the same error. fast requires the hand decoder not to leave
// the body to encoding/json.
func checkDecode(t *testing.T, body []byte, fast bool) {
	t.Helper()
	var want PutPipelineDefinitionInput
	wantErr := json.Unmarshal(body, &want)

	var got PutPipelineDefinitionInput
	gotErr := decodeDefinitionInput(body, "PutPipelineDefinitionInput", &got)
	if gotErr == errFallback {
		if fast {
			t.Fatalf("decoder fell back to encoding/json on %q", body)
		}
		got = PutPipelineDefinitionInput{}
		gotErr = got.UnmarshalAWSJSON(body)
	}
	switch {
	case wantErr == nil && gotErr == nil:
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("decode %q mismatch (-json +hand):\n%s", body, diff)
		}
	case wantErr == nil || gotErr == nil:
		t.Fatalf("decode %q: json error %v, hand error %v", body, wantErr, gotErr)
	default:
		var wantType, gotType *json.UnmarshalTypeError
		if errors.As(wantErr, &wantType) != errors.As(gotErr, &gotType) || wantErr.Error() != gotErr.Error() {
			t.Fatalf("decode %q: json error %v, hand error %v", body, wantErr, gotErr)
		}
		if wantType != nil && (wantType.Offset != gotType.Offset || wantType.Field != gotType.Field) {
			t.Fatalf("decode %q: json error at %d field %q, hand error at %d field %q",
				body, wantType.Offset, wantType.Field, gotType.Offset, gotType.Field)
		}
	}
}

// decodeSeeds are bodies the awsjson scanner accepts; the fuzz test starts
// from them too.
var decodeSeeds = []string{
	`{}`,
	` { } `,
	`{"pipelineId":"df-1","pipelineObjects":[]}`,
	`{"pipelineId":"df-1","pipelineObjects":null,"parameterObjects":null,"parameterValues":null}`,
	`{"pipelineId":null,"pipelineObjects":[null,{},{"fields":null},{"fields":[]},{"fields":[null,{}]}]}`,
	`{"pipelineId":"df-1","pipelineObjects":[{"id":"Default","name":"Default","fields":[{"key":"scheduleType","stringValue":"cron"},{"key":"schedule","refValue":"Sched"}]}]}`,
	`{"pipelineObjects":[{"id":"A","fields":[{"key":"k","stringValue":null,"refValue":null}]}]}`,
	`{"pipelineObjects":[{"id":"A","fields":[{"key":"k","stringValue":"","refValue":""}]}]}`,
	"\n{\t\"pipelineId\" :\r\"x\" , \"pipelineObjects\" : [ { \"id\" : \"a\" , \"fields\" : [ ] } ] }\n",
	// Escapes.
	`{"pipelineId":"a\"b\\c\/d\be\ff\ng\rh\ti"}`,
	`{"pipelineObjects":[{"id":"\u0041\u00e9\u4e16\ud83d\ude00","fields":[{"key":"\u0000","stringValue":"x\u2028y\u2029"}]}]}`,
	`{"pipelineObjects":[{"name":"héllo wörld ✓ 😀","fields":[{"key":"cmd","stringValue":"echo \"a && b\" > /tmp/x\n"}]}]}`,
	`{"\u0070ipelineId":"escaped name","\u0070ipelineObjects":[{"\u0069d":"x"}]}`,
	// Unknown members of every type, at every level.
	`{"x":1,"y":"s","z":true,"w":false,"v":null,"u":{"a":[1,{"b":[]}]},"t":[[],{}],"pipelineId":"p"}`,
	`{"pipelineObjects":[{"extra":{"fields":1},"id":"a","fields":[{"key":"k","other":[1,2,3],"stringValue":"v"}]}]}`,
	`{"parameterObjects":[{"id":"myP","attributes":[{"key":"type","stringValue":"String"},{"k":1}],"x":-1.5e+3}],"parameterValues":[{"id":"myP","stringValue":"v","z":[]}]}`,
	`{"parameterObjects":[null,{},{"attributes":null},{"attributes":[null]}],"parameterValues":[null,{}]}`,
	`{"parameterObjects":[],"parameterValues":[]}`,
	// Names in other cases, and the two non-ASCII runes that fold to ASCII.
	`{"PipelineId":"a","PIPELINEOBJECTS":[{"ID":"b","Name":"c","FIELDS":[{"KEY":"d","StringValue":"e","REFVALUE":"f"}]}]}`,
	`{"pipelineObjects":[{"fields":[{"\u212aey":"kelvin","\u017ftringValue":"long s"}]}]}`,
	`{"pipelineObjects":[{"fields":[{"Kеy":"cyrillic e is no e"}]}]}`,
	`{"ParameterObjects":[{"ID":"p","ATTRIBUTES":[{"Key":"k","STRINGVALUE":"v"}]}],"parametervalues":[{"Id":"p","stringvalue":"v"}]}`,
	`{"pipelineid":"a","pipelineObject":[],"pipelineObjectss":[]}`,
	// Wrong types.
	`{"pipelineId":1}`,
	`{"pipelineId":-0.5e10}`,
	`{"pipelineId":true}`,
	`{"pipelineId":{}}`,
	`{"pipelineId":[]}`,
	`{"pipelineObjects":{}}`,
	`{"pipelineObjects":"s"}`,
	`{"pipelineObjects":[1]}`,
	`{"pipelineObjects":[[]]}`,
	`{"pipelineObjects":[{"id":false}]}`,
	`{"pipelineObjects":[{"fields":{}}]}`,
	`{"pipelineObjects":[{"fields":["x"]}]}`,
	`{"pipelineObjects":[{"fields":[{"key":1}]}]}`,
	`{"pipelineObjects":[{"fields":[{"stringValue":{"a":1}}]}]}`,
	`{"pipelineObjects":[{"fields":[{"refValue":[1,2]}]}]}`,
	`{"pipelineObjects":[{"fields":[{"refValue":true,"key":2}]}],"pipelineId":3}`,
	`{"parameterObjects":[{"attributes":[{"stringValue":1}]}]}`,
	`{"parameterObjects":[{"attributes":{}}]}`,
	`{"parameterObjects":[{"id":[]}]}`,
	`{"parameterValues":[{"id":1}]}`,
	`{"parameterValues":"x"}`,
	`{"parameterValues":[true]}`,
}

func TestDecodeDefinitionInput(t *testing.T) {
	t.Parallel()
	for _, body := range decodeSeeds {
		checkDecode(t, []byte(body), true)
	}
}

// TestDecodeDefinitionInputFallback covers input the scanner rejects: the
// decoder hands it to encoding/json, so the result is still the same.
func TestDecodeDefinitionInputFallback(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		``, `null`, `[]`, `"s"`, `{`, `{"pipelineId":}`, `{"pipelineId":"a"} x`, `{"a":tru}`, `{"a":01}`,
		`{"a":1.}`, `{"a":-}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":[1,]}`, `{"a" 1}`,
		`{"pipelineId":1,}`, `{"pipelineId":1} {`,
		strings.Repeat(`{"a":`, 600) + `1` + strings.Repeat(`}`, 600),
		// Lone surrogates and invalid UTF-8 pass encoding/json, which
		// substitutes U+FFFD; the decoder does the same.
		`{"pipelineId":"\ud800"}`, `{"pipelineId":"\udc00x"}`, `{"pipelineId":"\ud800\u0041"}`,
		"{\"pipelineId\":\"\xff\xfe\"}", "{\"pipelineId\":\"a\xc0\x80\\n\"}", "{\"pipelineId\xff\":\"a\"}",
		// Duplicates: the scanner rejects them, encoding/json takes the last.
		`{"pipelineId":"a","pipelineId":"b"}`,
	} {
		checkDecode(t, []byte(body), false)
	}
}

func TestDecodeDefinitionInputSharesNothingWithBody(t *testing.T) {
	t.Parallel()
	body := []byte(`{"pipelineId":"df-1","pipelineObjects":[{"id":"a","name":"n","fields":[{"key":"k","stringValue":"v","refValue":"r"}]}]}`)
	var in PutPipelineDefinitionInput
	if err := in.UnmarshalAWSJSON(body); err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'X' // the handler reuses the buffer for the next request
	}
	want := PutPipelineDefinitionInput{PipelineID: "df-1", PipelineObjects: []PipelineObject{
		{ID: "a", Name: "n", Fields: []Field{{Key: "k", StringValue: ptr("v"), RefValue: ptr("r")}}},
	}}
	if diff := cmp.Diff(want, in); diff != "" {
		t.Errorf("input changed with the body (-want +got):\n%s", diff)
	}
}

func ptr(s string) *string { return &s }

func TestValidatePipelineDefinitionInputUnmarshal(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"pipelineId":"df-1","pipelineObjects":[{"id":"a","fields":[{"key":"k","stringValue":"v"}]}],"parameterValues":[{"id":"p","stringValue":"v"}]}`,
		`{"pipelineObjects":[{"fields":[{"key":1}]}]}`,
		`{"pipelineId":}`,
	} {
		var want, got ValidatePipelineDefinitionInput
		wantErr := json.Unmarshal([]byte(body), &want)
		gotErr := got.UnmarshalAWSJSON([]byte(body))
		if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
			t.Errorf("UnmarshalAWSJSON(%s) error = %v, want %v", body, gotErr, wantErr)
		}
		if diff := cmp.Diff(want, got); wantErr == nil && diff != "" {
			t.Errorf("UnmarshalAWSJSON(%s) mismatch (-json +hand):\n%s", body, diff)
		}
	}
}

// TestFoldEqual checks the claim foldEqual rests on: U+017F and U+212A are
// the only non-ASCII runes that encoding/json's case folding maps to ASCII.
func TestFoldEqual(t *testing.T) {
	t.Parallel()
	foldRune := func(r rune) rune { // encoding/json's, from fold.go
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				return r2
			}
			r = r2
		}
	}
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		if f := foldRune(r); f < utf8.RuneSelf && r != '\u017F' && r != '\u212A' {
			t.Errorf("%U folds to %q, which foldEqual does not know", r, f)
		}
	}
	names := append(append(append([]string{}, inputNames...), objectNames...), fieldNames...)
	for _, name := range []string{
		"", "k", "key", "KEY", "Key", "kEy", "\u212aey", "\u212AEY", "keys", "ke", "kez", "\u017ftringvalue",
		"\u017FTRINGVALUE", "ﬆringValue", "stringValue\u00a0", "pipelineid", "PIPELINEOBJECTS", "i\u0307d", "İd", "ıd",
		"refvalue", "REF_VALUE", "fıelds", "fİelds", "name\x00", "\xffkey",
	} {
		for _, n := range names {
			if got, want := foldEqual([]byte(name), n), bytes.EqualFold([]byte(name), []byte(n)); got != want {
				t.Errorf("foldEqual(%q, %q) = %v, bytes.EqualFold says %v", name, n, got, want)
			}
		}
	}
}

// encodeSeeds are strings that exercise every escaping rule.
var encodeSeeds = []string{
	"", "plain", `"quoted" \back\slash/`, "<script>&amp;</script>", "\b\f\n\r\t\x00\x01\x1f\x7f",
	"é世😀", "a\u2028b\u2029c", "\xff", "a\xc0\x80b", "\xed\xa0\x80", "trunc\xe4\xb8", "\ufffd", "#{@scheduledStartTime}",
}

func TestAppendDefinition(t *testing.T) {
	t.Parallel()
	for _, s := range encodeSeeds {
		for _, def := range encodeDefinitions(s) {
			checkEncode(t, def)
		}
	}
	checkEncode(t, &pipeline.Definition{Objects: pipelinetest.Definition(100)})
}

// encodeDefinitions returns definitions holding s, with every
// combination of nil, empty and set members that encodes differently.
func encodeDefinitions(s string) []*pipeline.Definition {
	str := func(s string) *string { return &s }
	return []*pipeline.Definition{
		{},
		{Objects: []PipelineObject{}},
		{Objects: []PipelineObject{{ID: s}}},
		{Objects: []PipelineObject{{ID: s, Name: s, Fields: []Field{}}}},
		{Objects: []PipelineObject{
			{ID: "a", Name: s, Fields: []Field{{Key: s}, {Key: "k", StringValue: str(s)}, {Key: "r", RefValue: str(s)}, {Key: s, StringValue: str(""), RefValue: str(s)}}},
			{ID: s, Fields: []Field{{}}},
		}},
		{ParameterObjects: []ParameterObject{}, ParameterValues: []ParameterValue{}},
		{ParameterObjects: []ParameterObject{{ID: s}, {ID: "p", Attributes: []ParameterAttribute{}}, {Attributes: []ParameterAttribute{{Key: s, StringValue: s}, {}}}}},
		{ParameterValues: []ParameterValue{{ID: s, StringValue: s}, {}}},
		{
			Objects:          []PipelineObject{{ID: s, Name: s, Fields: []Field{{Key: s, StringValue: str(s)}}}},
			ParameterObjects: []ParameterObject{{ID: s, Attributes: []ParameterAttribute{{Key: s, StringValue: s}}}},
			ParameterValues:  []ParameterValue{{ID: s, StringValue: s}},
		},
	}
}

// checkEncode fails unless appendDefinition, and appendObject for each
// object, write exactly what encoding/json does.
func checkEncode(t *testing.T, def *pipeline.Definition) {
	t.Helper()
	want, err := marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("prefix:")
	if got := appendDefinition(prefix[:len(prefix):len(prefix)], def); string(got) != string(prefix)+string(want) {
		t.Fatalf("appendDefinition(%+v)\n got %s\nwant %s%s", def, got, prefix, want)
	}
	for i := range def.Objects {
		want, err := marshal(&def.Objects[i])
		if err != nil {
			t.Fatal(err)
		}
		if got := appendObject(nil, &def.Objects[i]); string(got) != string(want) {
			t.Fatalf("appendObject(%+v)\n got %s\nwant %s", def.Objects[i], got, want)
		}
	}
}
