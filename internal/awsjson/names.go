package awsjson

import (
	"bytes"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Member names for the scanner's duplicate check: decoding names that
// contain escapes, and comparing names under case folding.

// key scans the member name whose opening quote is at d[i] into k and
// returns the offset after it.
func (s *scanner) key(i int, k *keySpan) (int, error) {
	end, escaped, nonASCII, err := s.str(i)
	if err != nil {
		return end, err
	}
	k.off, k.end, k.at = int32(i+1), int32(end-1), int32(i)
	if escaped {
		k.off = int32(len(s.arena))
		s.arena = appendUnquoted(s.arena, s.data[i+1:end-1])
		k.end, k.inArena = int32(len(s.arena)), true
		nonASCII = !isASCII(s.arena[k.off:])
	}
	if !nonASCII {
		k.ascii = true
		if b := s.name(k); len(b) > 0 {
			k.fp = uint32(len(b))<<16 | uint32(lowerASCII(b[0]))<<8 | uint32(lowerASCII(b[len(b)-1]))
		}
	}
	return end, nil
}

func (s *scanner) name(k *keySpan) []byte {
	if k.inArena {
		return s.arena[k.off:k.end]
	}
	return s.data[k.off:k.end]
}

func (s *scanner) sameName(a, b *keySpan) bool {
	if a.ascii && b.ascii && a.fp != b.fp {
		return false
	}
	return bytes.EqualFold(s.name(a), s.name(b))
}

// folded returns k's name folded so that two names fold to the same bytes
// exactly when bytes.EqualFold reports them equal (as in encoding/json's
// foldName). The result aliases scratch space valid until the next call.
func (s *scanner) folded(k *keySpan) []byte {
	b := s.name(k)
	out := s.fold[:0]
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			// Upper case, because foldRune picks the smallest rune of
			// an orbit and 'K' < 'k'.
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	s.fold = out
	return out
}

// foldRune returns the smallest rune of r's simple case-folding orbit.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// appendUnquoted appends the decoded form of the string body raw (between
// the quotes), which str has already validated.
func appendUnquoted(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hexValue(raw[i+2 : i+6])
			if utf16.IsSurrogate(r) {
				r = utf16.DecodeRune(r, hexValue(raw[i+8:i+12]))
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

func hexValue(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
