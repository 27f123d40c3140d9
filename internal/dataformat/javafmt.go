package dataformat

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The RegEx format's outputFormat is a java.util.Formatter pattern, which
// AWS applies to the record's fields as strings (Hive's RegexSerDe calls
// String.format with them). So only what Java accepts for a String
// argument is useful, and that is what is implemented:
//
//	%[index$][flags][width][.precision]conversion
//
// with conversions s and S (upper case), flags '-' (left-justify, needs a
// width) and '<' (the previous specifier's argument), plus %% and %n. The
// numeric and date conversions (%d, %f, %tY, …) fail in Java on a String
// argument, and fail here when the format is parsed. Width and precision
// count characters (runes); Java counts UTF-16 units, which differs only
// outside the Basic Multilingual Plane. %S upper-cases rune by rune, so
// "ß" stays "ß" where Java writes "SS".

// fmtOp is one piece of a compiled format: literal text when arg is 0,
// otherwise the arg-th field (from 1) formatted as a string.
type fmtOp struct {
	lit   string
	arg   int
	upper bool
	left  bool
	width int // 0 for none
	prec  int // -1 for none
}

// compileJavaFormat parses a format, returning its pieces and the highest
// argument index it uses.
func compileJavaFormat(format string) ([]fmtOp, int, error) {
	var (
		ops      []fmtOp
		lit      strings.Builder
		next     int // the last ordinary index handed out
		prev     int // the previous specifier's argument, for '<'
		maxArg   int
		flushLit = func() {
			if lit.Len() > 0 {
				ops = append(ops, fmtOp{lit: lit.String()})
				lit.Reset()
			}
		}
	)
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			lit.WriteByte(c)
			i++
			continue
		}
		start := i
		i++
		spec := func() string { return format[start:min(i+1, len(format))] }

		// An argument index is digits followed by '$'.
		index := 0
		if j, n := digits(format, i); j > i && j < len(format) && format[j] == '$' {
			switch {
			case n == 0:
				return nil, 0, fmt.Errorf("%q: argument indexes start at 1", format[start:j+1])
			case n < 0:
				return nil, 0, fmt.Errorf("%q: argument index too large", format[start:j+1])
			}
			index, i = n, j+1
		}
		var left, relative bool
	flags:
		for ; i < len(format); i++ {
			switch f := format[i]; f {
			case '-', '<':
				if (f == '-' && left) || (f == '<' && relative) {
					return nil, 0, fmt.Errorf("%q: flag %q given twice", spec(), f)
				}
				left = left || f == '-'
				relative = relative || f == '<'
			case '#', '+', ' ', '0', ',', '(':
				return nil, 0, fmt.Errorf("%q: flag %q does not apply to a string (culvert formats fields as strings)", spec(), f)
			default:
				break flags
			}
		}
		width, prec := 0, -1
		if j, n := digits(format, i); j > i {
			if n < 0 {
				return nil, 0, fmt.Errorf("%q: width too large", format[start:j])
			}
			width, i = n, j
		}
		if i < len(format) && format[i] == '.' {
			j, n := digits(format, i+1)
			if j == i+1 || n < 0 {
				return nil, 0, fmt.Errorf("%q: bad precision", format[start:min(j+1, len(format))])
			}
			prec, i = n, j
		}
		if i >= len(format) {
			return nil, 0, fmt.Errorf("%q: format specifier has no conversion", format[start:])
		}
		conv := format[i]
		if conv >= utf8.RuneSelf {
			_, size := utf8.DecodeRuneInString(format[i:])
			return nil, 0, fmt.Errorf("%q: unknown conversion", format[start:i+size])
		}
		switch conv {
		case 's', 'S':
			if left && width == 0 {
				return nil, 0, fmt.Errorf("%q: the '-' flag needs a width", spec())
			}
			arg := index
			switch {
			case relative:
				if prev == 0 {
					return nil, 0, fmt.Errorf("%q: '<' but no previous argument", spec())
				}
				arg = prev
			case index == 0:
				next++
				arg = next
			}
			flushLit()
			ops = append(ops, fmtOp{arg: arg, upper: conv == 'S', left: left, width: width, prec: prec})
			prev, maxArg = arg, max(maxArg, arg)
		case '%':
			if index != 0 || relative || prec >= 0 || (left && width == 0) {
				return nil, 0, fmt.Errorf("%q: %%%% takes only a width and '-'", spec())
			}
			if width > 1 {
				flushLit()
				ops = append(ops, fmtOp{lit: "%", left: left, width: width, prec: -1})
			} else {
				lit.WriteByte('%')
			}
		case 'n':
			if index != 0 || relative || left || width != 0 || prec >= 0 {
				return nil, 0, fmt.Errorf("%q: %%n takes no index, flags, width or precision", spec())
			}
			lit.WriteByte('\n')
		case 'd', 'o', 'x', 'X', 'e', 'E', 'f', 'g', 'G', 'a', 'A', 't', 'T', 'c', 'C', 'b', 'B', 'h', 'H':
			return nil, 0, fmt.Errorf("%q: conversion %%%c is not supported: fields are strings, so use %%s", spec(), conv)
		default:
			return nil, 0, fmt.Errorf("%q: unknown conversion %q", spec(), conv)
		}
		i++
	}
	flushLit()
	return ops, maxArg, nil
}

// digits reads a run of decimal digits at s[i:], returning where it ends
// and its value, or -1 for a value too large to be a sensible index or
// width.
func digits(s string, i int) (int, int) {
	n := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n >= 0 {
			n = n*10 + int(s[i]-'0')
		}
		if n > maxWidth {
			n = -1
		}
	}
	return i, n
}

// maxWidth bounds indexes, widths and precisions: a record padded to a
// million characters is already a mistake.
const maxWidth = 1 << 20

// appendJavaFormat appends the formatted fields to dst. The caller has
// checked that fields has at least the highest argument ops refer to.
func appendJavaFormat(dst []byte, ops []fmtOp, fields []string) []byte {
	for _, op := range ops {
		s := op.lit
		if op.arg > 0 {
			s = fields[op.arg-1]
			if op.prec >= 0 && utf8.RuneCountInString(s) > op.prec {
				n := 0
				for k := range s {
					if n == op.prec {
						s = s[:k]
						break
					}
					n++
				}
			}
			if op.upper {
				s = strings.ToUpper(s)
			}
		}
		pad := op.width - utf8.RuneCountInString(s)
		if pad > 0 && !op.left {
			dst = appendSpaces(dst, pad)
		}
		dst = append(dst, s...)
		if pad > 0 && op.left {
			dst = appendSpaces(dst, pad)
		}
	}
	return dst
}

func appendSpaces(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, ' ')
	}
	return dst
}
