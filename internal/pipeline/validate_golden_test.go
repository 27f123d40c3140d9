package pipeline

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/validate/*.txt")

// goldenCase is one file of testdata/validate. The file is a comment, then
// sections each introduced by a line "-- name --":
//
//	-- options --      optional; lines "now YYYY-MM-DDTHH:MM:SS", "max-objects N"
//	-- active --       optional; the active definition, a definition file
//	-- definition --   the definition to validate, a definition file (the aws CLI's format)
//	-- want --         the rendered Result (see renderResult)
type goldenCase struct {
	comment  string
	sections []goldenSection
}

type goldenSection struct{ name, body string }

func parseGolden(data string) goldenCase {
	var g goldenCase
	lines := strings.SplitAfter(data, "\n")
	cur := -1
	for _, line := range lines {
		t := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			g.sections = append(g.sections, goldenSection{name: strings.TrimSpace(t[3 : len(t)-3])})
			cur = len(g.sections) - 1
			continue
		}
		if cur < 0 {
			g.comment += line
		} else {
			g.sections[cur].body += line
		}
	}
	return g
}

func (g *goldenCase) section(name string) (string, bool) {
	for _, s := range g.sections {
		if s.name == name {
			return s.body, true
		}
	}
	return "", false
}

func (g *goldenCase) format() string {
	var b strings.Builder
	b.WriteString(g.comment)
	for _, s := range g.sections {
		fmt.Fprintf(&b, "-- %s --\n%s", s.name, s.body)
	}
	return b.String()
}

// renderResult prints a Result one message a line: errors, then warnings,
// then the fatal subset, or "clean" when there is nothing.
func renderResult(r *Result) string {
	var b strings.Builder
	for _, e := range r.Errors {
		for _, m := range e.Errors {
			fmt.Fprintf(&b, "error %s: %s\n", e.ID, m)
		}
	}
	for _, w := range r.Warnings {
		for _, m := range w.Warnings {
			fmt.Fprintf(&b, "warning %s: %s\n", w.ID, m)
		}
	}
	for _, f := range r.Fatal {
		fmt.Fprintf(&b, "fatal %s\n", f)
	}
	if b.Len() == 0 {
		return "clean\n"
	}
	return b.String()
}

func goldenOptions(t *testing.T, g *goldenCase) Options {
	t.Helper()
	var opt Options
	body, _ := g.section("options")
	for _, line := range strings.Split(body, "\n") {
		key, val, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch key {
		case "":
		case "now":
			now, err := time.Parse("2006-01-02T15:04:05", val)
			if err != nil {
				t.Fatalf("options: now: %v", err)
			}
			opt.Now = now
		case "max-objects":
			n, err := strconv.Atoi(val)
			if err != nil {
				t.Fatalf("options: max-objects: %v", err)
			}
			opt.Limits.MaxObjects = n
		default:
			t.Fatalf("options: unknown option %q", key)
		}
	}
	if body, ok := g.section("active"); ok {
		active, err := ParseFile(strings.NewReader(body))
		if err != nil {
			t.Fatalf("active: %v", err)
		}
		opt.Active = active
	}
	return opt
}

// TestValidateGolden validates each definition in testdata/validate and
// compares the rendered result with the file's want section. Refresh with
// go test ./internal/pipeline -run TestValidateGolden -update.
func TestValidateGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "validate", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			g := parseGolden(string(data))
			body, ok := g.section("definition")
			if !ok {
				t.Fatal("no definition section")
			}
			def, err := ParseFile(strings.NewReader(body))
			if err != nil {
				t.Fatalf("definition: %v", err)
			}
			got := renderResult(Validate(def, goldenOptions(t, &g)))
			want, _ := g.section("want")
			if *update {
				found := false
				for k := range g.sections {
					if g.sections[k].name == "want" {
						g.sections[k].body, found = got, true
					}
				}
				if !found {
					g.sections = append(g.sections, goldenSection{name: "want", body: got})
				}
				if err := os.WriteFile(file, []byte(g.format()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzValidateFile checks that no definition file, however malformed,
// makes Validate panic, with and without an active definition; the golden
// files seed it.
func FuzzValidateFile(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "validate", "*.txt"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		g := parseGolden(string(data))
		body, _ := g.section("definition")
		active, _ := g.section("active")
		f.Add(body, active)
	}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body, activeBody string) {
		def, err := ParseFile(strings.NewReader(body))
		if err != nil {
			return
		}
		opt := Options{Now: now}
		if active, err := ParseFile(strings.NewReader(activeBody)); err == nil {
			opt.Active = active
		}
		res := Validate(def, opt)
		if len(res.Fatal) > 0 && !res.Errored() {
			t.Errorf("fatal errors %q without Errored()", res.Fatal)
		}
	})
}
