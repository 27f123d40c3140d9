package dataformat

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The data-format types culvert reads and writes (spec §3.3).
const (
	TypeCSV    = "CSV"
	TypeTSV    = "TSV"
	TypeCustom = "Custom"
	TypeRegEx  = "RegEx"
)

// ErrUnsupported is wrapped by the errors for what culvert's task runner
// knows of but cannot do: the DynamoDB data formats, and compression
// codecs the standard library lacks.
var ErrUnsupported = errors.New("not supported by culvert's task runner")

// Column is one column of a data format, from a "column" field such as
// "Name STRING".
type Column struct {
	Name string
	// Type is the data type as written ("STRING", "INT",
	// "DECIMAL(10,2)"), or "" if the field gave none. Fields are read and
	// written as strings whatever the type.
	Type string
}

// Format is a data format: how records are laid out in a file. [Parse]
// makes one from a data-format object, with every default filled in; a
// Format written as a literal gets the same defaults from [Format.NewReader]
// and [Format.NewWriter].
type Format struct {
	// Type is TypeCSV, TypeTSV, TypeCustom or TypeRegEx.
	Type string
	// Columns are the declared columns. When there are any, every record
	// read or written must have exactly that many fields.
	Columns []Column
	// ColumnSeparator is the one character between fields: "," for CSV,
	// tab by default for TSV, required for Custom; RegEx has none.
	ColumnSeparator string
	// RecordSeparator is the one character that ends a record: a newline
	// for CSV and RegEx, and by default for TSV and Custom. When it is a
	// newline, a carriage return just before it is dropped on reading.
	RecordSeparator string
	// EscapeChar is the one character that makes the next one literal:
	// backslash by default for CSV and TSV; none by default for Custom;
	// RegEx has none.
	EscapeChar string
	// InputRegEx is the RegEx format's regular expression (Go RE2 syntax,
	// which covers what the AWS examples use); each capturing group is a
	// field, and the whole record must match. Needed only for reading.
	InputRegEx string
	// OutputFormat is the RegEx format's Java Formatter pattern for
	// writing, such as "%1$s %2$s" (see [Format.NewWriter] for the subset
	// supported). Needed only for writing.
	OutputFormat string
}

// Parse makes a Format from the fields of a data-format object: field key
// to its values, as flattened in a task object, e.g. {"type": ["CSV"],
// "column": ["a STRING", "b INT"]}. Fields its type does not use (id,
// name, parent, anything inherited from Default) are ignored.
//
// It returns an error naming the field for a missing type, a field that
// takes one value given several, a separator or escape character that is
// not a single character or is shared by two roles, a malformed column, an
// inputRegEx that does not compile or whose group count differs from the
// declared columns, and an outputFormat outside the supported subset. The
// DynamoDB data formats give an error wrapping [ErrUnsupported]; any other
// type, an error saying it is not a data format.
func Parse(fields map[string][]string) (Format, error) {
	typ, err := single(fields, "type")
	if err != nil {
		return Format{}, err
	}
	var f Format
	switch typ {
	case "":
		return Format{}, errors.New("data format has no type")
	case TypeCSV:
		f.EscapeChar, err = charField(fields, "escapeChar")
	case TypeTSV:
		f.ColumnSeparator, err = charField(fields, "columnSeparator")
		if err == nil {
			f.RecordSeparator, err = charField(fields, "recordSeparator")
		}
		if err == nil {
			f.EscapeChar, err = charField(fields, "escapeChar")
		}
	case TypeCustom:
		if len(fields["columnSeparator"]) == 0 {
			return Format{}, errors.New("Custom data format: columnSeparator is required")
		}
		f.ColumnSeparator, err = charField(fields, "columnSeparator")
		if err == nil {
			f.RecordSeparator, err = charField(fields, "recordSeparator")
		}
		if err == nil {
			// Not in the Custom object's field list, but its description
			// names an escape character; honour one if given.
			f.EscapeChar, err = charField(fields, "escapeChar")
		}
	case TypeRegEx:
		f.InputRegEx, err = single(fields, "inputRegEx")
		if err == nil {
			f.OutputFormat, err = single(fields, "outputFormat")
		}
	case "DynamoDBDataFormat", "DynamoDBExportDataFormat":
		return Format{}, fmt.Errorf("data format %s cannot be read or written: %w (AWS reads and writes it only through Hive on EMR)", typ, ErrUnsupported)
	default:
		return Format{}, fmt.Errorf("type %q is not a data format (want CSV, TSV, Custom or RegEx)", typ)
	}
	if err != nil {
		return Format{}, fmt.Errorf("%s data format: %w", typ, err)
	}
	f.Type = typ
	for _, v := range fields["column"] {
		cols, err := parseColumns(v)
		if err != nil {
			return Format{}, fmt.Errorf("%s data format: %w", typ, err)
		}
		f.Columns = append(f.Columns, cols...)
	}
	s, err := f.compile()
	if err != nil {
		return Format{}, err
	}
	f.ColumnSeparator, f.RecordSeparator, f.EscapeChar = string(s.colSep), string(s.recSep), string(s.esc)
	return f, nil
}

// single returns the one value of a field, or "" if it is absent.
func single(fields map[string][]string, key string) (string, error) {
	switch vs := fields[key]; len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	default:
		return "", fmt.Errorf("field %s has %d values; it takes one", key, len(vs))
	}
}

// charField returns a one-character field, written as the character
// itself or in one of the backslash spellings users carry over from the
// documentation and from Hive ("\t", "\n", "\r", "\\", octal "\001").
func charField(fields map[string][]string, key string) (string, error) {
	v, err := single(fields, key)
	if err != nil || v == "" {
		if err == nil && len(fields[key]) == 1 {
			err = fmt.Errorf("%s is empty; it must be one character", key)
		}
		return "", err
	}
	switch v {
	case `\t`:
		return "\t", nil
	case `\n`:
		return "\n", nil
	case `\r`:
		return "\r", nil
	case `\\`:
		return `\`, nil
	}
	if len(v) == 4 && v[0] == '\\' && isOctal(v[1]) && isOctal(v[2]) && isOctal(v[3]) {
		n := (v[1]-'0')*64 + (v[2]-'0')*8 + (v[3] - '0')
		if v[1] <= '1' { // \000 to \177: ASCII
			return string(rune(n)), nil
		}
	}
	return v, nil
}

func isOctal(b byte) bool { return b >= '0' && b <= '7' }

// parseColumns parses one column field. Each is "name type"; the TSV page
// also allows several pairs in one value separated by commas, so commas
// split pairs except inside a type's brackets ("DECIMAL(10,2)",
// "MAP<STRING,INT>").
func parseColumns(v string) ([]Column, error) {
	var cols []Column
	depth, from := 0, 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) {
			switch v[i] {
			case '(', '<':
				depth++
				continue
			case ')', '>':
				depth--
				continue
			case ',':
				if depth != 0 {
					continue
				}
			default:
				continue
			}
		}
		part := strings.TrimSpace(v[from:i])
		from = i + 1
		if part == "" {
			return nil, fmt.Errorf("column %q: want \"name TYPE\"", v)
		}
		name, typ := part, ""
		if j := strings.IndexFunc(part, unicode.IsSpace); j >= 0 {
			name, typ = part[:j], strings.TrimSpace(part[j:])
		}
		cols = append(cols, Column{Name: name, Type: typ})
	}
	if depth != 0 {
		return nil, fmt.Errorf("column %q: unbalanced brackets", v)
	}
	return cols, nil
}

// spec is a Format checked and prepared for reading and writing.
type spec struct {
	typ     string
	columns int    // declared columns; 0 for none
	colSep  []byte // nil for RegEx
	recSep  []byte
	esc     []byte // nil for none
	// crlf: a "\r\n" ends a record as "\n" does. Only when the record
	// separator is a newline and no other role uses "\r".
	crlf bool
	// special marks the first bytes of colSep, recSep, esc and "\r" (when
	// crlf): the only bytes the reader and writer must look at closely.
	special [256]bool
	re      *regexp.Regexp // RegEx reading; nil if no inputRegEx
	out     []fmtOp        // RegEx writing; nil if no outputFormat
	outArgs int            // the highest argument out refers to
}

// compile checks f and fills in the defaults of its type.
func (f Format) compile() (*spec, error) {
	s := &spec{typ: f.Type, columns: len(f.Columns)}
	colSep, recSep, esc := f.ColumnSeparator, f.RecordSeparator, f.EscapeChar
	if recSep == "" {
		recSep = "\n"
	}
	fixed := func(field, got, want, why string) error {
		if got != "" && got != want {
			return fmt.Errorf("%s data format: %s is %q, but %s", f.Type, field, got, why)
		}
		return nil
	}
	switch f.Type {
	case TypeCSV:
		// CopyActivity's CSV (spec §3.3, the CopyActivity page): comma
		// separated, newline-ended records, backslash escapes by default.
		if err := errors.Join(
			fixed("columnSeparator", colSep, ",", "CSV separates columns with a comma"),
			fixed("recordSeparator", recSep, "\n", "CSV ends records with a newline"),
		); err != nil {
			return nil, err
		}
		colSep = ","
		if esc == "" {
			esc = `\`
		}
	case TypeTSV:
		if colSep == "" {
			colSep = "\t"
		}
		if esc == "" {
			esc = `\`
		}
	case TypeCustom:
		if colSep == "" {
			return nil, errors.New("Custom data format: columnSeparator is required")
		}
	case TypeRegEx:
		if err := errors.Join(
			fixed("columnSeparator", colSep, "", "a RegEx format's columns are its inputRegEx groups"),
			fixed("escapeChar", esc, "", "the RegEx format has no escape character"),
		); err != nil {
			return nil, err
		}
	case "":
		return nil, errors.New("data format has no type")
	default:
		return nil, fmt.Errorf("data format type %q cannot be read or written (want CSV, TSV, Custom or RegEx)", f.Type)
	}
	for _, c := range []struct{ field, v string }{
		{"columnSeparator", colSep}, {"recordSeparator", recSep}, {"escapeChar", esc},
	} {
		if c.v != "" && utf8.RuneCountInString(c.v) != 1 {
			return nil, fmt.Errorf("%s data format: %s %q must be a single character", f.Type, c.field, c.v)
		}
	}
	switch {
	case colSep != "" && colSep == recSep:
		return nil, fmt.Errorf("%s data format: columnSeparator and recordSeparator are both %q", f.Type, colSep)
	case esc != "" && esc == colSep:
		return nil, fmt.Errorf("%s data format: escapeChar and columnSeparator are both %q", f.Type, esc)
	case esc != "" && esc == recSep:
		return nil, fmt.Errorf("%s data format: escapeChar and recordSeparator are both %q", f.Type, esc)
	}
	if colSep != "" {
		s.colSep = []byte(colSep)
	}
	s.recSep = []byte(recSep)
	if esc != "" {
		s.esc = []byte(esc)
	}
	s.crlf = recSep == "\n" && colSep != "\r" && esc != "\r"
	for _, seq := range [][]byte{s.colSep, s.recSep, s.esc} {
		if len(seq) > 0 {
			s.special[seq[0]] = true
		}
	}
	if s.crlf {
		s.special['\r'] = true
	}

	seen := make(map[string]bool, len(f.Columns))
	for _, c := range f.Columns {
		if c.Name == "" {
			return nil, fmt.Errorf("%s data format: a column has no name", f.Type)
		}
		key := strings.ToLower(c.Name)
		if seen[key] {
			return nil, fmt.Errorf("%s data format: column %s is declared twice", f.Type, c.Name)
		}
		seen[key] = true
	}

	if f.InputRegEx != "" {
		// Java's Matcher.matches: the whole record must match.
		re, err := regexp.Compile(`\A(?:` + f.InputRegEx + `)\z`)
		if err != nil {
			return nil, fmt.Errorf("RegEx data format: inputRegEx: %w (culvert reads Go RE2 syntax: no backreferences, lookaround or possessive quantifiers)", err)
		}
		if s.columns > 0 && re.NumSubexp() != s.columns {
			return nil, fmt.Errorf("RegEx data format: inputRegEx has %d groups, but %d columns are declared", re.NumSubexp(), s.columns)
		}
		s.re = re
	}
	if f.OutputFormat != "" {
		ops, args, err := compileJavaFormat(f.OutputFormat)
		if err != nil {
			return nil, fmt.Errorf("RegEx data format: outputFormat: %w", err)
		}
		if s.columns > 0 && args > s.columns {
			return nil, fmt.Errorf("RegEx data format: outputFormat refers to column %d, but %d columns are declared", args, s.columns)
		}
		s.out, s.outArgs = ops, args
	}
	return s, nil
}

// RecordError is an error about one record: reading or writing it, or the
// input or output around it.
type RecordError struct {
	// Record is the record's number, from 1.
	Record int
	Err    error
}

func (e *RecordError) Error() string { return fmt.Sprintf("record %d: %v", e.Record, e.Err) }
func (e *RecordError) Unwrap() error { return e.Err }
