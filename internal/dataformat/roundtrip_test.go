package dataformat

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeAll writes records, returning the output and the records the
// writer took (those it refused are left out).
func writeAll(t *testing.T, f Format, records [][]string) (string, [][]string) {
	t.Helper()
	var out bytes.Buffer
	w, err := f.NewWriter(&out)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	var took [][]string
	for _, rec := range records {
		err := w.Write(rec)
		var re *RecordError
		switch {
		case err == nil:
			took = append(took, rec)
		case !errors.As(err, &re):
			t.Fatalf("Write(%q) = %v, want nil or a *RecordError", rec, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return out.String(), took
}

// nasty are fields that hold every character the formats below treat
// specially, alone and together, at the start, middle and end.
var nasty = [][]string{
	{""},
	{"", ""},
	{"plain", "", "fields"},
	{",", "\t", "\n", "\r", `\`, "|", "^", "€", "¦", "§", `"`},
	{"a,b\tc\nd\re\\f|g^h€i¦j§k"},
	{"\r\n", "\\\r\n", "\n\r", "trailing\r"},
	{`\`, `\\`, `x\`, `\x`},
	{"\xc2", "\xe2\x82", "\xff\xfe", "é\x00"},
	{strings.Repeat("long,field\n", 10000), "after"},
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	formats := map[string]Format{
		"CSV":                  csv,
		"CSV with ^":           {Type: TypeCSV, EscapeChar: "^"},
		"TSV":                  tsv,
		"TSV with |, ^, §":     {Type: TypeTSV, ColumnSeparator: "|", EscapeChar: "^", RecordSeparator: "§"},
		"TSV with \\r records": {Type: TypeTSV, RecordSeparator: "\r"},
		"Custom with escape":   {Type: TypeCustom, ColumnSeparator: "¦", EscapeChar: "€"},
		"Custom with \\r":      {Type: TypeCustom, ColumnSeparator: "\r", EscapeChar: `\`},
	}
	for name, f := range formats {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, took := writeAll(t, f, nasty)
			if len(took) != len(nasty) {
				t.Fatalf("the writer refused %d records; a format with an escape character holds any field", len(nasty)-len(took))
			}
			got, err := readAll(t, f, strings.NewReader(out))
			if err != nil {
				t.Fatalf("reading back: %v", err)
			}
			if diff := cmp.Diff(nasty, got); diff != "" {
				t.Errorf("round trip mismatch (-wrote +read):\n%s", diff)
			}
		})
	}
}

// TestRoundTripNoEscape: a format without an escape character refuses what
// it cannot hold, and reads back everything else.
func TestRoundTripNoEscape(t *testing.T) {
	t.Parallel()
	out, took := writeAll(t, custom, nasty)
	want := [][]string{{""}, {"", ""}, {"plain", "", "fields"}, {`\`, `\\`, `x\`, `\x`}, {"\xc2", "\xe2\x82", "\xff\xfe", "é\x00"}}
	if diff := cmp.Diff(want, took); diff != "" {
		t.Errorf("records taken mismatch (-want +got):\n%s", diff)
	}
	got, err := readAll(t, custom, strings.NewReader(out))
	if err != nil {
		t.Fatalf("reading back: %v", err)
	}
	if diff := cmp.Diff(took, got); diff != "" {
		t.Errorf("round trip mismatch (-wrote +read):\n%s", diff)
	}
}

// TestRoundTripRegEx: a RegEx format whose outputFormat writes what its
// inputRegEx reads.
func TestRoundTripRegEx(t *testing.T) {
	t.Parallel()
	f := Format{Type: TypeRegEx, InputRegEx: `([^ ]*) \[(.*)\]`, OutputFormat: "%s [%s]", Columns: []Column{{"a", ""}, {"b", ""}}}
	records := [][]string{{"", ""}, {"a", "b c ]["}, {"é", "\r"}, {"x", "\\"}}
	out, took := writeAll(t, f, records)
	if len(took) != len(records) {
		t.Fatalf("the writer refused %d records", len(records)-len(took))
	}
	got, err := readAll(t, f, strings.NewReader(out))
	if err != nil {
		t.Fatalf("reading back: %v", err)
	}
	if diff := cmp.Diff(records, got); diff != "" {
		t.Errorf("round trip mismatch (-wrote +read):\n%s", diff)
	}
}

// fuzzChars are the characters FuzzRoundTrip picks separators and escape
// characters from.
var fuzzChars = []string{",", "\t", "\n", "\r", "|", ";", `\`, "^", "\x01", " ", `"`, "é", "€", "¦", "§"}

// FuzzRoundTrip: for any format it can make and any records, what a
// Writer takes a Reader gives back unchanged; what it refuses, it refuses
// with a RecordError; a format with an escape character takes everything.
// Records come from data split at "\x1e", fields at "\x1f".
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint8(2), uint8(6), "a\x1fb\x1ec,d\x1f\x1e\x1f\\\n")
	f.Add(uint8(1), uint8(1), uint8(2), uint8(7), "x\ty\x1fz\r\x1e\x1e")
	f.Add(uint8(2), uint8(4), uint8(2), uint8(255), "a|b\x1fc\r\x1e\r\n")
	f.Add(uint8(2), uint8(13), uint8(14), uint8(12), "é€¦§\x1f\xc2\x1e\xe2\x82")
	f.Add(uint8(1), uint8(3), uint8(2), uint8(6), "\r\x1f\r\n\x1e")
	f.Fuzz(func(t *testing.T, kind, colSep, recSep, esc uint8, data string) {
		pick := func(i uint8) string {
			if int(i) < len(fuzzChars) {
				return fuzzChars[i]
			}
			return ""
		}
		format := Format{
			Type:            []string{TypeCSV, TypeTSV, TypeCustom}[kind%3],
			ColumnSeparator: pick(colSep),
			RecordSeparator: pick(recSep),
			EscapeChar:      pick(esc),
		}
		if format.Type == TypeCSV {
			format.ColumnSeparator, format.RecordSeparator = "", ""
		}
		if _, err := format.compile(); err != nil {
			return
		}
		var records [][]string
		if data != "" {
			for _, rec := range strings.Split(data, "\x1e") {
				records = append(records, strings.Split(rec, "\x1f"))
			}
		}
		out, took := writeAll(t, format, records)
		if format.Type != TypeCustom || format.EscapeChar != "" {
			if len(took) != len(records) {
				t.Fatalf("%+v refused records though it has an escape character", format)
			}
		}
		got, err := readAll(t, format, strings.NewReader(out))
		if err != nil {
			t.Fatalf("%+v: reading back %q: %v", format, out, err)
		}
		if diff := cmp.Diff(took, got); diff != "" {
			t.Fatalf("%+v wrote %q; round trip mismatch (-wrote +read):\n%s", format, out, diff)
		}
	})
}

// FuzzRead: any input either reads or fails with a RecordError, never a
// panic; and what reads, written and read again, is the same records.
func FuzzRead(f *testing.F) {
	for _, s := range []string{"a,b\nc", "a\\", "\r\n\r", "x\\\r\n,", "\xc2¦\xc2§€", "1 2\n3"} {
		f.Add(uint8(0), s)
		f.Add(uint8(3), s)
	}
	formats := []Format{
		csv, tsv, custom,
		{Type: TypeCustom, ColumnSeparator: "¦", RecordSeparator: "§", EscapeChar: "€"},
		{Type: TypeRegEx, InputRegEx: `(\d+) (\d*)`, OutputFormat: "%s %s"},
	}
	f.Fuzz(func(t *testing.T, which uint8, input string) {
		format := formats[int(which)%len(formats)]
		rd, err := format.NewReader(strings.NewReader(input))
		if err != nil {
			t.Fatal(err)
		}
		var records [][]string
		for {
			rec, err := rd.Read()
			if err == io.EOF {
				break
			}
			var re *RecordError
			if err != nil {
				if !errors.As(err, &re) {
					t.Fatalf("Read error %v is not a *RecordError", err)
				}
				continue
			}
			records = append(records, rec)
		}
		if len(records) > 0 {
			out, took := writeAll(t, format, records)
			got, err := readAll(t, format, strings.NewReader(out))
			if err != nil {
				t.Fatalf("reading back %q: %v", out, err)
			}
			if diff := cmp.Diff(took, got); diff != "" {
				t.Fatalf("read %q, wrote %q; mismatch (-wrote +read):\n%s", input, out, diff)
			}
		}
	})
}
