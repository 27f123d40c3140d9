package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCLIListPaging lists more pipelines than one ListPipelines page and
// one DescribePipelines call hold (25 each): all are shown, in the order
// the service lists them, after following the marker.
func TestCLIListPaging(t *testing.T) {
	hermeticAWS(t)
	s := mustRunServer(t)
	proxy := newCountingProxy(t, s.URL)

	// With none, stdout stays empty, so scripts see no header to skip.
	if out, errOut, err := runCLI(t, "list", "--endpoint", proxy.URL); err != nil || out != "" || errOut != "no pipelines\n" {
		t.Errorf("list of no pipelines: stdout %q, stderr %q, err %v; want only \"no pipelines\" on stderr", out, errOut, err)
	}
	if got, want := mustCLI(t, "list", "--json", "--endpoint", proxy.URL), "{\n  \"pipelineDescriptionList\": []\n}\n"; got != want {
		t.Errorf("list --json of no pipelines = %q, want %q", got, want)
	}

	c := s.devClient()
	var want []string
	for i := range 27 {
		name := fmt.Sprintf("p-%02d", i)
		mustCreate(t, c, name, name)
		want = append(want, name)
	}
	lists, describes := proxy.count("ListPipelines"), proxy.count("DescribePipelines")
	out := mustCLI(t, "list", "--endpoint", proxy.URL)
	if got := proxy.count("ListPipelines") - lists; got != 2 {
		t.Errorf("list made %d ListPipelines calls, want 2 (27 pipelines, 25 a page)", got)
	}
	if got := proxy.count("DescribePipelines") - describes; got != 2 {
		t.Errorf("list made %d DescribePipelines calls, want 2 (27 pipelines, 25 a call)", got)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if got := strings.Fields(lines[0]); !cmp.Equal(got, []string{"ID", "NAME", "STATE", "HEALTH", "LATEST", "RUN", "NEXT", "RUN"}) {
		t.Errorf("list header = %q", lines[0])
	}
	var names []string
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 6 || f[2] != "PENDING" {
			t.Errorf("list line %q, want 6 columns of a PENDING pipeline", l)
			continue
		}
		names = append(names, f[1])
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("list names mismatch (-want +got):\n%s", diff)
	}

	var listed struct {
		PipelineDescriptionList []struct{ Name string } `json:"pipelineDescriptionList"`
	}
	mustUnmarshal(t, mustCLI(t, "list", "--json", "--endpoint", proxy.URL), &listed)
	names = nil
	for _, d := range listed.PipelineDescriptionList {
		names = append(names, d.Name)
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("list --json names mismatch (-want +got):\n%s", diff)
	}
}

// TestCell pins how a table shows values: "-" for none, and control
// characters, which would break the table's lines or drive the terminal,
// as "?".
func TestCell(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", "-"},
		{"etl", "etl"},
		{"two\nlines", "two?lines"},
		{"tab\tbed", "tab?bed"},
		{"\x1b[2Jclear", "?[2Jclear"},
		{"café", "café"},
	} {
		if got := cell(tc.in); got != tc.want {
			t.Errorf("cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
