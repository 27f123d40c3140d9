package awsjson

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// manyKeys returns an object with n distinct members k0..k(n-1) followed
// by extra, to exercise the map the scanner switches to for big objects.
func manyKeys(n int, extra string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	b.WriteString(extra)
	b.WriteString("}")
	return b.String()
}

func TestScanValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"empty body", ``},
		{"whitespace body", " \t\r\n"},
		{"empty object", `{}`},
		{"object with whitespace", " { \"a\" : 1 , \"b\" : [ ] } \n"},
		{"all value kinds", `{"s":"x","n":-1.5e+3,"z":0,"f":0.25,"E":1E-2,"t":true,"bool":false,"nul":null,"a":[1,"2",[],{}],"o":{"p":{}}}`},
		{"escapes", `{"s":"\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \uFFFF"}`},
		{"surrogate pair", `{"s":"\ud83d\ude00"}`},
		{"surrogate pair upper case", `{"s":"\uD83D\uDE00"}`},
		{"raw non-ASCII", `{"s":"héllo 日本 😀","ключ":1}`},
		{"raw U+FFFD is fine", "{\"s\":\"\xef\xbf\xbd\"}"},
		{"DEL is allowed", "{\"s\":\"\x7f\"}"},
		{"same name in siblings", `{"a":{"k":1},"b":{"k":2},"k":[{"k":1},{"k":2}]}`},
		{"same name at different depths", `{"k":{"k":{"k":1}}}`},
		{"names differing by escape-decoded content", `{"a\n":1,"a\t":2}`},
		{"many members", manyKeys(100, `"x":1`)},
		{"many members with escaped names", manyKeys(40, `"\u0078":1,"y\u00e9":2`)},
		{"sixteen members exactly", manyKeys(16, `"x":1`)},
		{"nested objects with many members", `{"a":` + manyKeys(20, `"x":1`) + `,"b":` + manyKeys(20, `"x":1`) + `}`},
		{"depth at limit", strings.Repeat(`{"a":`, 3) + `[]` + strings.Repeat(`}`, 3)},
		{"empty name", `{"":1,"a":2}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := validate([]byte(tc.in), 4); err != nil {
				t.Errorf("validate(%q) = %v, want nil", clip(tc.in, 80), err)
			}
		})
	}
}

func TestScanInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want scanError
	}{
		// Syntax.
		{"unterminated object", `{`, scanError{errSyntax, 1, "invalid JSON at offset 1: unexpected end of input"}},
		{"unterminated string", `{"a`, scanError{errSyntax, 3, "invalid JSON at offset 3: unexpected end of input"}},
		{"missing colon", `{"a" 1}`, scanError{errSyntax, 5, "invalid JSON at offset 5: invalid character '1' after object key"}},
		{"missing value", `{"a":}`, scanError{errSyntax, 5, "invalid JSON at offset 5: invalid character '}' looking for beginning of value"}},
		{"trailing comma in object", `{"a":1,}`, scanError{errSyntax, 7, "invalid JSON at offset 7: invalid character '}' looking for beginning of object key string"}},
		{"trailing comma in array", `{"a":[1,]}`, scanError{errSyntax, 8, "invalid JSON at offset 8: invalid character ']' looking for beginning of value"}},
		{"unquoted name", `{a:1}`, scanError{errSyntax, 1, "invalid JSON at offset 1: invalid character 'a' looking for beginning of object key string"}},
		{"single quotes", `{'a':1}`, scanError{errSyntax, 1, `invalid JSON at offset 1: invalid character '\'' looking for beginning of object key string`}},
		{"missing comma", `{"a":1 "b":2}`, scanError{errSyntax, 7, `invalid JSON at offset 7: invalid character '"' after object key:value pair`}},
		{"missing comma in array", `{"a":[1 2]}`, scanError{errSyntax, 8, "invalid JSON at offset 8: invalid character '2' after array element"}},
		{"trailing data", `{} {}`, scanError{errSyntax, 3, "invalid JSON at offset 3: invalid character '{' after top-level value"}},
		{"leading zero", `{"a":01}`, scanError{errSyntax, 6, "invalid JSON at offset 6: invalid character '1' after object key:value pair"}},
		{"bare minus", `{"a":-}`, scanError{errSyntax, 6, "invalid JSON at offset 6: invalid character '}' in numeric literal"}},
		{"dot without digits", `{"a":1.}`, scanError{errSyntax, 7, "invalid JSON at offset 7: invalid character '}' in numeric literal"}},
		{"leading dot", `{"a":.5}`, scanError{errSyntax, 5, "invalid JSON at offset 5: invalid character '.' looking for beginning of value"}},
		{"exponent without digits", `{"a":1e+}`, scanError{errSyntax, 8, "invalid JSON at offset 8: invalid character '}' in numeric literal"}},
		{"plus sign", `{"a":+1}`, scanError{errSyntax, 5, "invalid JSON at offset 5: invalid character '+' looking for beginning of value"}},
		{"NaN", `{"a":NaN}`, scanError{errSyntax, 5, "invalid JSON at offset 5: invalid character 'N' looking for beginning of value"}},
		{"bad literal", `{"a":tru}`, scanError{errSyntax, 8, "invalid JSON at offset 8: invalid character '}' in literal true (expecting 'e')"}},
		{"truncated literal", `{"a":nul`, scanError{errSyntax, 8, "invalid JSON at offset 8: unexpected end of input"}},
		{"control character in string", "{\"a\":\"x\ty\"}", scanError{errSyntax, 7, `invalid JSON at offset 7: invalid character '\t' in string literal`}},
		{"bad escape", `{"a":"\x"}`, scanError{errSyntax, 7, "invalid JSON at offset 7: invalid character 'x' in string escape code"}},
		{"bad hex escape", `{"a":"\u00g0"}`, scanError{errSyntax, 10, `invalid JSON at offset 10: invalid character 'g' in \u hexadecimal character escape`}},
		{"truncated hex escape", `{"a":"\u00`, scanError{errSyntax, 10, "invalid JSON at offset 10: unexpected end of input"}},
		{"comment", `{/*x*/}`, scanError{errSyntax, 1, "invalid JSON at offset 1: invalid character '/' looking for beginning of object key string"}},
		{"non-ASCII outside string", `{"a":1}é`, scanError{errSyntax, 7, "invalid JSON at offset 7: invalid character 'é' after top-level value"}},
		{"BOM", "\xef\xbb\xbf{}", scanError{errSyntax, 0, "invalid JSON at offset 0: invalid character '\\ufeff' looking for beginning of value"}},
		{"garbage", `hello`, scanError{errSyntax, 0, "invalid JSON at offset 0: invalid character 'h' looking for beginning of value"}},

		// Top level.
		{"top-level array", `[]`, scanError{errNotObject, 0, "invalid JSON at offset 0: top-level value must be an object"}},
		{"top-level string", ` "x"`, scanError{errNotObject, 1, "invalid JSON at offset 1: top-level value must be an object"}},
		{"top-level number", `1`, scanError{errNotObject, 0, "invalid JSON at offset 0: top-level value must be an object"}},
		{"top-level null", `null`, scanError{errNotObject, 0, "invalid JSON at offset 0: top-level value must be an object"}},

		// UTF-8.
		{"invalid byte in string", "{\"a\":\"\xff\"}", scanError{errUTF8, 6, "invalid UTF-8 at offset 6"}},
		{"truncated sequence", "{\"a\":\"\xe6\x97\"}", scanError{errUTF8, 6, "invalid UTF-8 at offset 6"}},
		{"overlong encoding", "{\"a\":\"\xc0\xaf\"}", scanError{errUTF8, 6, "invalid UTF-8 at offset 6"}},
		{"encoded surrogate", "{\"a\":\"\xed\xa0\x80\"}", scanError{errUTF8, 6, "invalid UTF-8 at offset 6"}},
		{"beyond U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}", scanError{errUTF8, 6, "invalid UTF-8 at offset 6"}},
		{"invalid byte outside string", "{\xff}", scanError{errUTF8, 1, "invalid UTF-8 at offset 1"}},

		// Surrogate escapes.
		{"lone high surrogate", `{"a":"\ud800"}`, scanError{errSurrogate, 6, `invalid JSON at offset 6: unpaired UTF-16 surrogate escape \uD800`}},
		{"lone low surrogate", `{"a":"\udc00"}`, scanError{errSurrogate, 6, `invalid JSON at offset 6: unpaired UTF-16 surrogate escape \uDC00`}},
		{"high then text", `{"a":"\ud800x"}`, scanError{errSurrogate, 6, `invalid JSON at offset 6: unpaired UTF-16 surrogate escape \uD800`}},
		{"high then high", `{"a":"\ud800\ud800\udc00"}`, scanError{errSurrogate, 6, `invalid JSON at offset 6: unpaired UTF-16 surrogate escape \uD800`}},
		{"low then high", `{"a":"\udc00\ud800"}`, scanError{errSurrogate, 6, `invalid JSON at offset 6: unpaired UTF-16 surrogate escape \uDC00`}},
		{"high then bad escape", `{"a":"\ud800\u00zz"}`, scanError{errSyntax, 16, `invalid JSON at offset 16: invalid character 'z' in \u hexadecimal character escape`}},
		{"lone surrogate in name", `{"\udfff":1}`, scanError{errSurrogate, 2, `invalid JSON at offset 2: unpaired UTF-16 surrogate escape \uDFFF`}},

		// Depth (limit 4 in this test).
		{"objects too deep", `{"a":{"b":{"c":{"d":{}}}}}`, scanError{errDepth, 20, "JSON nested deeper than 4 levels at offset 20"}},
		{"arrays too deep", `{"a":[[[[]]]]}`, scanError{errDepth, 8, "JSON nested deeper than 4 levels at offset 8"}},
		{"very deep", `{"a":` + strings.Repeat("[", 100000), scanError{errDepth, 8, "JSON nested deeper than 4 levels at offset 8"}},

		// Duplicates.
		{"duplicate", `{"a":1,"a":2}`, scanError{errDuplicate, 7, `duplicate member "a" at offset 7`}},
		{"duplicate after others", `{"a":1,"b":2,"c":3,"b":4}`, scanError{errDuplicate, 19, `duplicate member "b" at offset 19`}},
		{"duplicate nested", `{"x":{"a":1,"a":2}}`, scanError{errDuplicate, 12, `duplicate member "a" at offset 12`}},
		{"duplicate in array element", `{"x":[{},{"a":1,"a":2}]}`, scanError{errDuplicate, 16, `duplicate member "a" at offset 16`}},
		{"duplicate after nested object", `{"a":{"b":1},"a":2}`, scanError{errDuplicate, 13, `duplicate member "a" at offset 13`}},
		{"duplicate via escape", `{"ab":1,"\u0061\u0062":2}`, scanError{errDuplicate, 8, `duplicate member "ab" at offset 8`}},
		{"duplicate via escaped slash", `{"a/b":1,"a\/b":2}`, scanError{errDuplicate, 9, `duplicate member "a/b" at offset 9`}},
		{"duplicate via surrogate pair", `{"😀":1,"\ud83d\ude00":2}`, scanError{errDuplicate, 10, `duplicate member "😀" at offset 10`}},
		{"duplicate ignoring ASCII case", `{"pipelineId":1,"PIPELINEID":2}`, scanError{errDuplicate, 16, `duplicate member "PIPELINEID" at offset 16 (same as "pipelineId" ignoring case)`}},
		{"duplicate ignoring Unicode case", `{"k":1,"\u212a":2}`, scanError{errDuplicate, 7, "duplicate member \"\u212a\" at offset 7 (same as \"k\" ignoring case)"}},
		{"duplicate empty names", `{"":1,"":2}`, scanError{errDuplicate, 6, `duplicate member "" at offset 6`}},
		{"duplicate in big object", manyKeys(50, `"k3":0`), scanError{errDuplicate, 431, `duplicate member "k3" at offset 431`}},
		{"duplicate in big object ignoring case", manyKeys(50, `"K49":0`), scanError{errDuplicate, 431, `duplicate member "K49" at offset 431 (same as "k49" ignoring case)`}},
		{"duplicate in big object via escape", manyKeys(50, `"\u006b7":0`), scanError{errDuplicate, 431, `duplicate member "k7" at offset 431`}},
		{"duplicate in big object, Unicode fold", manyKeys(20, `"\u212a":0,"k":1`), scanError{errDuplicate, 172, "duplicate member \"k\" at offset 172 (same as \"\u212a\" ignoring case)"}},
		{"long duplicate name is clipped", `{"` + strings.Repeat("x", 100) + `":1,"` + strings.Repeat("x", 100) + `":2}`, scanError{errDuplicate, 106, `duplicate member "` + strings.Repeat("x", 64) + `…" at offset 106`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := validate([]byte(tc.in), 4)
			got, ok := err.(*scanError)
			if !ok {
				t.Fatalf("validate(%q) = %v, want a *scanError", clip(tc.in, 80), err)
			}
			if diff := cmp.Diff(tc.want, *got, cmp.AllowUnexported(scanError{})); diff != "" {
				t.Errorf("validate(%q) mismatch (-want +got):\n%s", clip(tc.in, 80), diff)
			}
			// Whatever the scanner calls a syntax error, encoding/json
			// must reject too.
			if got.kind == errSyntax && json.Valid([]byte(tc.in)) {
				t.Errorf("syntax error for input json.Valid accepts")
			}
		})
	}
}

// TestScanReuse pins that a pooled scanner carries nothing from one body
// to the next.
func TestScanReuse(t *testing.T) {
	t.Parallel()
	var s scanner
	bodies := []struct {
		in      string
		wantErr bool
	}{
		{`{"a":{"b":1,`, true}, // fails with keys on the stack
		{`{"b":1}`, false},
		{manyKeys(30, `"\u0078":1`), false},
		{`{"x":1,"k1":2}`, false},
		{`{"a":1,"a":1}`, true},
		{`{"a":1}`, false},
	}
	for _, b := range bodies {
		if err := s.scan([]byte(b.in), 8); (err != nil) != b.wantErr {
			t.Errorf("scan(%q) = %v, want error %v", clip(b.in, 40), err, b.wantErr)
		}
	}
}

// TestScanZeroDepth pins that a non-positive limit rejects any object
// rather than misbehaving (the handler never passes one).
func TestScanZeroDepth(t *testing.T) {
	t.Parallel()
	if err := validate([]byte(`{}`), 0); err == nil {
		t.Error("validate with depth 0 accepted an object")
	}
	if err := validate([]byte(` `), 0); err != nil {
		t.Errorf("validate of blank body with depth 0 = %v", err)
	}
}
