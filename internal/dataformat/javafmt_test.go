package dataformat

import (
	"strings"
	"testing"
)

// TestJavaFormat pins the outputFormat subset against what
// java.util.Formatter prints for String arguments.
func TestJavaFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		format string
		fields []string
		want   string
	}{
		{"%1$s %2$s", []string{"a", "b"}, "a b"},
		{"%s-%s", []string{"a", "b"}, "a-b"},
		{"%2$s|%1$s", []string{"a", "b"}, "b|a"},
		// Ordinary indexes count on regardless of explicit ones.
		{"%2$s %s %s", []string{"a", "b"}, "b a b"},
		{"%s %<s %2$s %<S", []string{"a", "b"}, "a a b B"},
		{"%1$s%1$s", []string{"ab"}, "abab"},
		{"[%5s]", []string{"ab"}, "[   ab]"},
		{"[%-5s]", []string{"ab"}, "[ab   ]"},
		{"[%1$-5s]", []string{"ab"}, "[ab   ]"},
		{"[%1s]", []string{"abc"}, "[abc]"},
		{"[%.2s]", []string{"abcdef"}, "[ab]"},
		{"[%6.2S]", []string{"abcdef"}, "[    AB]"},
		{"[%.0s]", []string{"abc"}, "[]"},
		{"[%3s]", []string{"é"}, "[  é]"},
		{"[%.1s]", []string{"éa"}, "[é]"},
		{"%S", []string{"abc é"}, "ABC É"},
		{"100%%", []string{}, "100%"},
		{"[%3%]", []string{}, "[  %]"},
		{"[%-3%]", []string{}, "[%  ]"},
		{"a%nb", []string{}, "a\nb"},
		{"no specifiers", []string{"x"}, "no specifiers"},
		{"%s", []string{""}, ""},
		{"ünï %s cödé", []string{"x"}, "ünï x cödé"},
	}
	for _, tc := range tests {
		ops, args, err := compileJavaFormat(tc.format)
		if err != nil {
			t.Errorf("compileJavaFormat(%q): %v", tc.format, err)
			continue
		}
		if args > len(tc.fields) {
			t.Errorf("compileJavaFormat(%q) uses %d arguments, test gives %d", tc.format, args, len(tc.fields))
			continue
		}
		if got := string(appendJavaFormat(nil, ops, tc.fields)); got != tc.want {
			t.Errorf("format %q with %q = %q, want %q", tc.format, tc.fields, got, tc.want)
		}
	}
}

func TestJavaFormatErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ format, want string }{
		{"%d", "%d is not supported"},
		{"%1$d", "%d is not supported"},
		{"%tY", "%t is not supported"},
		{"%f", "%f is not supported"},
		{"%05s", "flag '0'"},
		{"%+s", "flag '+'"},
		{"%#s", "flag '#'"},
		{"%,s", "flag ','"},
		{"%--5s", "given twice"},
		{"%-s", "needs a width"},
		{"%0$s", "start at 1"},
		{"%99999999999$s", "too large"},
		{"%99999999999s", "too large"},
		{"%<s", "no previous argument"},
		{"%", "no conversion"},
		{"abc %1$", "no conversion"},
		{"%5", "no conversion"},
		{"%.s", "bad precision"},
		{"%q", "unknown conversion"},
		{"%é", "unknown conversion"},
		{"%1$%", "takes only a width"},
		{"%.2%", "takes only a width"},
		{"%5n", "%n takes no"},
		{"%-1$s", "unknown conversion"},
	}
	for _, tc := range tests {
		_, _, err := compileJavaFormat(tc.format)
		if err == nil {
			t.Errorf("compileJavaFormat(%q) succeeded, want an error containing %q", tc.format, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("compileJavaFormat(%q) = %q, want it to contain %q", tc.format, err, tc.want)
		}
	}
}

// FuzzJavaFormat: any pattern either fails to compile or formats any
// fields without panicking.
func FuzzJavaFormat(f *testing.F) {
	for _, s := range []string{"%1$s %2$s", "%-5s|%<S", "%.2s%%%n", "%3$10.4s", "%", "%<s"} {
		f.Add(s, "a", "bé")
	}
	f.Fuzz(func(t *testing.T, format, a, b string) {
		ops, args, err := compileJavaFormat(format)
		if err != nil {
			return
		}
		fields := []string{a, b}
		for len(fields) < args {
			fields = append(fields, "x")
		}
		_ = appendJavaFormat(nil, ops, fields)
	})
}
