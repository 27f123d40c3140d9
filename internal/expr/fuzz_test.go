package expr

import (
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"format(minusHours(@scheduledStartTime,1),'YYYY-MM-dd-HH')",
	"@scheduledStartTime.format('YYYY-MM-dd HH:mm:ss')",
	"'this is ' + myList",
	"-2 ^ -2 * (3 - -1) / 4.5",
	"node.output.directoryPath",
	"a * *myPassword",
	`"it's" + 'x'`,
	"1.format('Y')",
	"plusPeriod(myStart, myPeriod)",
	"format(myDateTime, 'hh ''o''clock'' a')",
	"((((1))))",
}

// FuzzParse checks that parsing never panics and that for every successful
// parse the canonical form is a fixed point: print, parse, print again
// gives the same text.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			_ = err.Error()
			return
		}
		printed := e.String()
		e2, err := Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) ok, printed %q which fails: %v", src, printed, err)
		}
		if again := e2.String(); again != printed {
			t.Fatalf("not a fixed point: %q → %q → %q", src, printed, again)
		}
		// Evaluation must not panic either.
		if v, err := e.Eval(newTestEnv()); err == nil {
			_ = v.String()
		} else {
			_ = err.Error()
		}
	})
}

// FuzzTemplate does the same for whole field values.
func FuzzTemplate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add("s3://bucket/#{" + s + "}/x")
	}
	f.Add("#{a}#{b}")
	f.Add("no expressions { } # {")
	f.Add("#{'}'}#{")
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := ParseTemplate(src)
		if err != nil {
			_ = err.Error()
			return
		}
		printed := tmpl.String()
		if !tmpl.HasExpr() && printed != src {
			t.Fatalf("text without expressions changed: %q → %q", src, printed)
		}
		t2, err := ParseTemplate(printed)
		if err != nil {
			t.Fatalf("ParseTemplate(%q) ok, printed %q which fails: %v", src, printed, err)
		}
		if again := t2.String(); again != printed {
			t.Fatalf("not a fixed point: %q → %q → %q", src, printed, again)
		}
		if strings.Count(src, "#{") < 20 { // bound list combinations
			if _, err := tmpl.Eval(newTestEnv()); err != nil {
				_ = err.Error()
			}
		}
	})
}

// FuzzLex checks the lexer on its own: it never panics, always ends (in an
// error or EOF) within one token per byte plus EOF, and hands out tokens
// in source order, each within the source.
func FuzzLex(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Add("'unterminated")
	f.Add("a @ b\n\té")
	f.Fuzz(func(t *testing.T, src string) {
		l := lexer{src: src}
		last := -1
		for n := 0; ; n++ {
			if n > len(src)+1 {
				t.Fatalf("lexing %q gave more than %d tokens", src, len(src)+1)
			}
			tok, err := l.next()
			if err != nil {
				_ = err.Error()
				return
			}
			if tok.pos < last || tok.pos > len(src) {
				t.Fatalf("lexing %q: token %v at %d after one at %d", src, tok.kind, tok.pos, last)
			}
			last = tok.pos
			if tok.kind == tokEOF {
				return
			}
		}
	})
}
