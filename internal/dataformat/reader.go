package dataformat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Reader reads records from a stream in one [Format].
//
// A record ends at an unescaped record separator, or at the end of the
// input: a final record needs no separator, and input that ends just after
// a separator has no empty record after it. An empty line is a record of
// one empty field. Records may be of any length; the Reader holds one
// record at a time.
type Reader struct {
	s  *spec
	rd io.Reader

	buf        []byte // buf[start:end] is read and not yet parsed
	start, end int
	eof        bool  // rd has nothing more to give
	err        error // rd's error other than io.EOF, returned once buf is parsed

	record int    // records returned or failed so far
	out    []byte // the current record's field bytes, unescaped
	ends   []int  // out[ends[k-1]:ends[k]] is field k
}

const (
	readBufSize = 64 << 10
	// lookahead is enough bytes to decide what starts at a special byte:
	// an escape character and the character it escapes, each at most
	// utf8.UTFMax bytes.
	lookahead = 2 * utf8.UTFMax
)

// NewReader returns a Reader of f's records from r. It returns the same
// errors as [Parse] for a Format that is not valid.
func (f Format) NewReader(r io.Reader) (*Reader, error) {
	s, err := f.compile()
	if err != nil {
		return nil, err
	}
	if s.typ == TypeRegEx && s.re == nil {
		return nil, errors.New("RegEx data format: reading needs an inputRegEx")
	}
	return &Reader{s: s, rd: r, buf: make([]byte, readBufSize)}, nil
}

// Read returns the next record's fields, or io.EOF after the last one.
//
// Other errors are [*RecordError]s naming the record: an escape character
// at the very end of the input, a record whose field count differs from
// the declared columns, a RegEx record that inputRegEx does not match, or
// an error of the underlying reader (such as a truncated gzip stream).
// After an error about one record's contents Read goes on with the next
// record; an error of the underlying reader is returned again by every
// later call.
func (r *Reader) Read() ([]string, error) {
	if err := r.next(); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, &RecordError{Record: r.record + 1, Err: err}
	}
	r.record++
	var fields []string
	if r.s.re != nil {
		fields = r.match()
		if fields == nil {
			return nil, &RecordError{Record: r.record, Err: errors.New("does not match inputRegEx")}
		}
	} else {
		// One string for the whole record, sliced: one allocation instead
		// of one per field.
		all := string(r.out)
		fields = make([]string, len(r.ends))
		from := 0
		for k, to := range r.ends {
			fields[k] = all[from:to]
			from = to
		}
	}
	if r.s.columns > 0 && len(fields) != r.s.columns {
		return nil, &RecordError{Record: r.record, Err: fmt.Errorf("has %d fields, but the data format declares %d columns", len(fields), r.s.columns)}
	}
	return fields, nil
}

// match applies inputRegEx to the record (read as a single field), or
// returns nil if it does not match. A group that took no part in the
// match is an empty field.
func (r *Reader) match() []string {
	loc := r.s.re.FindSubmatchIndex(r.out)
	if loc == nil {
		return nil
	}
	all := string(r.out)
	fields := make([]string, len(loc)/2-1)
	for k := range fields {
		if from := loc[2*k+2]; from >= 0 {
			fields[k] = all[from:loc[2*k+3]]
		}
	}
	return fields
}

// next parses the next record into r.out and r.ends. It returns io.EOF if
// there is none, and an error for an escape character with nothing after
// it or from the underlying reader.
func (r *Reader) next() error {
	s := r.s
	r.out, r.ends = r.out[:0], r.ends[:0]
	if r.start == r.end && !r.eof {
		r.fill()
	}
	if r.start == r.end {
		if r.err != nil {
			return r.err
		}
		return io.EOF
	}
	for {
		buf, i, end := r.buf, r.start, r.end
		for i < end && !s.special[buf[i]] {
			i++
		}
		r.out = append(r.out, buf[r.start:i]...)
		r.start = i
		if i == end {
			if !r.eof {
				r.fill()
				continue
			}
			if r.err != nil {
				return r.err
			}
			r.ends = append(r.ends, len(r.out))
			return nil
		}
		if end-i < lookahead && !r.eof {
			r.fill()
			continue
		}
		b := buf[i:end]
		switch {
		case s.esc != nil && bytes.HasPrefix(b, s.esc):
			rest := b[len(s.esc):]
			if len(rest) == 0 {
				r.start = end
				if r.err != nil {
					return r.err
				}
				return errors.New("escape character at the end of the input")
			}
			n := s.escapedLen(rest)
			r.out = append(r.out, rest[:n]...)
			r.start = i + len(s.esc) + n
		case s.colSep != nil && bytes.HasPrefix(b, s.colSep):
			r.ends = append(r.ends, len(r.out))
			r.start = i + len(s.colSep)
		case bytes.HasPrefix(b, s.recSep):
			r.ends = append(r.ends, len(r.out))
			r.start = i + len(s.recSep)
			return nil
		case s.crlf && len(b) > 1 && b[0] == '\r' && b[1] == '\n':
			r.ends = append(r.ends, len(r.out))
			r.start = i + 2
			return nil
		default:
			// A lone "\r", or the first byte of a separator's encoding
			// that is not followed by the rest of it.
			r.out = append(r.out, b[0])
			r.start = i + 1
		}
	}
}

// escapedLen is how many bytes of b an escape character makes literal: a
// whole separator or escape character, else one character (one byte if b
// does not start with valid UTF-8).
func (s *spec) escapedLen(b []byte) int {
	for _, seq := range [][]byte{s.colSep, s.recSep, s.esc} {
		if len(seq) > 0 && bytes.HasPrefix(b, seq) {
			return len(seq)
		}
	}
	_, n := utf8.DecodeRune(b)
	return n
}

// fill moves the unparsed bytes to the front of the buffer and reads more
// after them. The parser consumes everything up to a special byte before
// calling fill, so what is kept is never more than lookahead bytes and the
// buffer never needs to grow.
func (r *Reader) fill() {
	n := copy(r.buf, r.buf[r.start:r.end])
	r.start, r.end = 0, n
	// An io.Reader may return no bytes and no error; give up after as
	// many tries as bufio does.
	for range 100 {
		n, err := r.rd.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.eof = true
			if err != io.EOF {
				r.err = err
			}
			return
		}
		if n > 0 {
			return
		}
	}
	r.eof, r.err = true, io.ErrNoProgress
}
