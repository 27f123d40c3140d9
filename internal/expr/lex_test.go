package expr

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLexer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     string
		want    []token
		wantErr string
	}{
		{name: "empty", src: "", want: []token{{kind: tokEOF}}},
		{
			name: "call", src: "format(@x, 'Y}')",
			want: []token{
				{tokIdent, 0, "format"}, {tokLParen, 6, ""}, {tokIdent, 7, "@x"}, {tokComma, 9, ""},
				{tokString, 11, "Y}"}, {tokRParen, 15, ""}, {tokEOF, 16, ""},
			},
		},
		{
			name: "numbers", src: "1 2.50 3.x",
			want: []token{{tokInt, 0, "1"}, {tokDouble, 2, "2.50"}, {tokInt, 7, "3"}, {tokDot, 8, ""}, {tokIdent, 9, "x"}, {tokEOF, 10, ""}},
		},
		{
			name: "operators", src: "+-*/^}.\t\n",
			want: []token{{tokPlus, 0, ""}, {tokMinus, 1, ""}, {tokStar, 2, ""}, {tokSlash, 3, ""}, {tokCaret, 4, ""}, {tokRBrace, 5, ""}, {tokDot, 6, ""}, {tokEOF, 9, ""}},
		},
		{
			name: "double quotes", src: `"it's"`,
			want: []token{{tokString, 0, "it's"}, {tokEOF, 6, ""}},
		},
		{
			name: "param", src: "*myP",
			want: []token{{tokStar, 0, ""}, {tokIdent, 1, "myP"}, {tokEOF, 4, ""}},
		},
		{name: "unterminated string", src: "'abc", wantErr: `expr: "'abc": line 1 col 1: unterminated string`},
		{name: "bare at", src: "a @ b", wantErr: `expr: "a @ b": line 1 col 3: "@" must be followed by a name`},
		{name: "bad char", src: "a\n  é", wantErr: `expr: "a\n  é": line 2 col 3: unexpected character 'é'`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := lexer{src: tc.src}
			var got []token
			for {
				tok, err := l.next()
				if err != nil {
					if err.Error() != tc.wantErr {
						t.Fatalf("error = %q, want %q", err, tc.wantErr)
					}
					return
				}
				got = append(got, tok)
				if tok.kind == tokEOF {
					break
				}
			}
			if tc.wantErr != "" {
				t.Fatalf("no error, want %q", tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(token{})); diff != "" {
				t.Errorf("tokens mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
