package expr

import (
	"testing"
	"time"
)

// TestJodaFormat pins DateTimeFormat.forPattern(p).print(t) results of
// Joda-Time (English locale) for patterns whose output is well known.
func TestJodaFormat(t *testing.T) {
	t.Parallel()
	tue := time.Date(2011, 5, 24, 17, 10, 5, 0, time.UTC) // a Tuesday
	jan := time.Date(2011, 1, 1, 0, 7, 0, 0, time.UTC)    // Saturday, ISO week 52 of 2010
	sep := time.Date(2009, 9, 5, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		pattern string
		t       time.Time
		want    string
	}{
		{"yyyy-MM-dd'T'HH:mm:ss", tue, "2011-05-24T17:10:05"},
		{"YYYY-MM-dd HH:mm:ss z", tue, "2011-05-24 17:10:05 UTC"},
		{"y", tue, "2011"},
		{"yy", tue, "11"},
		{"yyy", tue, "2011"},
		{"yyyyy", tue, "02011"},
		{"YY", sep, "09"},
		{"M MM MMM MMMM", tue, "5 05 May May"},
		{"M MM MMM MMMM", sep, "9 09 Sep September"},
		{"d dd", sep, "5 05"},
		{"D DDD", tue, "144 144"},
		{"D DDD", jan, "1 001"},
		{"H HH h hh k kk K KK a", tue, "17 17 5 05 17 17 5 05 PM"},
		{"H HH h hh k kk K KK a", jan, "0 00 12 12 24 24 0 00 AM"},
		{"h a", sep, "12 PM"},
		{"m mm s ss", jan, "7 07 0 00"},
		{"S SS SSS", tue, "0 00 000"},
		{"E EEE EEEE e", tue, "Tue Tue Tuesday 2"},
		{"EEEE e", jan, "Saturday 6"},
		{"z zzzz Z ZZ ZZZ", tue, "UTC Coordinated Universal Time +0000 +00:00 UTC"},
		{"G C CC", tue, "AD 20 20"},
		{"w ww xxxx", tue, "21 21 2011"},
		{"w xxxx xx", jan, "52 2010 10"},
		{"hh 'o''clock' a", tue, "05 o'clock PM"},
		{"''yyyy''", tue, "'2011'"},
		{"yyyy/MM/dd", tue, "2011/05/24"},
		{"'at' HH", tue, "at 17"},
		{"'unterminated yyyy", tue, "unterminated yyyy"},
		{"", tue, ""},
		{"YYYY-MM-dd-HH", tue, "2011-05-24-17"},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			t.Parallel()
			l, err := compileJoda(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := l.format(tc.t); got != tc.want {
				t.Errorf("format(%q) = %q, want %q", tc.pattern, got, tc.want)
			}
		})
	}
}

func TestJodaFormatZones(t *testing.T) {
	t.Parallel()
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skipf("no zone database: %v", err)
	}
	summer := time.Date(2011, 5, 24, 17, 10, 0, 0, time.UTC).In(la)
	winter := time.Date(2011, 12, 24, 17, 10, 0, 0, time.UTC).In(la)
	l, err := compileJoda("yyyy-MM-dd HH:mm z Z ZZ ZZZ")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.format(summer), "2011-05-24 10:10 PDT -0700 -07:00 America/Los_Angeles"; got != want {
		t.Errorf("summer = %q, want %q", got, want)
	}
	if got, want := l.format(winter), "2011-12-24 09:10 PST -0800 -08:00 America/Los_Angeles"; got != want {
		t.Errorf("winter = %q, want %q", got, want)
	}
}

func TestJodaIllegal(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"q", "yyyy-MM-dd Q", "T", "hh:mm:ss.fff", "YYYY-MM-DDTHH"} {
		if _, err := compileJoda(p); err == nil {
			t.Errorf("compileJoda(%q) succeeded, want illegal pattern component", p)
		}
	}
}
