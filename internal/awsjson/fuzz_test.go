package awsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// scanSeeds are inputs worth starting both fuzzers from.
var scanSeeds = []string{
	``, ` `, `{}`, `[]`, `null`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":1,"A":2}`,
	`{"k":1,"\u212a":2}`, `{"a":"\ud83d\ude00"}`, `{"a":"\ud800"}`, `{"a":"\udc00\ud800"}`,
	`{"a":[1,2.5e-3,-0,true,false,null,"x",{"b":{}}]}`, `{"a":01}`, `{"a":1.}`,
	"{\"a\":\"\xff\"}", "{\"a\xc0\":1}", `{"a":{"b":{"c":{"d":{"e":{}}}}}}`,
	`{"pipelineIds":["df-1"],"name":"n","limit":3,"nested":{"key":"k"},"startTimestamp":1700000000.5}`,
	`{"a\u0062":1,"ab":2}`, `{"x":"\"\\\/\b\f\n\r\t"}`, manyKeys(20, `"k1":1`), manyKeys(20, `"\u212a":0,"k":1`),
}

// hasSurrogateEscape reports whether b might contain a \u escape of a
// UTF-16 surrogate. It may say yes wrongly (after an escaped backslash);
// the fuzz oracle only uses it to skip a check.
var surrogateEscape = regexp.MustCompile(`\\u[dD][89a-fA-F]`)

// refCheck is a slow reference for the scanner's extra rules, built on
// json.Decoder's Token API: the nesting limit and no two members of one
// object equal under strings.EqualFold. The input must be valid JSON.
func refCheck(data []byte, maxDepth int) error {
	type frame struct {
		object, wantKey bool
		keys            []string
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			key := tok.(string)
			for _, k := range top.keys {
				if strings.EqualFold(k, key) {
					return errors.New("duplicate " + key)
				}
			}
			top.keys = append(top.keys, key)
			top.wantKey = false
			continue
		}
		if top != nil && top.object {
			top.wantKey = true // this token is a member value
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				stack = append(stack, &frame{object: d == '{', wantKey: d == '{'})
				if len(stack) > maxDepth {
					return errors.New("too deep")
				}
			case ']':
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].wantKey = true
				}
			}
		}
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxDepth = 6
		err := validate(data, maxDepth)
		valid := json.Valid(data)
		blank := isBlank(data)
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		isObject := len(trimmed) > 0 && trimmed[0] == '{'
		if err == nil {
			if !blank && (!valid || !isObject) {
				t.Fatalf("accepted %q, which json.Valid=%v and object=%v", data, valid, isObject)
			}
			return
		}
		var se *scanError
		if !errors.As(err, &se) {
			t.Fatalf("error %v is not a *scanError", err)
		}
		if se.offset < 0 || se.offset > len(data) || se.msg == "" {
			t.Fatalf("bad error %+v for %d bytes", se, len(data))
		}
		if se.kind == errSyntax && valid {
			t.Fatalf("syntax error %q for %q, which json.Valid accepts", se.msg, data)
		}
		// Conversely, valid JSON that meets the extra rules must pass.
		if valid && isObject && utf8.Valid(data) && !surrogateEscape.Match(data) && refCheck(data, maxDepth) == nil {
			t.Fatalf("rejected %q with %q, but it is valid, UTF-8, shallow and without duplicates", data, se.msg)
		}
	})
}

// fuzzInput has a member of most JSON-relevant Go types, so random
// bodies hit every kind of decode error.
type fuzzInput struct {
	S  string            `json:"s"`
	I  int               `json:"i"`
	U8 uint8             `json:"u8"`
	F  float64           `json:"f"`
	B  bool              `json:"b"`
	P  *int              `json:"p"`
	L  []string          `json:"l"`
	M  map[string]int    `json:"m"`
	N  *fuzzInput        `json:"n"`
	T  *Time             `json:"t"`
	A  any               `json:"a"`
	R  json.RawMessage   `json:"r"`
	O  []map[string]bool `json:"o"`
}

func FuzzServeHTTP(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s), "Svc.Echo")
	}
	f.Add([]byte(`{"s":"x","i":1,"n":{"t":1.5,"m":{"a":1}},"r":[1]}`), "Svc.Echo")
	f.Add([]byte(`{}`), "Svc.Empty")
	f.Add([]byte(`{}`), "Svc_2012.Fail")
	f.Add([]byte(`{}`), "Svc.")
	f.Add([]byte(`{}`), ".")
	f.Add([]byte(`{}`), "")
	h := &Handler{
		Target:     "Svc",
		AltTargets: []string{"Svc_2012"},
		Ops: map[string]Op{
			"Echo": Handle(func(_ context.Context, in *fuzzInput) (*fuzzInput, error) { return in, nil }),
			"Empty": Handle(func(context.Context, *struct{}) (*struct{}, error) {
				return nil, nil
			}),
			"Fail": Handle(func(_ context.Context, in *fuzzInput) (*struct{}, error) {
				return nil, &Error{Code: "InvalidRequestException", Message: in.S}
			}),
		},
		MaxBodyBytes: 4 << 10,
		MaxDepth:     10,
		Logger:       slog.New(slog.DiscardHandler),
	}
	f.Fuzz(func(t *testing.T, body []byte, target string) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		r.Header.Set("X-Amz-Target", target)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for target %q body %q: %s", w.Code, target, body, w.Body)
		}
		if !requestIDPattern.MatchString(w.Header().Get("X-Amzn-RequestId")) {
			t.Fatalf("no request id")
		}
		if w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("response is not JSON: %q", w.Body)
		}
		if w.Code != 200 && w.Header().Get("X-Amzn-ErrorType") == "" {
			t.Fatalf("error %d without X-Amzn-ErrorType", w.Code)
		}
	})
}
