package dataformat

import (
	"errors"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		f       Format
		records [][]string
		want    string
	}{
		{"nothing", csv, nil, ""},
		{"CSV", csv, [][]string{{"a", "b"}, {"1", "2"}}, "a,b\n1,2\n"},
		{"empty fields", csv, [][]string{{""}, {"", ""}, {"a", ""}}, "\n,\na,\n"},
		{"quotes are not special", csv, [][]string{{`"a"`, `b"c`}}, `"a",b"c` + "\n"},
		{
			"CSV escapes", csv, [][]string{{"a,b", "c\nd", `e\f`, "g\rh", "tab\tok"}},
			`a\,b,c\` + "\n" + `d,e\\f,g\` + "\rh,tab\tok\n",
		},
		{"TSV escapes", tsv, [][]string{{"a\tb", "c,d", "e\n"}}, "a\\\tb\tc,d\te\\\n\n"},
		{
			"TSV own separators", Format{Type: TypeTSV, ColumnSeparator: "|", RecordSeparator: ";", EscapeChar: "^"},
			[][]string{{"a|b", "c;d^", "e\r\n"}}, "a^|b|c^;d^^|e\r\n;",
		},
		{"Custom", custom, [][]string{{"a", "b,c"}, {"d\r", "e"}}, "a|b,c\nd\r|e\n"},
		{"Custom carriage return mid-field", custom, [][]string{{"a", "b\rc"}}, "a|b\rc\n"},
		{
			"multi-byte separators", Format{Type: TypeCustom, ColumnSeparator: "¦", RecordSeparator: "§", EscapeChar: "€"},
			[][]string{{"a¦b", "€§\xc2"}}, "a€¦b¦€€€§\xc2§",
		},
		{
			"RegEx", Format{Type: TypeRegEx, OutputFormat: "%2$s=%1$-3s|"},
			[][]string{{"a", "b"}, {"long", "c"}}, "b=a  |\nc=long|\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			w, err := tc.f.NewWriter(&out)
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range tc.records {
				if err := w.Write(rec); err != nil {
					t.Fatalf("Write(%q): %v", rec, err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("wrote %q, want %q", out.String(), tc.want)
			}
		})
	}
}

// TestWriteErrors: a record the format cannot hold is refused whole,
// naming it, and the records around it are written.
func TestWriteErrors(t *testing.T) {
	t.Parallel()
	two := []Column{{"a", "STRING"}, {"b", "STRING"}}
	tests := []struct {
		name string
		f    Format
		bad  []string
		want string
	}{
		{"no fields", csv, []string{}, "has no fields"},
		{"too few fields", Format{Type: TypeCSV, Columns: two}, []string{"x"}, "has 1 fields, but the data format declares 2 columns"},
		{"too many fields", Format{Type: TypeTSV, Columns: two}, []string{"x", "y", "z"}, "has 3 fields"},
		{"Custom column separator", custom, []string{"ok", "a|b"}, `field 2 holds the column separator "|"`},
		{"Custom record separator", custom, []string{"a\nb", "ok"}, `field 1 holds the record separator "\n"`},
		{"Custom trailing carriage return", custom, []string{"ok", "b\r"}, "field 2 ends with a carriage return"},
		{"RegEx field past the last", Format{Type: TypeRegEx, OutputFormat: "%1$s %3$s"}, []string{"a", "b"}, "outputFormat refers to field 3"},
		{"RegEx newline", Format{Type: TypeRegEx, OutputFormat: "%s"}, []string{"a\nb"}, "field 1 holds the record separator"},
		{"RegEx trailing carriage return", Format{Type: TypeRegEx, OutputFormat: "%s"}, []string{"a\r"}, "ends with a carriage return"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			good := []string{"g", "h"}
			if tc.f.Type == TypeRegEx {
				good = []string{"g", "h", "i"}
			}
			var out, want strings.Builder
			w, err := tc.f.NewWriter(&out)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := tc.f.NewWriter(&want)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(good); err != nil {
				t.Fatal(err)
			}
			err = w.Write(tc.bad)
			var re *RecordError
			if !errors.As(err, &re) || re.Record != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Write(%q) = %v, want a RecordError for record 2 containing %q", tc.bad, err, tc.want)
			}
			for _, w := range []*Writer{w, ref, ref} {
				if err := w.Write(good); err != nil {
					t.Fatal(err)
				}
			}
			if err := errors.Join(w.Flush(), ref.Flush()); err != nil {
				t.Fatal(err)
			}
			if out.String() != want.String() {
				t.Errorf("wrote %q, want the good records only: %q", out.String(), want.String())
			}
		})
	}
}

// TestWriteUnderlyingError: an error of the stream comes back from Write
// or Flush, and not as success.
func TestWriteUnderlyingError(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk full")
	w, err := csv.NewWriter(failingWriter{boom})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 100<<10) // more than the buffer
	if err := w.Write([]string{big}); !errors.Is(err, boom) {
		t.Errorf("Write of a record larger than the buffer = %v, want %v", err, boom)
	}
	w, err = csv.NewWriter(failingWriter{boom})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]string{"small"}); err != nil {
		t.Fatalf("buffered Write = %v", err)
	}
	if err := w.Flush(); !errors.Is(err, boom) {
		t.Errorf("Flush = %v, want %v", err, boom)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }
