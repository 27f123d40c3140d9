package expr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// builtin is one function of the library. Arguments arrive converted to
// params.
type builtin struct {
	params []Kind
	run    func(c *Call, args []Value) (Value, error)
}

var (
	dt       = []Kind{KindDateTime}
	dtInt    = []Kind{KindDateTime, KindInteger}
	dtPeriod = []Kind{KindDateTime, KindPeriod}
)

// lookupBuiltin returns the function called name, or nil. It is a switch
// rather than a table so that there is no package-level mutable state; the
// cases are alphabetised.
func lookupBuiltin(name string) *builtin {
	switch name {
	case "day":
		return intOf(func(t time.Time) int { return t.Day() })
	case "dayOfYear":
		return intOf(time.Time.YearDay)
	case "firstOfMonth":
		return dateOf(func(t time.Time) time.Time { return t.AddDate(0, 0, 1-t.Day()) })
	case "format":
		return &builtin{params: []Kind{KindDateTime, KindString}, run: runFormat}
	case "hour":
		return intOf(func(t time.Time) int { return t.Hour() })
	case "inTimeZone":
		return &builtin{params: []Kind{KindDateTime, KindString}, run: runInTimeZone}
	case "makeDate":
		return &builtin{params: []Kind{KindInteger, KindInteger, KindInteger}, run: runMakeDate}
	case "makeDateTime":
		return &builtin{params: []Kind{KindInteger, KindInteger, KindInteger, KindInteger, KindInteger}, run: runMakeDate}
	case "midnight":
		// The same day's 00:00, per the AWS doc example (§12 #11).
		return dateOf(func(t time.Time) time.Time {
			y, m, d := t.Date()
			return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
		})
	case "minusDays":
		return plus(-1, Period{Days: 1})
	case "minusHours":
		return plus(-1, Period{Hours: 1})
	case "minusMinutes":
		return plus(-1, Period{Minutes: 1})
	case "minusMonths":
		return plus(-1, Period{Months: 1})
	case "minusPeriod":
		return &builtin{params: dtPeriod, run: func(_ *Call, a []Value) (Value, error) { return dateTimeInRange(a[1].p.AddTo(a[0].t, -1)) }}
	case "minusWeeks":
		return plus(-1, Period{Weeks: 1})
	case "minusYears":
		return plus(-1, Period{Years: 1})
	case "minute":
		return intOf(func(t time.Time) int { return t.Minute() })
	case "month":
		return intOf(func(t time.Time) int { return int(t.Month()) })
	case "plusDays":
		return plus(1, Period{Days: 1})
	case "plusHours":
		return plus(1, Period{Hours: 1})
	case "plusMinutes":
		return plus(1, Period{Minutes: 1})
	case "plusMonths":
		return plus(1, Period{Months: 1})
	case "plusPeriod":
		return &builtin{params: dtPeriod, run: func(_ *Call, a []Value) (Value, error) { return dateTimeInRange(a[1].p.AddTo(a[0].t, 1)) }}
	case "plusWeeks":
		return plus(1, Period{Weeks: 1})
	case "plusYears":
		return plus(1, Period{Years: 1})
	case "sunday":
		// The previous Sunday, or the day itself if it is a Sunday; the
		// time of day is kept.
		return dateOf(func(t time.Time) time.Time { return addDays(t, -int(t.Weekday())) })
	case "year":
		return intOf(func(t time.Time) int { return t.Year() })
	case "yesterday":
		return dateOf(func(t time.Time) time.Time { return addDays(t, -1) })
	}
	return nil
}

func intOf(f func(time.Time) int) *builtin {
	return &builtin{params: dt, run: func(_ *Call, a []Value) (Value, error) { return Integer(int64(f(a[0].t))), nil }}
}

func dateOf(f func(time.Time) time.Time) *builtin {
	return &builtin{params: dt, run: func(_ *Call, a []Value) (Value, error) { return DateTime(f(a[0].t)), nil }}
}

// maxUnits bounds the count of plusX/minusX so that time arithmetic cannot
// overflow; it is far beyond any date Joda-Time can represent.
const maxUnits = 1 << 31

// plus returns plusX or minusX for the one-unit period unit.
func plus(sign int, unit Period) *builtin {
	return &builtin{params: dtInt, run: func(_ *Call, a []Value) (Value, error) {
		n := a[1].i
		if n > maxUnits || n < -maxUnits {
			return Value{}, fmt.Errorf("%d out of range", n)
		}
		k := int(n)
		p := Period{unit.Years * k, unit.Months * k, unit.Weeks * k, unit.Days * k, unit.Hours * k, unit.Minutes * k}
		return dateTimeInRange(p.AddTo(a[0].t, sign))
	}}
}

// Joda-Time's range of years; arithmetic that leaves it fails there too.
const minYear, maxYear = -292275054, 292278993

// dateTimeInRange returns t as a DateTime, or an error if its year is
// beyond what Joda-Time can represent.
func dateTimeInRange(t time.Time) (Value, error) {
	if y := t.Year(); y < minYear || y > maxYear {
		return Value{}, fmt.Errorf("the result's year %d is out of range", y)
	}
	return DateTime(t), nil
}

func runFormat(c *Call, a []Value) (Value, error) {
	l := c.layout
	if l == nil {
		var err error
		if l, err = compileJoda(a[1].s); err != nil {
			var pe *patternError
			if errors.As(err, &pe) {
				return Value{}, pe.opaque()
			}
			return Value{}, err
		}
	}
	return String(l.format(a[0].t)), nil
}

// runMakeDate serves makeDate(y, m, d) and makeDateTime(y, m, d, h, min).
// Like Joda-Time it rejects out-of-range fields rather than normalising
// them.
func runMakeDate(_ *Call, a []Value) (Value, error) {
	f := [5]int64{}
	for i, v := range a {
		f[i] = v.i
	}
	y, m, d, h, mi := f[0], f[1], f[2], f[3], f[4]
	switch {
	case y < -292275054 || y > 292278993:
		return Value{}, fmt.Errorf("year %d out of range", y)
	case m < 1 || m > 12:
		return Value{}, fmt.Errorf("month %d out of range [1,12]", m)
	case d < 1 || d > int64(daysIn(int(y), time.Month(m))):
		return Value{}, fmt.Errorf("day %d out of range [1,%d]", d, daysIn(int(y), time.Month(m)))
	case h < 0 || h > 23:
		return Value{}, fmt.Errorf("hour %d out of range [0,23]", h)
	case mi < 0 || mi > 59:
		return Value{}, fmt.Errorf("minute %d out of range [0,59]", mi)
	}
	return DateTime(time.Date(int(y), time.Month(m), int(d), int(h), int(mi), 0, 0, time.UTC)), nil
}

// runInTimeZone converts the instant to a Joda-Time zone id: an IANA name
// such as America/Los_Angeles, UTC, or a fixed offset such as +05:30.
// IANA names need the zone database, so a binary using this should import
// time/tzdata.
func runInTimeZone(_ *Call, a []Value) (Value, error) {
	loc, err := loadZone(a[1].s)
	if err != nil {
		return Value{}, err
	}
	return DateTime(a[0].t.In(loc)), nil
}

func loadZone(id string) (*time.Location, error) {
	if id == "UTC" {
		return time.UTC, nil
	}
	if len(id) > 0 && (id[0] == '+' || id[0] == '-') {
		hh, mm, _ := strings.Cut(id[1:], ":")
		h, err1 := strconv.Atoi(hh)
		m, err2 := strconv.Atoi(mm)
		if mm == "" {
			m, err2 = 0, nil
		}
		if err1 != nil || err2 != nil || len(hh) != 2 || h > 23 || m > 59 || m < 0 || h < 0 {
			return nil, fmt.Errorf("bad time zone offset %q", id)
		}
		off := (h*60 + m) * 60
		if id[0] == '-' {
			off = -off
		}
		return time.FixedZone(fmt.Sprintf("%c%02d:%02d", id[0], h, m), off), nil
	}
	// Reject paths and other names the zone database would not hold.
	if id == "" || id == "Local" || strings.Contains(id, "..") || strings.HasPrefix(id, "/") {
		return nil, fmt.Errorf("unknown time zone %q", id)
	}
	loc, err := time.LoadLocation(id)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", id)
	}
	return loc, nil
}
