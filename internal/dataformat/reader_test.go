package dataformat

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

var (
	csv    = Format{Type: TypeCSV}
	tsv    = Format{Type: TypeTSV}
	custom = Format{Type: TypeCustom, ColumnSeparator: "|"}
)

// readers are the ways a test feeds input to a Reader: whole, and in
// pieces that land every byte on a buffer boundary.
var readers = map[string]func(io.Reader) io.Reader{
	"whole":    func(r io.Reader) io.Reader { return r },
	"one byte": iotest.OneByteReader,
	"half":     iotest.HalfReader,
	"data+EOF": iotest.DataErrReader,
}

// readAll reads every record, stopping at the first error.
func readAll(t *testing.T, f Format, r io.Reader) ([][]string, error) {
	t.Helper()
	rd, err := f.NewReader(r)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var got [][]string
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, rec)
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		f     Format
		input string
		want  [][]string
	}{
		{"empty input", csv, "", nil},
		{"CSV", csv, "a,b,c\n1,2,3\n", [][]string{{"a", "b", "c"}, {"1", "2", "3"}}},
		{"final record without separator", csv, "a,b\nc,d", [][]string{{"a", "b"}, {"c", "d"}}},
		{"empty fields", csv, ",\na,,\n,,b", [][]string{{"", ""}, {"a", "", ""}, {"", "", "b"}}},
		{"an empty line is one empty field", csv, "a\n\nb\n", [][]string{{"a"}, {""}, {"b"}}},
		{"only a newline", csv, "\n", [][]string{{""}}},
		{"CRLF", csv, "a,b\r\nc,d\r\n", [][]string{{"a", "b"}, {"c", "d"}}},
		{"CRLF and an empty line", csv, "a\r\n\r\nb", [][]string{{"a"}, {""}, {"b"}}},
		{"lone carriage returns are data", csv, "a\rb,\r\n\r", [][]string{{"a\rb", ""}, {"\r"}}},
		// CopyActivity's CSV: "The records are not quoted."
		{"a byte-order mark is data", csv, "\ufeffa,b\n", [][]string{{"\ufeffa", "b"}}},
		{"quotes are data", csv, `"a,b",""` + "\n", [][]string{{`"a`, `b"`, `""`}}},
		{"escaped comma", csv, `a\,b,c`, [][]string{{"a,b", "c"}}},
		{"escaped newline", csv, "a\\\nb,c\n", [][]string{{"a\nb", "c"}}},
		{"escaped carriage return before the newline", csv, "a\\\r\n", [][]string{{"a\r"}}},
		{"escaped escape", csv, `a\\,b\\` + "\n", [][]string{{`a\`, `b\`}}},
		// "instructs the parser to ignore the next character": \n is n.
		{"escape before an ordinary character", csv, `\a\n\t\é`, [][]string{{"anté"}}},
		{"escape before invalid UTF-8", csv, "\\\xff,x", [][]string{{"\xff", "x"}}},
		{"CSV escapeChar", Format{Type: TypeCSV, EscapeChar: "^"}, `a^,b\,c`, [][]string{{"a,b\\", "c"}}},
		{"TSV", tsv, "a\tb\\\tc\n", [][]string{{"a", "b\tc"}}},
		{"TSV commas are data", tsv, "a,b\tc\n", [][]string{{"a,b", "c"}}},
		{
			"TSV own separators, no CRLF", Format{Type: TypeTSV, ColumnSeparator: "\x01", RecordSeparator: ";"},
			"a\x01b\r\n;c\\;d;", [][]string{{"a", "b\r\n"}, {"c;d"}},
		},
		{"Custom has no escape", custom, `a\|b|c` + "\n", [][]string{{`a\`, "b", "c"}}},
		{
			"multi-byte separators and escape", Format{Type: TypeCustom, ColumnSeparator: "¦", RecordSeparator: "§", EscapeChar: "€"},
			"a¦b€¦c§€€x€§§\xc2¦", [][]string{{"a", "b¦c"}, {"€x§"}, {"\xc2", ""}},
		},
		{
			"separator byte that is not the separator", Format{Type: TypeCustom, ColumnSeparator: "¦"},
			"a\xc2b\xc2¦\xc2", [][]string{{"a\xc2b\xc2", "\xc2"}},
		},
		{
			"carriage return as the column separator", Format{Type: TypeCustom, ColumnSeparator: "\r"},
			"a\r\nb\r\r\n", [][]string{{"a", ""}, {"b", "", ""}},
		},
		{
			"declared columns", Format{Type: TypeCSV, Columns: []Column{{"a", "STRING"}, {"b", "INT"}}},
			"x,1\ny,2", [][]string{{"x", "1"}, {"y", "2"}},
		},
		{
			"RegEx", Format{Type: TypeRegEx, InputRegEx: `(\w+)=(\d*)(?:;(.*))?`},
			"a=1;rest\r\nb=\n", [][]string{{"a", "1", "rest"}, {"b", "", ""}},
		},
		{
			"RegEx matches the whole record", Format{Type: TypeRegEx, InputRegEx: `(a|ab)`},
			"ab\n", [][]string{{"ab"}},
		},
	}
	for _, tc := range tests {
		for rname, wrap := range readers {
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				t.Parallel()
				got, err := readAll(t, tc.f, wrap(strings.NewReader(tc.input)))
				if err != nil {
					t.Fatalf("after %d records: %v", len(got), err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("records mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	two := []Column{{"a", "STRING"}, {"b", "STRING"}}
	tests := []struct {
		name   string
		f      Format
		input  string
		record int    // the RecordError's
		want   string // in its message
		// then is what later calls read, to their own error or io.EOF.
		then [][]string
	}{
		{"escape at the end", csv, "a\nb\\", 2, "escape character at the end", nil},
		{"too few fields", Format{Type: TypeCSV, Columns: two}, "a,b\nc\nd,e\n", 2, "has 1 fields, but the data format declares 2 columns", [][]string{{"d", "e"}}},
		{"too many fields", Format{Type: TypeTSV, Columns: two}, "a\tb\tc\n", 1, "has 3 fields", nil},
		{"empty line with columns", Format{Type: TypeCSV, Columns: two}, "a,b\n\n", 2, "has 1 fields", nil},
		{"RegEx matching only part of a record", Format{Type: TypeRegEx, InputRegEx: `(\d+)`}, "12x\n", 1, "does not match inputRegEx", nil},
		{"RegEx mismatch", Format{Type: TypeRegEx, InputRegEx: `(\d+) (\d+)`}, "1 2\n3 4\nx y\n5 6", 3, "does not match inputRegEx", [][]string{{"5", "6"}}},
	}
	for _, tc := range tests {
		for rname, wrap := range readers {
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				t.Parallel()
				rd, err := tc.f.NewReader(wrap(strings.NewReader(tc.input)))
				if err != nil {
					t.Fatal(err)
				}
				for {
					_, err = rd.Read()
					if err != nil {
						break
					}
				}
				var re *RecordError
				if !errors.As(err, &re) {
					t.Fatalf("Read error = %v, want a *RecordError", err)
				}
				if re.Record != tc.record || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Read error = %q (record %d), want record %d and %q", err, re.Record, tc.record, tc.want)
				}
				var then [][]string
				for {
					rec, err := rd.Read()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("after the error: %v", err)
					}
					then = append(then, rec)
				}
				if diff := cmp.Diff(tc.then, then); diff != "" {
					t.Errorf("records after the error mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestReadUnderlyingError: an error of the stream is not taken for the
// end of the data, names the record it cut, and stays.
func TestReadUnderlyingError(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	rd, err := csv.NewReader(io.MultiReader(strings.NewReader("a,b\nc,"), iotest.ErrReader(boom)))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := rd.Read()
	if err != nil || !cmp.Equal(rec, []string{"a", "b"}) {
		t.Fatalf("first Read = %q, %v", rec, err)
	}
	for range 2 {
		_, err = rd.Read()
		var re *RecordError
		if !errors.Is(err, boom) || !errors.As(err, &re) || re.Record != 2 {
			t.Fatalf("Read error = %v, want record 2 wrapping %v", err, boom)
		}
	}
}

// TestReadLongRecord: a record many times the read buffer, in fields of
// their own size, with escapes where buffers end.
func TestReadLongRecord(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 3*readBufSize+7)
	input := big + "," + strings.Repeat(`\,`, readBufSize) + "\n" + big
	want := [][]string{{big, strings.Repeat(",", readBufSize)}, {big}}
	for rname, wrap := range map[string]func(io.Reader) io.Reader{"whole": readers["whole"], "half": readers["half"]} {
		got, err := readAll(t, csv, wrap(strings.NewReader(input)))
		if err != nil {
			t.Fatalf("%s: %v", rname, err)
		}
		if !cmp.Equal(want, got) {
			t.Errorf("%s: long records did not read back whole", rname)
		}
	}
}

// TestReadAWSLog reads the line the RegEx example of the AWS developer
// guide is made for, and writes it back with the example's outputFormat.
func TestReadAWSLog(t *testing.T) {
	t.Parallel()
	f, err := Parse(map[string][]string{
		"type": {"RegEx"}, "inputRegEx": {awsLogRegEx},
		"outputFormat": {"%1$s %2$s %3$s %4$s %5$s %6$s %7$s %8$s %9$s"}, "column": awsLogColumns,
	})
	if err != nil {
		t.Fatal(err)
	}
	const line = `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`
	got, err := readAll(t, f, strings.NewReader(line+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{
		"127.0.0.1", "-", "frank", "[10/Oct/2000:13:55:36 -0700]", `"GET /apache_pb.gif HTTP/1.0"`,
		"200", "2326", `"http://www.example.com/start.html"`, `"Mozilla/4.08 [en] (Win98; I ;Nav)"`,
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("records mismatch (-want +got):\n%s", diff)
	}
	var out strings.Builder
	w, err := f.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(got[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.String() != line+"\n" {
		t.Errorf("written back as %q, want %q", out.String(), line+"\n")
	}
}
