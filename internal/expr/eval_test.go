package expr

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want Value
	}{
		{"1 + 2", Integer(3)},
		{"7 / 2", Integer(3)},
		{"-7 / 2", Integer(-3)},
		{"9223372036854775807 + 1", Integer(math.MinInt64)},
		{"1 + 0.5", Double(1.5)},
		{"2 ^ 3", Double(8)},
		{"-myInt", Integer(-7)},
		{"-1.5", Double(-1.5)},
		{"'a' + 1", String("a1")},
		{"myDateTime", DateTime(testTime)},
		{"plusHours(@scheduledStartTime, 2)", DateTime(testTime.Add(2 * time.Hour))},
		{"@scheduledStartTime.plusHours(2)", DateTime(testTime.Add(2 * time.Hour))},
		{"input", Ref("In")},
		{"myList", List(String("one"), String("two"))},
		{"myEmpty", List()},
		{"year(myStart)", Integer(2012)},
		{"format(myDateTime, myA)", String("PM")}, // a pattern from a field
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Eval(newTestEnv())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(Value{})); diff != "" {
				t.Errorf("Eval() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvalFlattensLists(t *testing.T) {
	t.Parallel()
	env := newTestEnv()
	env.vals["myDates"] = []Value{DateTime(testTime), DateTime(testTime.AddDate(0, 0, 1))}
	tmpl, err := ParseTemplate("#{format(myDates, 'dd')}")
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Eval(env)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"24", "25"}, got); diff != "" {
		t.Errorf("Eval() mismatch (-want +got):\n%s", diff)
	}
}

// errEnv fails every lookup with a non-ErrUndefined error.
type errEnv struct{ err error }

func (e errEnv) Lookup(string) ([]Value, error) { return nil, e.err }
func (e errEnv) Object(string) (Env, error)     { return nil, e.err }

func TestEvalErrors(t *testing.T) {
	t.Parallel()
	t.Run("undefined", func(t *testing.T) {
		t.Parallel()
		e, _ := Parse("input.nope")
		_, err := e.Eval(newTestEnv())
		if !errors.Is(err, ErrUndefined) {
			t.Fatalf("err = %v, want ErrUndefined", err)
		}
		var xe *Error
		if !errors.As(err, &xe) || xe.Offset != 0 {
			t.Fatalf("err = %#v, want *Error at 0", err)
		}
	})
	t.Run("env failure is wrapped", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		e, _ := Parse("1 + x")
		_, err := e.Eval(errEnv{boom})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		if got, want := err.Error(), `expr: "1 + x": line 1 col 5: x: boom`; got != want {
			t.Errorf("err = %q, want %q", got, want)
		}
	})
	for _, src := range []string{
		"myA.x",          // not a reference
		"- 'a'",          // cannot negate
		"myDateTime - 1", // no DateTime arithmetic
		"plusDays(myDateTime, 1.5)",
		"plusDays(myDateTime, 9999999999)",
		// Literal patterns and zones are checked by Parse
		// (TestParseChecksLiterals); computed ones when evaluated.
		"inTimeZone(myDateTime, 'Mars/' + 'Olympus')",
		"inTimeZone(myDateTime, '../etc/' + 'passwd')",
		"plusPeriod(myDateTime, '1 fortnight')",
		"plusPeriod(myDateTime, '0 days')",
		"makeDateTime(2011, 5, 24, 24, 0)",
		"makeDate(2011, 13, 1)",
		"format(myDateTime, 'yyyy ' + 'q')",
		"plusPeriod(myDateTime, '99999999999999 years')",
		"minusPeriod(myDateTime, '9999999999 weeks')",
	} {
		t.Run(src, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			v, err := e.Eval(newTestEnv())
			if err == nil {
				t.Fatalf("Eval(%q) = %v, want error", src, v)
			}
			var xe *Error
			if !errors.As(err, &xe) {
				t.Errorf("err %v is not an *Error", err)
			}
		})
	}
}

func TestEvalHandBuiltTree(t *testing.T) {
	t.Parallel()
	e := &Expr{src: "", root: &Call{Func: "year", Args: []Node{&Name{Parts: []string{"myDateTime"}}}}}
	v, err := e.Eval(newTestEnv())
	if err != nil || v.Int() != 2011 {
		t.Errorf("Eval() = %v, %v; want 2011", v, err)
	}
	e.root = &Call{Func: "nope"}
	if _, err := e.Eval(newTestEnv()); err == nil {
		t.Error("Eval(nope()) succeeded")
	}
}

func TestValueString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    Value
		want string
	}{
		{Double(4), "4.0"},
		{Double(0.5), "0.5"},
		{Double(-1.25), "-1.25"},
		{Double(1e7), "1.0E7"},
		{Double(1.5e-5), "1.5E-5"},
		{Double(0.001), "0.001"},
		{Double(math.Copysign(0, -1)), "-0.0"},
		{Double(math.NaN()), "NaN"},
		{Double(math.Inf(-1)), "-Infinity"},
		{Integer(-3), "-3"},
		{DateTime(time.Date(2012, 12, 12, 0, 0, 0, 999, time.UTC)), "2012-12-12T00:00:00"},
		{PeriodValue(Period{Days: 1}), "1 day"},
		{PeriodValue(Period{Months: 1, Hours: 2}), "1 month 2 hours"},
		{PeriodValue(Period{}), "0 minutes"},
		{Ref("Out"), "Out"},
		{List(Integer(1), List(Integer(2), String("x"))), "1,2,x"},
	}
	for _, tc := range tests {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	t.Parallel()
	ok := map[string]Period{
		"1 hours": {Hours: 1}, "1 Hour": {Hours: 1}, "15 Minutes": {Minutes: 15}, "1 Day": {Days: 1},
		"2 weeks": {Weeks: 2}, "3 months": {Months: 3}, " 1  year ": {Years: 1},
	}
	for s, want := range ok {
		got, err := ParsePeriod(s)
		if err != nil || got != want {
			t.Errorf("ParsePeriod(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "1", "day", "0 days", "-1 days", "+1 days", "1 fortnight", "1 day 2 hours", "1.5 days"} {
		if p, err := ParsePeriod(s); err == nil {
			t.Errorf("ParsePeriod(%q) = %v, want error", s, p)
		}
	}
}

func TestPeriodAddTo(t *testing.T) {
	t.Parallel()
	jan31 := time.Date(2011, 1, 31, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		p    Period
		sign int
		want time.Time
	}{
		{Period{Months: 1}, 1, time.Date(2011, 2, 28, 10, 0, 0, 0, time.UTC)},
		{Period{Months: 1}, -1, time.Date(2010, 12, 31, 10, 0, 0, 0, time.UTC)},
		{Period{Months: 13}, -1, time.Date(2009, 12, 31, 10, 0, 0, 0, time.UTC)},
		{Period{Years: 1, Months: 1}, 1, time.Date(2012, 2, 29, 10, 0, 0, 0, time.UTC)},
		{Period{Weeks: 1, Days: 1, Hours: 1, Minutes: 1}, 1, time.Date(2011, 2, 8, 11, 1, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		if got := tc.p.AddTo(jan31, tc.sign); !got.Equal(tc.want) {
			t.Errorf("%v.AddTo(%v, %d) = %v, want %v", tc.p, jan31, tc.sign, got, tc.want)
		}
	}
}

// TestEvalConcurrent evaluates one parsed expression from many goroutines;
// run with -race it checks that parsed trees are read-only.
func TestEvalConcurrent(t *testing.T) {
	t.Parallel()
	e, err := Parse("format(minusHours(@scheduledStartTime,1),'YYYY-MM-dd-HH') + myList")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			env := newTestEnv()
			for range 100 {
				v, err := e.Eval(env)
				if err != nil || v.String() != "2011-05-24-16one,2011-05-24-16two" {
					t.Errorf("Eval() = %v, %v", v, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkEval(b *testing.B) {
	e, err := Parse("format(minusHours(@scheduledStartTime,1),'YYYY-MM-dd-HH')")
	if err != nil {
		b.Fatal(err)
	}
	env := newTestEnv()
	b.ReportAllocs()
	for b.Loop() {
		v, err := e.Eval(env)
		if err != nil || v.String() != "2011-05-24-16" {
			b.Fatalf("Eval() = %v, %v", v, err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseTemplate("s3://bucket/#{format(minusHours(@scheduledStartTime,1),'YYYY-MM-dd-HH')}/x"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEvalMaxBytes(t *testing.T) {
	t.Parallel()
	// 100 × 100 combinations of a 10 KB string would be 100 MB of text.
	long := strings.Repeat("x", 10_000)
	hundred := make([]Value, 100)
	for i := range hundred {
		hundred[i] = Integer(int64(i))
	}
	env := &fakeEnv{vals: map[string][]Value{"myLong": one(String(long)), "myL1": hundred, "myL2": hundred}}
	for _, src := range []string{
		"#{myL1 + myL2 + myLong}",
		"#{myL1}#{myL2}" + long,
	} {
		tmpl, err := ParseTemplate(src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tmpl.Eval(env)
		var xe *Error
		if !errors.As(err, &xe) || !strings.Contains(xe.Msg, "bytes of text") {
			t.Errorf("Eval(%.30q…) error = %v, want one about too much text", src, err)
		}
	}
	// Within the budget nothing changes.
	tmpl, _ := ParseTemplate("#{myL1 + myLong}")
	if got, err := tmpl.Eval(env); err != nil || len(got) != 100 {
		t.Errorf("Eval(myL1 + myLong) = %d values, %v; want 100, nil", len(got), err)
	}
}

func TestErrorPosition(t *testing.T) {
	t.Parallel()
	e := &Error{Src: "ab\ncd #{x", Offset: 7}
	if l, c := e.Position(); l != 2 || c != 5 {
		t.Errorf("Position() = %d, %d; want 2, 5", l, c)
	}
}

func TestParseChecksLiterals(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		"format(myDateTime, 'yyyy q')":            `line 1 col 20: format: illegal pattern component: q`,
		"inTimeZone(myDateTime, 'Mars/Olympus')":  `line 1 col 24: inTimeZone: unknown time zone "Mars/Olympus"`,
		"inTimeZone(myDateTime, '../etc/passwd')": `line 1 col 24: inTimeZone: unknown time zone "../etc/passwd"`,
	} {
		_, err := Parse(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", src, err, want)
		}
	}
}

func TestErrorExcerpt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src    string
		offset int
		limit  int
		want   string
	}{
		{"cp #{input.x} #{nosuch(1)} y", 17, 80, "#{nosuch(1)}"},
		{"cp #{input.x} #{nosuch(1)} y", 15, 80, "#{nosuch(1)}"},
		{"#{format(@x,'YYYY')}", 3, 80, "#{format(@x,'YYYY')}"},
		{"format(@x, 'q')", 11, 80, "format(@x, 'q')"},
		{"#{unterminated(", 2, 80, "#{unterminated("},
		{"#{aaaaaaaaaaaaaaaaaaaa}", 2, 10, "#{aaaaaaaa…"},
		{"#{ééééé}", 2, 5, "#{é…"},
	} {
		e := &Error{Src: tc.src, Offset: tc.offset}
		if got := e.Excerpt(tc.limit); got != tc.want {
			t.Errorf("Excerpt(%q at %d, %d) = %q, want %q", tc.src, tc.offset, tc.limit, got, tc.want)
		}
	}
}
