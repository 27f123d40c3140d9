package expr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// jodaLayout is a compiled Joda-Time DateTimeFormat pattern.
type jodaLayout struct {
	elems []jodaElem
}

// jodaElem is one pattern letter repeated n times, or literal text when
// letter is 0.
type jodaElem struct {
	letter byte
	n      int
	text   string
}

// compileJoda parses a pattern exactly as Joda-Time's
// DateTimeFormat.parsePatternTo does: runs of one letter are fields,
// anything else is literal text, 'quoted' letters are literal, and ” is a
// single quote inside or outside quotes. An unterminated quote runs to the
// end of the pattern. Letters Joda does not define are an error.
func compileJoda(pattern string) (*jodaLayout, error) {
	l := &jodaLayout{}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if isASCIILetter(c) {
			j := i + 1
			for j < len(pattern) && pattern[j] == c {
				j++
			}
			if !strings.ContainsRune("GCYxwweEDdMyahHkKmsSzZ", rune(c)) {
				return nil, &patternError{component: pattern[i:j], at: i}
			}
			l.elems = append(l.elems, jodaElem{letter: c, n: j - i})
			i = j
			continue
		}
		var b strings.Builder
		inLiteral := false
		for ; i < len(pattern); i++ {
			c := pattern[i]
			if c == '\'' {
				if i+1 < len(pattern) && pattern[i+1] == '\'' {
					i++
					b.WriteByte('\'')
				} else {
					inLiteral = !inLiteral
				}
			} else if !inLiteral && isASCIILetter(c) {
				break
			} else {
				b.WriteByte(c)
			}
		}
		if b.Len() > 0 {
			l.elems = append(l.elems, jodaElem{text: b.String()})
		}
	}
	return l, nil
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

var (
	monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	dayNames = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// format prints t in its own location with the English (Locale.US) names
// Joda-Time uses by default on an English JVM.
func (l *jodaLayout) format(t time.Time) string {
	b := make([]byte, 0, 32)
	for _, e := range l.elems {
		n := e.n
		switch e.letter {
		case 0:
			b = append(b, e.text...)
		case 'G':
			if t.Year() > 0 {
				b = append(b, "AD"...)
			} else {
				b = append(b, "BC"...)
			}
		case 'C':
			b = appendPadded(b, int64(yearOfEra(t.Year())/100), n)
		case 'y', 'Y', 'x':
			y := t.Year()
			if e.letter == 'Y' {
				y = yearOfEra(y)
			} else if e.letter == 'x' {
				y, _ = t.ISOWeek()
			}
			if n == 2 {
				if y < 0 {
					y = -y
				}
				b = appendPadded(b, int64(y%100), 2)
			} else {
				b = appendPadded(b, int64(y), n)
			}
		case 'w':
			_, w := t.ISOWeek()
			b = appendPadded(b, int64(w), n)
		case 'e':
			b = appendPadded(b, int64((int(t.Weekday())+6)%7+1), n)
		case 'E':
			name := dayNames[t.Weekday()]
			if n < 4 {
				name = name[:3]
			}
			b = append(b, name...)
		case 'D':
			b = appendPadded(b, int64(t.YearDay()), n)
		case 'M':
			switch {
			case n >= 4:
				b = append(b, monthNames[t.Month()-1]...)
			case n == 3:
				b = append(b, monthNames[t.Month()-1][:3]...)
			default:
				b = appendPadded(b, int64(t.Month()), n)
			}
		case 'd':
			b = appendPadded(b, int64(t.Day()), n)
		case 'a':
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'h':
			b = appendPadded(b, int64((t.Hour()+11)%12+1), n)
		case 'H':
			b = appendPadded(b, int64(t.Hour()), n)
		case 'k':
			b = appendPadded(b, int64((t.Hour()+23)%24+1), n)
		case 'K':
			b = appendPadded(b, int64(t.Hour()%12), n)
		case 'm':
			b = appendPadded(b, int64(t.Minute()), n)
		case 's':
			b = appendPadded(b, int64(t.Second()), n)
		case 'S':
			// DateTimes have second precision, so the fraction is zero.
			for range n {
				b = append(b, '0')
			}
		case 'z':
			b = append(b, zoneName(t, n >= 4)...)
		case 'Z':
			if n >= 3 {
				b = append(b, zoneID(t)...)
			} else {
				b = appendOffset(b, t, n == 2)
			}
		}
	}
	return string(b)
}

// yearOfEra is Joda-Time's year-of-era: 1 BC is year 0.
func yearOfEra(y int) int {
	if y <= 0 {
		return 1 - y
	}
	return y
}

func appendPadded(b []byte, v int64, width int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var digits [20]byte
	s := strconv.AppendInt(digits[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func appendOffset(b []byte, t time.Time, colon bool) []byte {
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = appendPadded(b, int64(off/3600), 2)
	if colon {
		b = append(b, ':')
	}
	return appendPadded(b, int64(off/60%60), 2)
}

// zoneName is z (short, e.g. UTC, PDT) or zzzz (long). Go has no long zone
// names, so zzzz prints "Coordinated Universal Time" for UTC and the zone id
// otherwise.
func zoneName(t time.Time, long bool) string {
	if long {
		if t.Location() == time.UTC {
			return "Coordinated Universal Time"
		}
		return zoneID(t)
	}
	name, _ := t.Zone()
	return name
}

func zoneID(t time.Time) string {
	if loc := t.Location(); loc != time.UTC {
		return loc.String()
	}
	return "UTC"
}

// patternError is a Joda pattern letter Joda does not define.
type patternError struct {
	component string
	at        int // byte offset in the pattern
}

func (e *patternError) Error() string { return "illegal pattern component: " + e.component }

// opaque says where the problem is without quoting the pattern, for a
// pattern computed at evaluation: it may come from a secret parameter, and
// a message must not reveal any part of one.
func (e *patternError) opaque() error {
	return fmt.Errorf("illegal pattern component at character %d of the pattern", e.at+1)
}
