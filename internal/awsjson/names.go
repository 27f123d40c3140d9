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
		s.arena = AppendUnquoted(s.arena, s.data[i+1:end-1])
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

// AppendUnquoted appends the decoded contents of a JSON string body s (the
// bytes between the quotes, with well-formed escapes) exactly as
// encoding/json decodes them: invalid UTF-8 and unpaired surrogate escapes
// become U+FFFD. On a body the scanner accepted, neither occurs. Code that
// decodes JSON by hand uses it to agree with encoding/json byte for byte.
func AppendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch s[i+1] {
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
				r := HexRune(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2 = HexRune(s[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						i += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += size
		}
	}
	return dst
}

// HexRune decodes the four hexadecimal digits that start b, as in a \u
// escape, or returns -1 if b is shorter or holds another character.
func HexRune(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		v, ok := hexDigit(c)
		if !ok {
			return -1
		}
		r = r<<4 | v
	}
	return r
}

func hexDigit(c byte) (rune, bool) {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0'), true
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10), true
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10), true
	}
	return 0, false
}
