package expr

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestParsePrint parses each expression and checks the canonical form the
// printer gives, which must itself parse back to the same form.
func TestParsePrint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src, want string
	}{
		{"1", "1"},
		{"1.50", "1.5"},
		{"'a'", "'a'"},
		{`"a"`, "'a'"},
		{`"it's"`, `"it's"`},
		{"myA", "myA"},
		{"@scheduledStartTime", "@scheduledStartTime"},
		{"*myPassword", "*myPassword"},
		{"node.output.directoryPath", "node.output.directoryPath"},
		{"parent.@id", "parent.@id"},
		{"1+2*3", "1 + 2 * 3"},
		{"(1+2)*3", "(1 + 2) * 3"},
		{"1-(2-3)", "1 - (2 - 3)"},
		{"(1-2)-3", "1 - 2 - 3"},
		{"8/(4/2)", "8 / (4 / 2)"},
		{"2^3^2", "2 ^ 3 ^ 2"},
		{"(2^3)^2", "(2 ^ 3) ^ 2"},
		{"-2^2", "-2 ^ 2"},
		{"(-2)^2", "(-2) ^ 2"},
		{"2^-1", "2 ^ (-1)"},
		{"--1", "--1"},
		{"-(1+2)", "-(1 + 2)"},
		{"a*b", "a * b"},
		{"a * *b", "a * *b"},
		{"format(minusHours(@scheduledStartTime,1),'YYYY-MM-dd-HH')", "format(minusHours(@scheduledStartTime, 1), 'YYYY-MM-dd-HH')"},
		{"@scheduledStartTime.format('YYYY')", "@scheduledStartTime.format('YYYY')"},
		{"node.@scheduledStartTime.minusDays(1).format('YYYY')", "node.@scheduledStartTime.minusDays(1).format('YYYY')"},
		{"(myA + 'x').format('Y')", "(myA + 'x').format('Y')"},
		{"1.format('Y')", "1.format('Y')"},
		{"makeDate( 2011 , 5 , 24 )", "makeDate(2011, 5, 24)"},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.String(); got != tc.want {
				t.Errorf("Parse(%q).String() = %q, want %q", tc.src, got, tc.want)
			}
			e2, err := Parse(e.String())
			if err != nil {
				t.Fatalf("reparse: %v", err)
			}
			if got := e2.String(); got != tc.want {
				t.Errorf("reparse printed %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseTree(t *testing.T) {
	t.Parallel()
	e, err := Parse("x.plusDays(1) + -y.@z")
	if err != nil {
		t.Fatal(err)
	}
	want := &Binary{At: 14, Op: '+',
		X: &Call{At: 2, Func: "plusDays", Method: true, Args: []Node{
			&Name{At: 0, Parts: []string{"x"}},
			&IntLit{At: 11, Value: 1},
		}},
		Y: &Unary{At: 16, X: &Name{At: 17, Parts: []string{"y", "@z"}}},
	}
	if diff := cmp.Diff(want, e.Root(), cmpopts.IgnoreUnexported(Call{})); diff != "" {
		t.Errorf("Parse() mismatch (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src, want string
	}{
		{"format(@x,", `expr: "format(@x,": line 1 col 11: unexpected end of expression`},
		{"", `expr: "": line 1 col 1: empty expression`},
		{"1 +", `expr: "1 +": line 1 col 4: unexpected end of expression`},
		{"(1", `expr: "(1": line 1 col 3: unexpected end of expression, want ")"`},
		{"1 2", `expr: "1 2": line 1 col 3: unexpected integer 2`},
		{"f(1)", `expr: "f(1)": line 1 col 1: unknown function f`},
		{"day(1, 2)", `expr: "day(1, 2)": line 1 col 1: day takes 1 arguments, got 2`},
		{"@x(1)", `expr: "@x(1)": line 1 col 1: @x is not a function`},
		{"* x", `expr: "* x": line 1 col 1: "*" must be followed by a parameter name`},
		{"'a'.b", `expr: "'a'.b": line 1 col 5: field reference b on a value that is not a name`},
		{"a.", `expr: "a.": line 1 col 3: unexpected end of expression`},
		{"99999999999999999999", `expr: "99999999999999999999": line 1 col 1: integer 99999999999999999999 out of range`},
		{"a }", `expr: "a }": line 1 col 3: unexpected "}"`},
		{"day(x\n,", "expr: \"day(x\\n,\": line 2 col 2: unexpected end of expression"},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.src)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error", tc.src)
			}
			if err.Error() != tc.want {
				t.Errorf("Parse(%q) error = %q, want %q", tc.src, err, tc.want)
			}
		})
	}
}

func TestParseTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src, want string
		exprs     int
	}{
		{"plain", "plain", 0},
		{"", "", 0},
		{"#{1}", "#{1}", 1},
		{"a#{ myA }b#{'}'}c", "a#{myA}b#{'}'}c", 2},
		{"{} # { #x }", "{} # { #x }", 0},
		{"#{a}#{b}", "#{a}#{b}", 2},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			tmpl, err := ParseTemplate(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := tmpl.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if got := len(tmpl.Nodes()); got != tc.exprs {
				t.Errorf("len(Nodes()) = %d, want %d", got, tc.exprs)
			}
			if got := tmpl.HasExpr(); got != (tc.exprs > 0) {
				t.Errorf("HasExpr() = %v", got)
			}
		})
	}
}
