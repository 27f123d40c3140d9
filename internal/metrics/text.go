package metrics

import (
	"bytes"
	"math"
	"strconv"
	"unicode/utf8"
)

// The text exposition format, version 0.0.4:
// https://prometheus.io/docs/instrumenting/exposition_formats/

func writeHeader(b *bytes.Buffer, name, help, typ string) {
	b.WriteString("# HELP ")
	b.WriteString(name)
	b.WriteByte(' ')
	writeEscaped(b, help, false)
	b.WriteString("\n# TYPE ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(typ)
	b.WriteByte('\n')
}

// writeSeries writes a sample's name and labels, up to the space before
// its value. le, if not empty, is added as the last label, as histogram
// buckets need.
func writeSeries(b *bytes.Buffer, name string, labelNames, values []string, le string) {
	b.WriteString(name)
	if len(labelNames) == 0 && le == "" {
		return
	}
	b.WriteByte('{')
	for i, l := range labelNames {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l)
		b.WriteString(`="`)
		writeEscaped(b, values[i], true)
		b.WriteByte('"')
	}
	if le != "" {
		if len(labelNames) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`le="`)
		b.WriteString(le)
		b.WriteByte('"')
	}
	b.WriteByte('}')
}

// writeEscaped writes s escaped as the format requires: backslash and
// newline always, the double quote inside label values. Invalid UTF-8,
// which the format does not allow and a label value taken from a request
// might hold, becomes U+FFFD so that one bad value cannot make the whole
// scrape unparseable.
func writeEscaped(b *bytes.Buffer, s string, quote bool) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '"' && quote:
			b.WriteString(`\"`)
		case c < utf8.RuneSelf:
			b.WriteByte(c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		i++
	}
}

// writeValue ends a sample line with its value.
func writeValue(b *bytes.Buffer, v float64) {
	b.WriteByte(' ')
	b.Write(appendFloat(b.AvailableBuffer(), v))
	b.WriteByte('\n')
}

// writeCount ends a sample line with an integer value, exact beyond the
// 2^53 a float64 holds.
func writeCount(b *bytes.Buffer, n uint64) {
	b.WriteByte(' ')
	b.Write(strconv.AppendUint(b.AvailableBuffer(), n, 10))
	b.WriteByte('\n')
}

// appendFloat formats v as the Prometheus parsers read it, which is Go's
// shortest representation except for the infinities.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
