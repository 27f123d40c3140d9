package expr

import (
	"bufio"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/eval.txt with the current results")

// TestGolden evaluates every "in:" line of testdata/eval.txt as a template
// in the test environment and compares the result with the "out:" lines
// (one per value), the "err:" line or, for no values at all, the "none:"
// line after it. Other lines are comments.
func TestGolden(t *testing.T) {
	t.Parallel()
	const path = "testdata/eval.txt"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string // the file with fresh results
	var want []string
	var in string
	haveIn := false
	flush := func() {
		if !haveIn {
			return
		}
		res := goldenResult(in)
		got = append(got, res...)
		if diff := cmp.Diff(want, res); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", in, diff)
		}
		haveIn, want = false, nil
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "out:"), strings.HasPrefix(line, "err:"), line == "none:":
			want = append(want, line)
			continue
		case strings.HasPrefix(line, "in: "):
			flush()
			in, haveIn = strings.TrimPrefix(line, "in: "), true
		default:
			flush()
		}
		got = append(got, line)
	}
	flush()
	if *update {
		if err := os.WriteFile(path, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func goldenResult(in string) []string {
	tmpl, err := ParseTemplate(in)
	if err != nil {
		return []string{"err: " + err.Error()}
	}
	vals, err := tmpl.Eval(newTestEnv())
	if err != nil {
		return []string{"err: " + err.Error()}
	}
	if len(vals) == 0 {
		return []string{"none:"}
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = "out: " + v
	}
	return out
}
