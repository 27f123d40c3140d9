package expr

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestInspect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want []string // names and calls in visiting order
	}{
		{"plain", nil},
		{"#{myA}", []string{"myA"}},
		{"#{*myPassword}", []string{"*myPassword"}},
		{"s3://#{myA}/#{format(minusDays(@scheduledStartTime, myN), 'YYYY')}", []string{
			"myA", "format()", "minusDays()", "@scheduledStartTime", "myN"}},
		{"#{-(a + b.c) ^ 2}", []string{"a", "b.c"}},
		{"#{@scheduledStartTime.format('YYYY')}", []string{"format()", "@scheduledStartTime"}},
	}
	for _, tc := range tests {
		tpl, err := ParseTemplate(tc.src)
		if err != nil {
			t.Fatalf("ParseTemplate(%q): %v", tc.src, err)
		}
		var got []string
		for _, n := range tpl.Nodes() {
			Inspect(n, func(n Node) bool {
				switch n := n.(type) {
				case *Name:
					got = append(got, n.String())
				case *Call:
					got = append(got, n.Func+"()")
				}
				return true
			})
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Inspect(%q) mismatch (-want +got):\n%s", tc.src, diff)
		}
	}
}

func TestInspectSkipsChildren(t *testing.T) {
	t.Parallel()
	e, err := Parse("format(plusDays(@x, 1), 'Y')")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	Inspect(e.Root(), func(Node) bool { n++; return false })
	if n != 1 {
		t.Errorf("visited %d nodes, want 1 when f returns false", n)
	}
}
