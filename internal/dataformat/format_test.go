package dataformat

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// awsLogRegEx is the RegEx data format example of the AWS developer guide
// (dp-object-regex), as its JSON string decodes.
const awsLogRegEx = `([^ ]*) ([^ ]*) ([^ ]*) (-|\[[^\]]*\]) ([^ "]*|"[^"]*") (-|[0-9]*) (-|[0-9]*)(?: ([^ "]*|"[^"]*") ([^ "]*|"[^"]*"))?`

var awsLogColumns = []string{
	"host STRING", "identity STRING", "user STRING", "time STRING", "request STRING",
	"status STRING", "size STRING", "referer STRING", "agent STRING",
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fields map[string][]string
		want   Format
	}{
		{
			name: "CSV defaults, as in the AWS example",
			fields: map[string][]string{
				"id": {"MyOutputDataType"}, "type": {"CSV"},
				"column": {"Name STRING", "Score INT", "DateOfBirth TIMESTAMP"},
			},
			want: Format{
				Type:            "CSV",
				Columns:         []Column{{"Name", "STRING"}, {"Score", "INT"}, {"DateOfBirth", "TIMESTAMP"}},
				ColumnSeparator: ",", RecordSeparator: "\n", EscapeChar: `\`,
			},
		},
		{
			name:   "CSV escapeChar",
			fields: map[string][]string{"type": {"CSV"}, "escapeChar": {"^"}},
			want:   Format{Type: "CSV", ColumnSeparator: ",", RecordSeparator: "\n", EscapeChar: "^"},
		},
		{
			// Fields CSV does not have, and fields inherited from Default,
			// are not the format's business.
			name: "CSV ignores other fields",
			fields: map[string][]string{
				"type": {"CSV"}, "columnSeparator": {"|"}, "scheduleType": {"cron"}, "parent": {"Base"},
			},
			want: Format{Type: "CSV", ColumnSeparator: ",", RecordSeparator: "\n", EscapeChar: `\`},
		},
		{
			name:   "TSV defaults",
			fields: map[string][]string{"type": {"TSV"}},
			want:   Format{Type: "TSV", ColumnSeparator: "\t", RecordSeparator: "\n", EscapeChar: `\`},
		},
		{
			name: "TSV separators written as backslash spellings",
			fields: map[string][]string{
				"type": {"TSV"}, "columnSeparator": {`\001`}, "recordSeparator": {`\r`}, "escapeChar": {`\\`},
			},
			want: Format{Type: "TSV", ColumnSeparator: "\x01", RecordSeparator: "\r", EscapeChar: `\`},
		},
		{
			name:   "TSV tab and newline spelled out",
			fields: map[string][]string{"type": {"TSV"}, "columnSeparator": {`\t`}, "recordSeparator": {`\n`}},
			want:   Format{Type: "TSV", ColumnSeparator: "\t", RecordSeparator: "\n", EscapeChar: `\`},
		},
		{
			name: "TSV columns as one comma-separated value",
			fields: map[string][]string{
				"type": {"TSV"}, "column": {"Name STRING, Price DECIMAL(10, 2),Tags MAP<STRING,INT>", "Id"},
			},
			want: Format{
				Type: "TSV",
				Columns: []Column{
					{"Name", "STRING"}, {"Price", "DECIMAL(10, 2)"}, {"Tags", "MAP<STRING,INT>"}, {"Id", ""},
				},
				ColumnSeparator: "\t", RecordSeparator: "\n", EscapeChar: `\`,
			},
		},
		{
			name: "Custom, as in the AWS example",
			fields: map[string][]string{
				"type": {"Custom"}, "columnSeparator": {","}, "recordSeparator": {"\n"},
				"column": {"Name STRING"},
			},
			want: Format{Type: "Custom", Columns: []Column{{"Name", "STRING"}}, ColumnSeparator: ",", RecordSeparator: "\n"},
		},
		{
			name:   "Custom defaults to newline records and no escape",
			fields: map[string][]string{"type": {"Custom"}, "columnSeparator": {"¦"}},
			want:   Format{Type: "Custom", ColumnSeparator: "¦", RecordSeparator: "\n"},
		},
		{
			name:   "Custom with an escapeChar",
			fields: map[string][]string{"type": {"Custom"}, "columnSeparator": {";"}, "escapeChar": {"€"}},
			want:   Format{Type: "Custom", ColumnSeparator: ";", RecordSeparator: "\n", EscapeChar: "€"},
		},
		{
			name: "RegEx, as in the AWS example",
			fields: map[string][]string{
				"type": {"RegEx"}, "inputRegEx": {awsLogRegEx},
				"outputFormat": {"%1$s %2$s %3$s %4$s %5$s %6$s %7$s %8$s %9$s"}, "column": awsLogColumns,
			},
			want: Format{
				Type: "RegEx",
				Columns: []Column{
					{"host", "STRING"}, {"identity", "STRING"}, {"user", "STRING"}, {"time", "STRING"},
					{"request", "STRING"}, {"status", "STRING"}, {"size", "STRING"}, {"referer", "STRING"},
					{"agent", "STRING"},
				},
				RecordSeparator: "\n",
				InputRegEx:      awsLogRegEx,
				OutputFormat:    "%1$s %2$s %3$s %4$s %5$s %6$s %7$s %8$s %9$s",
			},
		},
		{
			name:   "RegEx for reading only",
			fields: map[string][]string{"type": {"RegEx"}, "inputRegEx": {`(\d+)-(\d+)`}},
			want:   Format{Type: "RegEx", RecordSeparator: "\n", InputRegEx: `(\d+)-(\d+)`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.fields)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fields      map[string][]string
		want        string // in the message
		unsupported bool
	}{
		{"no type", map[string][]string{"column": {"a STRING"}}, "no type", false},
		{"two types", map[string][]string{"type": {"CSV", "TSV"}}, "type has 2 values", false},
		{"not a data format", map[string][]string{"type": {"S3DataNode"}}, `"S3DataNode" is not a data format`, false},
		{"DynamoDBDataFormat", map[string][]string{"type": {"DynamoDBDataFormat"}}, "DynamoDBDataFormat cannot be read or written", true},
		{"DynamoDBExportDataFormat", map[string][]string{"type": {"DynamoDBExportDataFormat"}}, "DynamoDBExportDataFormat cannot be read or written", true},
		{"Custom without columnSeparator", map[string][]string{"type": {"Custom"}}, "columnSeparator is required", false},
		{"empty escapeChar", map[string][]string{"type": {"CSV"}, "escapeChar": {""}}, "escapeChar is empty", false},
		{"two escapeChars", map[string][]string{"type": {"CSV"}, "escapeChar": {`\`, "^"}}, "escapeChar has 2 values", false},
		{"separator of two characters", map[string][]string{"type": {"TSV"}, "columnSeparator": {"::"}}, `columnSeparator "::" must be a single character`, false},
		{"recordSeparator CRLF", map[string][]string{"type": {"Custom"}, "columnSeparator": {","}, "recordSeparator": {"\r\n"}}, "must be a single character", false},
		{"same separators", map[string][]string{"type": {"Custom"}, "columnSeparator": {"\n"}}, "columnSeparator and recordSeparator are both", false},
		{"escape is the separator", map[string][]string{"type": {"TSV"}, "escapeChar": {`\t`}}, "escapeChar and columnSeparator are both", false},
		{"escape is the record separator", map[string][]string{"type": {"CSV"}, "escapeChar": {"\n"}}, "escapeChar and recordSeparator are both", false},
		{"empty column", map[string][]string{"type": {"CSV"}, "column": {"a STRING,"}}, `column "a STRING,"`, false},
		{"unbalanced column type", map[string][]string{"type": {"CSV"}, "column": {"a DECIMAL(10,2"}}, "unbalanced", false},
		{"duplicate column", map[string][]string{"type": {"CSV"}, "column": {"id INT", "ID STRING"}}, "column ID is declared twice", false},
		{"inputRegEx Go cannot compile", map[string][]string{"type": {"RegEx"}, "inputRegEx": {`(a)\1`}}, "inputRegEx", false},
		{"inputRegEx lookahead", map[string][]string{"type": {"RegEx"}, "inputRegEx": {`(?=a)a`}}, "RE2", false},
		{"groups and columns differ", map[string][]string{"type": {"RegEx"}, "inputRegEx": {`(a)(b)`}, "column": {"a STRING"}}, "2 groups, but 1 columns", false},
		{"outputFormat past the columns", map[string][]string{"type": {"RegEx"}, "outputFormat": {"%1$s %3$s"}, "column": {"a STRING", "b STRING"}}, "refers to column 3", false},
		{"outputFormat with %d", map[string][]string{"type": {"RegEx"}, "outputFormat": {"%1$d"}}, "%d is not supported", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.fields)
			if err == nil {
				t.Fatalf("Parse(%v) succeeded, want an error containing %q", tc.fields, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error %q does not contain %q", err, tc.want)
			}
			if got := errors.Is(err, ErrUnsupported); got != tc.unsupported {
				t.Errorf("errors.Is(%q, ErrUnsupported) = %v, want %v", err, got, tc.unsupported)
			}
		})
	}
}

// TestFormatLiteral: a Format written out gets its type's defaults and
// checks from NewReader and NewWriter, as from Parse.
func TestFormatLiteral(t *testing.T) {
	t.Parallel()
	if _, err := (Format{Type: "CSV", ColumnSeparator: ";"}).NewReader(strings.NewReader("")); err == nil ||
		!strings.Contains(err.Error(), "CSV separates columns with a comma") {
		t.Errorf("CSV with columnSeparator ';': NewReader error = %v", err)
	}
	if _, err := (Format{Type: "RegEx", OutputFormat: "%s"}).NewReader(strings.NewReader("")); err == nil ||
		!strings.Contains(err.Error(), "needs an inputRegEx") {
		t.Errorf("RegEx without inputRegEx: NewReader error = %v", err)
	}
	if _, err := (Format{Type: "RegEx", InputRegEx: "(.*)"}).NewWriter(new(strings.Builder)); err == nil ||
		!strings.Contains(err.Error(), "needs an outputFormat") {
		t.Errorf("RegEx without outputFormat: NewWriter error = %v", err)
	}
	if _, err := (Format{}).NewWriter(new(strings.Builder)); err == nil {
		t.Error("Format{}: NewWriter succeeded")
	}
	r, err := (Format{Type: "TSV"}).NewReader(strings.NewReader("a\\\tb\tc\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a\tb", "c"}, got); diff != "" {
		t.Errorf("TSV literal with defaults: Read mismatch (-want +got):\n%s", diff)
	}
}
