package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// target is a throughput goal: culvert's ops/s on a phase at least Ratio
// times moto's, and optionally culvert's p99 at most MaxP99ms.
type target struct {
	Phase    string
	Ratio    float64
	MaxP99ms float64 // 0 = no latency goal
}

// targets are the goals bench/run.sh checks. The DescribePipelines goal
// is for the one-id call; the 25-id variant and the listing are shown for
// information (see bench/README.md).
var targets = []target{
	{Phase: phaseCreate, Ratio: 14},
	{Phase: phasePut, Ratio: 8},
	{Phase: phaseGet, Ratio: 3.6},
	{Phase: phaseDescObjects, Ratio: 8},
	{Phase: phaseDescPipes1, Ratio: 20, MaxP99ms: 5},
	{Phase: phaseDescPipes25},
	{Phase: phaseList},
}

// Thresholds of a trustworthy run; see compare.
const (
	minMotoCores  = 0.6  // the least CPU moto uses while loaded
	maxOtherCores = 0.25 // the most CPU the rest of the machine may use
)

// check is one PASS/FAIL line of a comparison.
type check struct {
	What   string `json:"what"`
	Got    string `json:"got"`
	Want   string `json:"want"`
	Passed bool   `json:"passed"`
}

// compareMain implements `load compare`: it reads the JSON reports of a
// culvert run and a moto run, prints ops/s side by side with their ratio,
// and checks the targets. It exits 1 if any target fails, 3 if all pass
// but other work on the machine competed for the CPU during some phase
// (the ratios then prove nothing), 2 on bad input.
func compareMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	culvertPath := fs.String("culvert", "", "JSON `FILE` of the culvert run")
	motoPath := fs.String("moto", "", "JSON `FILE` of the moto run")
	outPath := fs.String("json", "", "also write the checks as JSON to `FILE`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *culvertPath == "" || *motoPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: load compare --culvert FILE --moto FILE [--json FILE]")
		return 2
	}
	c, err := readReport(*culvertPath)
	if err == nil {
		var m *report
		if m, err = readReport(*motoPath); err == nil {
			res := compare(c, m, stdout)
			if *outPath != "" {
				b, _ := json.MarshalIndent(res, "", "  ")
				err = os.WriteFile(*outPath, append(b, '\n'), 0o644)
			}
			if err == nil {
				for _, ch := range res.Checks {
					if !ch.Passed {
						return 1
					}
				}
				if len(res.Disturbed) > 0 {
					return 3
				}
				return 0
			}
		}
	}
	fmt.Fprintln(stderr, "load compare:", err)
	return 2
}

func readReport(path string) (*report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// comparison is the outcome of compare, and what `load compare --json`
// writes.
type comparison struct {
	Checks []check `json:"checks"`
	// Disturbed lists the phases ("label phase") during which other work
	// used more than maxOtherCores, or moto less than minMotoCores.
	Disturbed []string `json:"disturbed_phases,omitempty"`
}

// compare prints the side-by-side table and the checks.
func compare(c, m *report, w io.Writer) *comparison {
	fmt.Fprintf(w, "\n== %s / %s\n", c.Label, m.Label)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "phase\t%s ops/s\t%s ops/s\tratio\ttarget\t%s p99 ms\t%s p99 ms\tresult\t\n", c.Label, m.Label, c.Label, m.Label)
	var checks []check
	for _, t := range targets {
		cp, mp := c.phase(t.Phase), m.phase(t.Phase)
		if cp == nil || mp == nil {
			checks = append(checks, check{What: t.Phase + " ratio", Got: "missing", Want: "a result from both runs"})
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\tMISSING\t\n", t.Phase)
			continue
		}
		ratio := 0.0
		if mp.OpsPerSec > 0 {
			ratio = cp.OpsPerSec / mp.OpsPerSec
		}
		wantStr, result := "-", "(info)"
		if t.Ratio > 0 {
			ok := ratio >= t.Ratio
			wantStr, result = fmt.Sprintf("≥ %g×", t.Ratio), passFail(ok)
			checks = append(checks, check{What: t.Phase + " ratio", Got: fmt.Sprintf("%.2f×", ratio), Want: wantStr, Passed: ok})
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2f×\t%s\t%.2f\t%.2f\t%s\t\n", t.Phase, cp.OpsPerSec, mp.OpsPerSec, ratio, wantStr, cp.P99ms, mp.P99ms, result)
		if t.MaxP99ms > 0 {
			checks = append(checks, check{What: t.Phase + " " + c.Label + " p99", Got: fmt.Sprintf("%.2f ms", cp.P99ms),
				Want: fmt.Sprintf("≤ %g ms", t.MaxP99ms), Passed: cp.P99ms <= t.MaxP99ms})
		}
	}
	tw.Flush()

	// Other work on the machine takes CPU from the server and the client
	// alike. moto is one Python process and, under this load, should keep
	// about one core busy: much less means it was starved, and a starved
	// moto inflates every ratio.
	var disturbed []string
	for _, r := range []*report{c, m} {
		for _, p := range r.Phases {
			other := p.otherCores()
			starved := r == m && p.ServerCPUs > 0 && p.serverCores() < minMotoCores
			if other <= maxOtherCores && !starved {
				continue
			}
			disturbed = append(disturbed, r.Label+" "+p.Name)
			fmt.Fprintf(w, "WARNING: during %s's %s phase other work used %.2f cores", r.Label, p.Name, other)
			if starved {
				fmt.Fprintf(w, " and %s kept only %.2f cores busy (expected about 1)", r.Label, p.serverCores())
			}
			fmt.Fprintln(w, "; the numbers are skewed: rerun on an idle machine")
		}
	}

	errs := 0
	for _, p := range c.Phases {
		errs += p.Errors
	}
	checks = append(checks, check{What: c.Label + " errors", Got: fmt.Sprint(errs), Want: "0", Passed: errs == 0})

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	failed := 0
	for _, ch := range checks {
		fmt.Fprintf(tw, "%s\t%s\tgot %s\twant %s\n", passFail(ch.Passed), ch.What, ch.Got, ch.Want)
		if !ch.Passed {
			failed++
		}
	}
	tw.Flush()
	switch {
	case failed > 0:
		fmt.Fprintf(w, "%d of %d targets FAILED\n", failed, len(checks))
	case len(disturbed) > 0:
		fmt.Fprintf(w, "all %d targets met, but UNRELIABLE: other work competed for the CPU during %s\n", len(checks), strings.Join(disturbed, ", "))
	default:
		fmt.Fprintf(w, "all %d targets met\n", len(checks))
	}
	if failed > 0 && len(disturbed) > 0 {
		fmt.Fprintf(w, "(other work competed for the CPU during %s: rerun on an idle machine before trusting these results)\n", strings.Join(disturbed, ", "))
	}
	return &comparison{Checks: checks, Disturbed: disturbed}
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}
