package dataformat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Writer writes records to a stream in one [Format]. Every record ends
// with the record separator. Writes are buffered: call [Writer.Flush] at
// the end.
type Writer struct {
	s       *spec
	w       *bufio.Writer
	buf     []byte // the record being written
	records int    // records written so far
}

// NewWriter returns a Writer of f's records to w. It returns the same
// errors as [Parse] for a Format that is not valid.
//
// The delimited formats put the escape character before every separator,
// escape character and (when a newline ends records) carriage return in a
// field; a Custom format without an escape character refuses such fields.
// The RegEx format writes each record as its outputFormat, a subset of
// java.util.Formatter: %s, %n$s (the n-th field), %<s, %S (upper case),
// a width, '-' to left-justify, a precision to truncate, %% and %n.
func (f Format) NewWriter(w io.Writer) (*Writer, error) {
	s, err := f.compile()
	if err != nil {
		return nil, err
	}
	if s.typ == TypeRegEx && s.out == nil {
		return nil, errors.New("RegEx data format: writing needs an outputFormat")
	}
	return &Writer{s: s, w: bufio.NewWriterSize(w, 64<<10)}, nil
}

// Write writes one record.
//
// It returns a [*RecordError] naming the record, and writes nothing of it,
// if the record has no fields, if its field count differs from the
// declared columns, if a field holds a character the format cannot
// escape, or if a RegEx outputFormat refers to a field past the last or a
// field holds a newline. An error of the underlying writer is returned
// wrapped, and by every later call.
func (w *Writer) Write(record []string) error {
	n := w.records + 1
	if err := w.check(record); err != nil {
		return &RecordError{Record: n, Err: err}
	}
	if w.s.out != nil {
		w.buf = appendJavaFormat(w.buf[:0], w.s.out, record)
		if bytes.HasSuffix(w.buf, []byte{'\r'}) && w.s.crlf {
			return &RecordError{Record: n, Err: errors.New("ends with a carriage return, which a reader would take for part of a CRLF line end")}
		}
	} else {
		var err error
		if w.buf, err = w.appendDelimited(w.buf[:0], record); err != nil {
			return &RecordError{Record: n, Err: err}
		}
	}
	w.buf = append(w.buf, w.s.recSep...)
	if _, err := w.w.Write(w.buf); err != nil {
		return &RecordError{Record: n, Err: err}
	}
	w.records++
	return nil
}

func (w *Writer) check(record []string) error {
	switch {
	case len(record) == 0:
		return errors.New("has no fields")
	case w.s.columns > 0 && len(record) != w.s.columns:
		return fmt.Errorf("has %d fields, but the data format declares %d columns", len(record), w.s.columns)
	case w.s.out != nil && len(record) < w.s.outArgs:
		return fmt.Errorf("has %d fields, but outputFormat refers to field %d", len(record), w.s.outArgs)
	}
	if w.s.out != nil {
		// The RegEx format has no escape character: a newline in a field
		// would end the record early for any reader.
		for k, f := range record {
			if strings.Contains(f, string(w.s.recSep)) {
				return fmt.Errorf("field %d holds the record separator %q, which the RegEx format cannot escape", k+1, w.s.recSep)
			}
		}
	}
	return nil
}

// appendDelimited appends the fields, escaped and separated, to dst.
func (w *Writer) appendDelimited(dst []byte, record []string) ([]byte, error) {
	s := w.s
	for k, f := range record {
		if k > 0 {
			dst = append(dst, s.colSep...)
		}
		for i := 0; i < len(f); {
			j := i
			for j < len(f) && !s.special[f[j]] {
				j++
			}
			dst = append(dst, f[i:j]...)
			if j == len(f) {
				break
			}
			n, what := s.specialAt(f[j:])
			switch {
			case n == 0:
				// Only the first byte of some separator's encoding.
				dst = append(dst, f[j])
				n = 1
			case s.esc != nil:
				dst = append(dst, s.esc...)
				dst = append(dst, f[j:j+n]...)
			case what == "carriage return":
				// Unescaped, a "\r" is ambiguous only just before the
				// newline that ends the record.
				if k == len(record)-1 && j+n == len(f) {
					return nil, fmt.Errorf("field %d ends with a carriage return, which a reader would take for part of a CRLF line end, and the data format has no escapeChar", k+1)
				}
				dst = append(dst, '\r')
			default:
				return nil, fmt.Errorf("field %d holds the %s %q, and the data format has no escapeChar", k+1, what, f[j:j+n])
			}
			i = j + n
		}
	}
	return dst, nil
}

// specialAt returns the length and name of the separator, escape
// character or carriage return at the start of f, or 0 if there is none.
func (s *spec) specialAt(f string) (int, string) {
	for _, c := range []struct {
		seq  []byte
		what string
	}{{s.esc, "escape character"}, {s.colSep, "column separator"}, {s.recSep, "record separator"}} {
		if len(c.seq) > 0 && len(f) >= len(c.seq) && f[:len(c.seq)] == string(c.seq) {
			return len(c.seq), c.what
		}
	}
	if s.crlf && f[0] == '\r' {
		return 1, "carriage return"
	}
	return 0, ""
}

// Flush writes any buffered records to the underlying writer and returns
// its error, if any.
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("flush after record %d: %w", w.records, err)
	}
	return nil
}
