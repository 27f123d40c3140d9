package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a [Value].
type Kind uint8

// The kinds of value. The zero Value has kind KindInvalid.
const (
	KindInvalid Kind = iota
	KindString
	KindInteger
	KindDouble
	KindDateTime
	KindPeriod
	KindRef
	KindList
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "String"
	case KindInteger:
		return "Integer"
	case KindDouble:
		return "Double"
	case KindDateTime:
		return "DateTime"
	case KindPeriod:
		return "Period"
	case KindRef:
		return "Ref"
	case KindList:
		return "List"
	}
	return "Invalid"
}

// Value is the result of an expression, or a field value supplied by an
// [Env]. Construct one with [String], [Integer], [Double], [DateTime],
// [PeriodValue], [Ref] or [List].
type Value struct {
	kind Kind
	s    string // String text, Ref id
	i    int64
	f    float64
	t    time.Time
	p    Period
	list []Value
}

// String returns a String value.
func String(s string) Value { return Value{kind: KindString, s: s} }

// Integer returns an Integer value.
func Integer(i int64) Value { return Value{kind: KindInteger, i: i} }

// Double returns a Double value.
func Double(f float64) Value { return Value{kind: KindDouble, f: f} }

// DateTime returns a DateTime value for t truncated to the second. Its
// location is kept: values are UTC unless inTimeZone moved them.
func DateTime(t time.Time) Value { return Value{kind: KindDateTime, t: t.Truncate(time.Second)} }

// PeriodValue returns a Period value.
func PeriodValue(p Period) Value { return Value{kind: KindPeriod, p: p} }

// Ref returns a reference to the object with the given id. A dotted name
// such as input.directoryPath follows it through [Env.Object]; on its own
// it renders as the id.
func Ref(id string) Value { return Value{kind: KindRef, s: id} }

// List returns a List value of vs, flattening nested lists.
func List(vs ...Value) Value {
	out := make([]Value, 0, len(vs))
	for _, v := range vs {
		if v.kind == KindList {
			out = append(out, v.list...)
		} else {
			out = append(out, v)
		}
	}
	return Value{kind: KindList, list: out}
}

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// Int returns an Integer's value.
func (v Value) Int() int64 { return v.i }

// Float returns a Double's value.
func (v Value) Float() float64 { return v.f }

// Time returns a DateTime's value.
func (v Value) Time() time.Time { return v.t }

// Period returns a Period's value.
func (v Value) Period() Period { return v.p }

// RefID returns the object id of a Ref.
func (v Value) RefID() string { return v.s }

// Elems returns the elements of a List, or the value itself as a
// one-element slice for any other kind.
func (v Value) Elems() []Value {
	if v.kind == KindList {
		return v.list
	}
	return []Value{v}
}

// DateTimeLayout is the Go layout of a rendered DateTime:
// YYYY-MM-DDTHH:MM:SS.
const DateTimeLayout = "2006-01-02T15:04:05"

// String renders the value as it appears in a field: Strings as they are,
// DateTimes as YYYY-MM-DDTHH:MM:SS in their own zone, Doubles as Java's
// Double.toString does (4.0, 0.5, 1.0E10), Periods as "N unit", Refs as the
// object id, and Lists as their elements joined by ",".
func (v Value) String() string {
	switch v.kind {
	case KindString, KindRef:
		return v.s
	case KindInteger:
		return strconv.FormatInt(v.i, 10)
	case KindDouble:
		return formatDouble(v.f)
	case KindDateTime:
		return v.t.Format(DateTimeLayout)
	case KindPeriod:
		return v.p.String()
	case KindList:
		s := make([]string, len(v.list))
		for i, e := range v.list {
			s[i] = e.String()
		}
		return strings.Join(s, ",")
	}
	return ""
}

// formatDouble renders f as Java's Double.toString.
func formatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	// Computerized scientific notation: 1.0E10, 1.234E-5.
	s := strconv.FormatFloat(f, 'E', -1, 64)
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// Period is a calendar period such as "1 month" or "15 minutes". Months and
// years are calendar units: adding one month to January 31 gives the last
// day of February, as Joda-Time's plusMonths does.
type Period struct {
	Years, Months, Weeks, Days, Hours, Minutes int
}

// ParsePeriod parses "<N> <unit>" with unit one of minute(s), hour(s),
// day(s), week(s), month(s) or year(s), case-insensitively (§4.1). N must be
// a positive integer.
func ParsePeriod(s string) (Period, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return Period{}, fmt.Errorf("period %q: want \"<N> <unit>\"", s)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 || f[0][0] == '+' {
		return Period{}, fmt.Errorf("period %q: %q is not a positive integer", s, f[0])
	}
	if n > maxUnits {
		return Period{}, fmt.Errorf("period %q: %d is out of range", s, n)
	}
	var p Period
	switch strings.TrimSuffix(strings.ToLower(f[1]), "s") {
	case "minute":
		p.Minutes = n
	case "hour":
		p.Hours = n
	case "day":
		p.Days = n
	case "week":
		p.Weeks = n
	case "month":
		p.Months = n
	case "year":
		p.Years = n
	default:
		return Period{}, fmt.Errorf("period %q: unknown unit %q", s, f[1])
	}
	return p, nil
}

// IsZero reports whether the period is empty, as an unset one is.
func (p Period) IsZero() bool { return p == Period{} }

// String renders the period as "N unit" parts, largest unit first, such as
// "1 day" or "1 month 2 hours"; the zero period is "0 minutes".
func (p Period) String() string {
	var parts []string
	add := func(n int, unit string) {
		if n == 0 {
			return
		}
		if n != 1 && n != -1 {
			unit += "s"
		}
		parts = append(parts, strconv.Itoa(n)+" "+unit)
	}
	add(p.Years, "year")
	add(p.Months, "month")
	add(p.Weeks, "week")
	add(p.Days, "day")
	add(p.Hours, "hour")
	add(p.Minutes, "minute")
	if len(parts) == 0 {
		return "0 minutes"
	}
	return strings.Join(parts, " ")
}

// AddTo returns t plus the period (or minus it if sign is -1), using
// calendar arithmetic in t's location: months and years clamp the day to
// the end of a shorter month, days and weeks keep the wall-clock time, and
// hours and minutes add elapsed time, as Joda-Time's DateTime.plus(Period).
func (p Period) AddTo(t time.Time, sign int) time.Time {
	t = addMonths(t, sign*(12*p.Years+p.Months))
	if d := sign * (7*p.Weeks + p.Days); d != 0 {
		t = addDays(t, d)
	}
	// In whole seconds rather than a Duration, which holds only 292
	// years: the counts are bounded (see ParsePeriod) but may be large.
	secs := int64(sign) * (int64(p.Hours)*3600 + int64(p.Minutes)*60)
	if secs == 0 {
		return t
	}
	return time.Unix(t.Unix()+secs, int64(t.Nanosecond())).In(t.Location())
}

func addDays(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, m, d+n, h, mi, s, 0, t.Location())
}

// addMonths is Joda-Time's plusMonths: the day of month is clamped to the
// length of the resulting month.
func addMonths(t time.Time, n int) time.Time {
	if n == 0 {
		return t
	}
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	total := y*12 + int(m-1) + n
	ny, nm := total/12, time.Month(total%12+1)
	if total%12 < 0 {
		ny, nm = (total-11)/12, time.Month(total%12+13)
	}
	if last := daysIn(ny, nm); d > last {
		d = last
	}
	return time.Date(ny, nm, d, h, mi, s, 0, t.Location())
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ParseDateTime parses a DateTime written as YYYY-MM-DDTHH:MM:SS, in UTC.
func ParseDateTime(s string) (time.Time, error) {
	return time.ParseInLocation(DateTimeLayout, s, time.UTC)
}
