package awsjson

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// The scanner validates a request body in one pass before any operation
// sees it. encoding/json is lenient in ways that matter for an API server:
// it replaces invalid UTF-8 and unpaired surrogate escapes with U+FFFD,
// lets the last of two duplicate members win, and matches member names to
// struct fields case-insensitively, so {"name":"a","Name":"b"} silently
// becomes name="b" where a case-sensitive reader such as AWS's would use
// "a". The scanner rejects all of
// these instead of letting a request mean something the client did not
// write. It is hand-written because json.Decoder's Token API allocates
// per token and costs more than the decode it would guard.
//
// What it enforces, beyond RFC 8259 syntax:
//   - the top-level value is an object (an empty or all-whitespace body is
//     also accepted; [Handle] decodes it as {});
//   - every byte sequence is valid UTF-8 (RFC 3629: no overlongs, no
//     UTF-8-encoded surrogates);
//   - \u escapes of UTF-16 surrogates appear only as a high surrogate
//     immediately followed by a low one; a lone surrogate escape cannot be
//     turned into UTF-8 without inventing a character, so it is rejected;
//   - objects and arrays nest at most maxDepth levels (the top-level
//     object is level 1);
//   - no object has two members whose decoded names are equal under
//     Unicode simple case folding (bytes.EqualFold, the same equivalence
//     encoding/json uses to match struct fields). The cost is that an
//     input map keyed by user data could not hold keys differing only in
//     case; Data Pipeline's only map shape, TaskObject.objects, is
//     output-only.

// Kinds of scan failure. The fuzz test uses them to know when the scanner
// must agree with json.Valid (errSyntax) and when it is stricter on purpose.
const (
	errSyntax = iota + 1
	errNotObject
	errUTF8
	errSurrogate
	errDepth
	errDuplicate
)

// scanError is a validation failure at a byte offset of the body. Its
// message is written to the client as a SerializationException.
type scanError struct {
	kind   int
	offset int
	msg    string
}

func (e *scanError) Error() string { return e.msg }

// listKeys is how many member names of one object are compared pairwise
// before switching to a map. Real AWS inputs have a handful of members per
// object; the map only guards against quadratic time on hostile input.
const listKeys = 16

// keySpan locates one decoded member name, either in the body itself (the
// common case, no escapes) or in the scanner's arena. It is kept small
// because one is built and compared for every member of every object.
type keySpan struct {
	off, end int32
	at       int32 // offset of the name's opening quote, for messages
	// fp is a cheap case-folded fingerprint (length, first and last
	// byte) that lets most ASCII names skip bytes.EqualFold.
	fp      uint32
	inArena bool
	ascii   bool
}

// scanner holds reusable state; the zero value is ready to use. It is not
// safe for concurrent use.
type scanner struct {
	data     []byte
	maxDepth int
	keys     []keySpan // member names of all open objects, as a stack
	arena    []byte    // decoded names that contained escapes, as a stack
	fold     []byte    // scratch for folded map keys
}

// validate scans data with a fresh scanner; the handler reuses pooled
// ones instead.
func validate(data []byte, maxDepth int) error {
	var s scanner
	return s.scan(data, maxDepth)
}

// scan validates data; see the comment at the top of this file. It returns
// nil or a *scanError.
func (s *scanner) scan(data []byte, maxDepth int) error {
	s.data, s.maxDepth = data, maxDepth
	s.keys, s.arena = s.keys[:0], s.arena[:0]

	if len(data) > math.MaxInt32 {
		// keySpan offsets are int32; no sane MaxBodyBytes gets here.
		return &scanError{kind: errSyntax, msg: "JSON body larger than 2 GiB"}
	}
	i := skipSpace(data, 0)
	if i == len(data) {
		return nil
	}
	if c := data[i]; c != '{' {
		if c == '[' || c == '"' || c == '-' || c == 't' || c == 'f' || c == 'n' || isDigit(c) {
			return &scanError{kind: errNotObject, offset: i,
				msg: fmt.Sprintf("invalid JSON at offset %d: top-level value must be an object", i)}
		}
		return s.badChar(i, "looking for beginning of value")
	}
	if s.maxDepth < 1 {
		return s.tooDeep(i)
	}
	i, err := s.object(i, 1)
	if err != nil {
		return err
	}
	if i = skipSpace(data, i); i != len(data) {
		return s.badChar(i, "after top-level value")
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func skipSpace(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value scans the value starting at d[i] inside a container at depth.
func (s *scanner) value(i, depth int) (int, error) {
	d := s.data
	if i >= len(d) {
		return i, s.eof(i)
	}
	switch c := d[i]; c {
	case '"':
		end, _, _, err := s.str(i)
		return end, err
	case '{':
		if depth >= s.maxDepth {
			return i, s.tooDeep(i)
		}
		return s.object(i, depth+1)
	case '[':
		if depth >= s.maxDepth {
			return i, s.tooDeep(i)
		}
		return s.array(i, depth+1)
	case 't':
		return s.literal(i, "true")
	case 'f':
		return s.literal(i, "false")
	case 'n':
		return s.literal(i, "null")
	default:
		if c == '-' || isDigit(c) {
			return s.number(i)
		}
		return i, s.badChar(i, "looking for beginning of value")
	}
}

// object scans the object whose '{' is at d[i], at the given depth.
func (s *scanner) object(i, depth int) (int, error) {
	d := s.data
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return i + 1, nil
	}
	keyBase, arenaBase := len(s.keys), len(s.arena)
	var byFold map[string]keySpan // non-nil once the object has many members
	for {
		if i >= len(d) {
			return i, s.eof(i)
		}
		if d[i] != '"' {
			return i, s.badChar(i, "looking for beginning of object key string")
		}
		// The name is scanned straight into its slot on the key stack:
		// building it elsewhere and copying it in costs store-forwarding
		// stalls that showed up as a third of the scan time.
		n := len(s.keys)
		s.keys = append(s.keys, keySpan{})
		k := &s.keys[n]
		end, err := s.key(i, k)
		if err != nil {
			return end, err
		}
		if byFold == nil {
			for j := keyBase; j < n; j++ {
				if s.sameName(&s.keys[j], k) {
					return i, s.duplicate(&s.keys[j], k)
				}
			}
			if n+1-keyBase > listKeys {
				byFold = make(map[string]keySpan, 2*listKeys)
				for j := keyBase; j <= n; j++ {
					byFold[string(s.folded(&s.keys[j]))] = s.keys[j]
				}
				s.keys = s.keys[:keyBase]
			}
		} else {
			f := s.folded(k)
			if prev, ok := byFold[string(f)]; ok {
				return i, s.duplicate(&prev, k)
			}
			byFold[string(f)] = *k
			s.keys = s.keys[:n]
		}

		i = skipSpace(d, end)
		if i >= len(d) {
			return i, s.eof(i)
		}
		if d[i] != ':' {
			return i, s.badChar(i, "after object key")
		}
		if i, err = s.value(skipSpace(d, i+1), depth); err != nil {
			return i, err
		}
		i = skipSpace(d, i)
		if i >= len(d) {
			return i, s.eof(i)
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case '}':
			s.keys, s.arena = s.keys[:keyBase], s.arena[:arenaBase]
			return i + 1, nil
		default:
			return i, s.badChar(i, "after object key:value pair")
		}
	}
}

// array scans the array whose '[' is at d[i], at the given depth.
func (s *scanner) array(i, depth int) (int, error) {
	d := s.data
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = s.value(i, depth); err != nil {
			return i, err
		}
		i = skipSpace(d, i)
		if i >= len(d) {
			return i, s.eof(i)
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case ']':
			return i + 1, nil
		default:
			return i, s.badChar(i, "after array element")
		}
	}
}

// strPlain marks the bytes a string may contain without further checks:
// printable ASCII other than '"' and '\\'.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str scans the string whose opening quote is at d[i]. It returns the
// offset just past the closing quote and whether the string held escapes
// or non-ASCII text.
func (s *scanner) str(i int) (end int, escaped, nonASCII bool, err error) {
	d := s.data
	i++
	for {
		for i < len(d) && strPlain[d[i]] {
			i++
		}
		if i >= len(d) {
			return i, false, false, s.eof(i)
		}
		switch c := d[i]; {
		case c == '"':
			return i + 1, escaped, nonASCII, nil
		case c == '\\':
			escaped = true
			if i, err = s.escape(i); err != nil {
				return i, false, false, err
			}
		case c < 0x20:
			return i, false, false, s.badChar(i, "in string literal")
		default:
			nonASCII = true
			r, n := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && n == 1 {
				return i, false, false, s.badUTF8(i)
			}
			i += n
		}
	}
}

// escape scans the escape sequence whose backslash is at d[i] and returns
// the offset after it.
func (s *scanner) escape(i int) (int, error) {
	d := s.data
	if i+1 >= len(d) {
		return i + 1, s.eof(i + 1)
	}
	switch d[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2, nil
	case 'u':
	default:
		return i + 1, s.badChar(i+1, "in string escape code")
	}
	r, err := s.hex4(i + 2)
	if err != nil {
		return i, err
	}
	switch {
	case r < 0xD800 || r >= 0xE000:
		return i + 6, nil
	case r >= 0xDC00:
		return i, s.loneSurrogate(i, r)
	}
	// A high surrogate: only a low-surrogate escape may follow.
	j := i + 6
	if j+1 < len(d) && d[j] == '\\' && d[j+1] == 'u' {
		r2, err := s.hex4(j + 2)
		if err != nil {
			return j, err
		}
		if 0xDC00 <= r2 && r2 < 0xE000 {
			return j + 6, nil
		}
	}
	return i, s.loneSurrogate(i, r)
}

// hex4 decodes the four hex digits at d[i:i+4].
func (s *scanner) hex4(i int) (rune, error) {
	var r rune
	for j := i; j < i+4; j++ {
		if j >= len(s.data) {
			return 0, s.eof(j)
		}
		v, ok := hexDigit(s.data[j])
		if !ok {
			return 0, s.badChar(j, "in \\u hexadecimal character escape")
		}
		r = r<<4 | v
	}
	return r, nil
}

// number scans the number starting at d[i] (RFC 8259 §6).
func (s *scanner) number(i int) (int, error) {
	d := s.data
	if d[i] == '-' {
		i++
	}
	digits := func(i int) (int, error) {
		if i >= len(d) {
			return i, s.eof(i)
		}
		if !isDigit(d[i]) {
			return i, s.badChar(i, "in numeric literal")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
		return i, nil
	}
	if i < len(d) && d[i] == '0' {
		i++
	} else {
		var err error
		if i, err = digits(i); err != nil {
			return i, err
		}
	}
	if i < len(d) && d[i] == '.' {
		var err error
		if i, err = digits(i + 1); err != nil {
			return i, err
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		return digits(i)
	}
	return i, nil
}

// literal scans the literal lit (true, false or null) at d[i].
func (s *scanner) literal(i int, lit string) (int, error) {
	d := s.data
	for j := 0; j < len(lit); j++ {
		if i+j >= len(d) {
			return i + j, s.eof(i + j)
		}
		if d[i+j] != lit[j] {
			return i + j, s.badChar(i+j, fmt.Sprintf("in literal %s (expecting %s)", lit, quoteChar(lit[j])))
		}
	}
	return i + len(lit), nil
}

// Error constructors. They run only on failure, so they may allocate.

func (s *scanner) eof(i int) error {
	return &scanError{kind: errSyntax, offset: i,
		msg: fmt.Sprintf("invalid JSON at offset %d: unexpected end of input", i)}
}

func (s *scanner) badChar(i int, context string) error {
	c := s.data[i]
	if c < utf8.RuneSelf {
		return &scanError{kind: errSyntax, offset: i,
			msg: fmt.Sprintf("invalid JSON at offset %d: invalid character %s %s", i, quoteChar(c), context)}
	}
	r, n := utf8.DecodeRune(s.data[i:])
	if r == utf8.RuneError && n == 1 {
		return s.badUTF8(i)
	}
	return &scanError{kind: errSyntax, offset: i,
		msg: fmt.Sprintf("invalid JSON at offset %d: invalid character %q %s", i, r, context)}
}

func (s *scanner) badUTF8(i int) error {
	return &scanError{kind: errUTF8, offset: i, msg: fmt.Sprintf("invalid UTF-8 at offset %d", i)}
}

func (s *scanner) loneSurrogate(i int, r rune) error {
	return &scanError{kind: errSurrogate, offset: i,
		msg: fmt.Sprintf("invalid JSON at offset %d: unpaired UTF-16 surrogate escape \\u%04X", i, r)}
}

func (s *scanner) tooDeep(i int) error {
	return &scanError{kind: errDepth, offset: i,
		msg: fmt.Sprintf("JSON nested deeper than %d levels at offset %d", s.maxDepth, i)}
}

func (s *scanner) duplicate(prev, k *keySpan) error {
	a, b := string(s.name(prev)), string(s.name(k))
	msg := fmt.Sprintf("duplicate member %q at offset %d", clip(b, 64), k.at)
	if a != b {
		msg += fmt.Sprintf(" (same as %q ignoring case)", clip(a, 64))
	}
	return &scanError{kind: errDuplicate, offset: int(k.at), msg: msg}
}

// quoteChar formats c for an error message the way encoding/json does.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	q := strconv.Quote(string(rune(c)))
	return "'" + q[1:len(q)-1] + "'"
}

// clip shortens s to at most n bytes on a rune boundary, so client text
// echoed in messages stays bounded.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
