package datapipeline

import (
	"encoding/json"
	"reflect"
	"unicode/utf8"

	"github.com/culvert/culvert/internal/awsjson"
)

// The byte-level half of codec.go: reading JSON tokens for the decoder,
// and writing JSON strings for the encoder, each exactly as encoding/json
// does.

// Structure. The decoder keeps one position, d.i; on malformed input it
// sets d.bad and moves to the end of the data, where every loop stops.

func (d *decoder) fail() {
	d.bad = true
	d.i = len(d.data)
}

func (d *decoder) peek() byte {
	if d.i < len(d.data) {
		return d.data[d.i]
	}
	return 0
}

func (d *decoder) ws() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// enterObject consumes the '{' at d.i and reports whether a member follows.
func (d *decoder) enterObject() bool {
	d.i++
	d.ws()
	if d.peek() == '}' {
		d.i++
		return false
	}
	return true
}

// next consumes what follows a member or element: a comma, reporting true,
// or the closing byte, reporting false.
func (d *decoder) next(closing byte) bool {
	d.ws()
	switch d.peek() {
	case ',':
		d.i++
		d.ws()
		return true
	case closing:
		d.i++
		return false
	}
	d.fail()
	return false
}

// member consumes a member name and its colon and returns the index of
// the name in names, matched as encoding/json matches struct fields, or -1.
func (d *decoder) member(names []string) int {
	if d.peek() != '"' {
		d.fail()
		return -1
	}
	start := d.i + 1
	end, plain := d.scanString()
	name := d.data[start:end]
	if !plain {
		d.buf = awsjson.AppendUnquoted(d.buf[:0], name)
		name = d.buf
	}
	d.ws()
	if d.peek() != ':' {
		d.fail()
		return -1
	}
	d.i++
	d.ws()
	for i, n := range names {
		if string(name) == n {
			return i
		}
	}
	for i, n := range names {
		if foldEqual(name, n) {
			return i
		}
	}
	return -1
}

// foldEqual reports whether name matches the ASCII field name n under
// encoding/json's rule: equal after Unicode simple case folding. The only
// non-ASCII runes that fold to ASCII are U+017F (ſ, to S) and U+212A
// (Kelvin sign, to K); TestFoldEqual checks that claim over all runes.
func foldEqual(name []byte, n string) bool {
	j := 0
	for i := 0; i < len(name); j++ {
		if j == len(n) {
			return false
		}
		want := upper(n[j])
		if c := name[i]; c < utf8.RuneSelf {
			if upper(c) != want {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(name[i:])
		if !(r == '\u017F' && want == 'S' || r == '\u212A' && want == 'K') {
			return false
		}
		i += size
	}
	return j == len(n)
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// Values of the wrong type. encoding/json records the first mismatch,
// skips the value and carries on; so does the decoder, with the same
// error.

// typeError records a value of the wrong type at d.i and skips it. structName
// and field are the error context, t the Go type the value was meant for.
func (d *decoder) typeError(structName, field string, t reflect.Type) {
	var value string
	var offset int
	switch c := d.peek(); {
	case c == '{':
		value, offset = "object", d.i+1
	case c == '[':
		value, offset = "array", d.i+1
	case c == '"':
		value = "string"
	case c == 't' || c == 'f':
		value = "bool"
	case c == '-' || '0' <= c && c <= '9':
		value = "number"
	default:
		d.fail()
		return
	}
	d.skip(0)
	if offset == 0 {
		offset = d.i // literals: just past their end
	}
	if d.err == nil {
		d.err = &json.UnmarshalTypeError{Value: value, Type: t, Offset: int64(offset), Struct: structName, Field: field}
	}
}

// enterArray starts a list member: it reports true with d.i on the '['
// of an array, and otherwise consumes null (the list stays nil) or a
// value of the wrong type.
func (d *decoder) enterArray(structName, field string, t reflect.Type) bool {
	switch d.peek() {
	case '[':
		return true
	case 'n':
		d.literal("null")
	default:
		d.typeError(structName, field, t)
	}
	return false
}

// emptyArray consumes the '[' at d.i and reports whether the array is
// empty, consuming its ']' too.
func (d *decoder) emptyArray() bool {
	d.i++
	d.ws()
	if d.peek() == ']' {
		d.i++
		return true
	}
	return false
}

// enterElem starts a list element: it reports true with d.i on the '{'
// of an object, and otherwise consumes null (the element stays zero) or
// a value of the wrong type.
func (d *decoder) enterElem(structName, field string, t reflect.Type) bool {
	switch d.peek() {
	case '{':
		return true
	case 'n':
		d.literal("null")
	default:
		d.typeError(structName, field, t)
	}
	return false
}

// str decodes a string member into dst; null leaves dst alone.
func (d *decoder) str(dst *string, structName, field string) {
	switch d.peek() {
	case '"':
		*dst = d.stringValue()
	case 'n':
		d.literal("null")
	default:
		d.typeError(structName, field, typeString)
	}
}

// strPtr decodes a *string member; null is nil.
func (d *decoder) strPtr(structName, field string) *string {
	switch d.peek() {
	case '"':
		if len(d.strs) == cap(d.strs) {
			// A new slab; earlier pointers keep the old one. A field
			// usually has one value.
			d.strs = make([]string, 0, min(max(2*cap(d.strs), d.fieldGuess(), 16), 4096))
		}
		d.strs = append(d.strs, d.stringValue())
		return &d.strs[len(d.strs)-1]
	case 'n':
		d.literal("null")
	default:
		d.typeError(structName, field, typeString)
	}
	return nil
}

// stringValue consumes the string at d.i and returns its decoded value.
func (d *decoder) stringValue() string {
	start := d.i + 1
	end, plain := d.scanString()
	if d.bad {
		return ""
	}
	if plain {
		if d.body == "" {
			d.body = string(d.data)
		}
		return d.body[start:end]
	}
	d.buf = awsjson.AppendUnquoted(d.buf[:0], d.data[start:end])
	return string(d.buf)
}

// strSafe marks the bytes a string may hold that need no attention:
// printable ASCII other than '"' and '\\'.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString consumes the string whose quote is at d.i, checking its
// syntax. It returns the offset of the closing quote and whether the
// contents decode to themselves: no escapes and valid UTF-8.
func (d *decoder) scanString() (end int, plain bool) {
	data := d.data
	start := d.i + 1
	i := start
	escaped, nonASCII := false, false
	for {
		for i < len(data) && strSafe[data[i]] {
			i++
		}
		if i >= len(data) {
			d.fail()
			return i, false
		}
		switch c := data[i]; {
		case c == '"':
			d.i = i + 1
			return i, !escaped && (!nonASCII || utf8.Valid(data[start:i]))
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				d.fail()
				return i, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) || awsjson.HexRune(data[i+2:i+6]) < 0 {
					d.fail()
					return i, false
				}
				i += 6
			default:
				d.fail()
				return i, false
			}
		case c < 0x20:
			d.fail()
			return i, false
		default:
			nonASCII = true
			i++
		}
	}
}

// skip consumes one value of any type, checking its syntax.
func (d *decoder) skip(depth int) {
	switch c := d.peek(); {
	case c == '"':
		d.scanString()
	case c == '{':
		if depth >= maxSkipDepth {
			d.fail()
			return
		}
		for more := d.enterObject(); more; more = d.next('}') {
			d.member(nil)
			d.skip(depth + 1)
		}
	case c == '[':
		if depth >= maxSkipDepth {
			d.fail()
			return
		}
		if d.emptyArray() {
			return
		}
		for more := true; more; more = d.next(']') {
			d.skip(depth + 1)
		}
	case c == 't':
		d.literal("true")
	case c == 'f':
		d.literal("false")
	case c == 'n':
		d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		d.number()
	default:
		d.fail()
	}
}

func (d *decoder) literal(lit string) {
	if len(d.data)-d.i < len(lit) || string(d.data[d.i:d.i+len(lit)]) != lit {
		d.fail()
		return
	}
	d.i += len(lit)
}

// number consumes a number (RFC 8259 §6).
func (d *decoder) number() {
	data, i := d.data, d.i
	digits := func() bool {
		n := i
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		return i > n
	}
	if data[i] == '-' {
		i++
	}
	if i < len(data) && data[i] == '0' {
		i++
	} else if !digits() {
		d.fail()
		return
	}
	if i < len(data) && data[i] == '.' {
		i++
		if !digits() {
			d.fail()
			return
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			d.fail()
			return
		}
	}
	d.i = i
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string exactly as encoding/json does
// without HTML escaping: short escapes for \b \f \n \r \t " and \, \u00XX
// for other control characters, \u2028 and \u2029 escaped, and each byte
// of invalid UTF-8 replaced by \ufffd.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if strSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
