package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/pipeline"
)

// describeObjectsBatch is how many ids one DescribeObjects asks for: the
// aws CLI's list-runs sends 100 at a time (aws-cli#2923), which AWS and
// culvert accept whatever the model's documentation says.
const describeObjectsBatch = 100

// defaultRunsWindow is how far back runs are listed when no interval is
// given: the aws CLI's list-runs shows those started in the last 4 days.
const defaultRunsWindow = 4 * 24 * time.Hour

// runsFilter is what `culvert runs` was asked to show.
type runsFilter struct {
	statuses []string // exact @status values; empty for all
	start    []string // @actualStartTime bounds, or nil
	schedule []string // @scheduledStartTime bounds, or nil
}

func (f *runsFilter) setStatus(s string) error {
	for _, part := range strings.Split(s, ",") {
		st, ok := runStatus(part)
		if !ok {
			return fmt.Errorf("unknown status %q; want one of WAITING_ON_DEPENDENCIES, WAITING_FOR_RUNNER, CREATING, RUNNING, "+
				"SHUTTING_DOWN, FINISHED, FAILED, CASCADE_FAILED, CANCELED, TIMEDOUT, PAUSED, SKIPPED (any case)", strings.TrimSpace(part))
		}
		if !slices.Contains(f.statuses, st) {
			f.statuses = append(f.statuses, st)
		}
	}
	return nil
}

// runStatus returns the instance status s names, in any case, with - for
// _ and the aws CLI's "cancelled" for CANCELED; the aws CLI would send
// CANCELLED, which matches nothing.
func runStatus(s string) (string, bool) {
	s = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	if s == "CANCELLED" {
		s = string(pipeline.StatusCanceled)
	}
	switch pipeline.Status(s) {
	case pipeline.StatusWaitingOnDependencies, pipeline.StatusWaitingForRunner, pipeline.StatusCreating,
		pipeline.StatusRunning, pipeline.StatusShuttingDown, pipeline.StatusFinished, pipeline.StatusFailed,
		pipeline.StatusCascadeFailed, pipeline.StatusCanceled, pipeline.StatusTimedOut, pipeline.StatusPaused,
		pipeline.StatusSkipped:
		return s, true
	}
	return "", false
}

// parseInterval reads "A,B" into two Data Pipeline DateTimes, the bounds of
// a BETWEEN.
func parseInterval(s string) ([]string, error) {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return nil, fmt.Errorf("want START,END, got %q", s)
	}
	var out []string
	for _, v := range []string{a, b} {
		t, err := parseTime(strings.TrimSpace(v))
		if err != nil {
			return nil, err
		}
		out = append(out, t.Format(dateTimeLayout))
	}
	return out, nil
}

// queries returns the QueryObjects queries whose results together are the
// runs to show, as the aws CLI's list-runs builds them. The service takes
// one value per EQ (AWS refuses several: aws-cli#1644), so several
// statuses are one query each.
func (f *runsFilter) queries(now time.Time) []*types.Query {
	between := func(field string, bounds []string) types.Selector {
		return types.Selector{FieldName: aws.String(field), Operator: &types.Operator{Type: types.OperatorTypeBetween, Values: bounds}}
	}
	var base []types.Selector
	if f.start == nil && f.schedule == nil {
		now = now.UTC()
		base = append(base, between("@actualStartTime", []string{now.Add(-defaultRunsWindow).Format(dateTimeLayout), now.Format(dateTimeLayout)}))
	}
	if f.start != nil {
		base = append(base, between("@actualStartTime", f.start))
	}
	if f.schedule != nil {
		base = append(base, between("@scheduledStartTime", f.schedule))
	}
	if len(f.statuses) == 0 {
		return []*types.Query{{Selectors: base}}
	}
	var qs []*types.Query
	for _, st := range f.statuses {
		sel := append(slices.Clip(base), types.Selector{FieldName: aws.String("@status"),
			Operator: &types.Operator{Type: types.OperatorTypeEqual, Values: []string{st}}})
		qs = append(qs, &types.Query{Selectors: sel})
	}
	return qs
}

// none says that nothing matched, and where else to look.
func (f *runsFilter) none() string {
	if f.start == nil && f.schedule == nil {
		return "no runs started in the last 4 days (--start-interval or --schedule-interval look further back)"
	}
	return "no runs match"
}

// run is one instance as the aws CLI's list-runs prints it: every field by
// key, with "@id" and "name".
type run map[string]string

// fetchRuns returns the pipeline's runs that f selects, ordered by
// scheduled start and then name, as the aws CLI orders them.
func fetchRuns(ctx context.Context, dp *datapipeline.Client, id string, f *runsFilter, now time.Time) ([]run, error) {
	var ids []string
	seen := map[string]bool{}
	for _, q := range f.queries(now) {
		pages := datapipeline.NewQueryObjectsPaginator(dp, &datapipeline.QueryObjectsInput{
			PipelineId: aws.String(id), Sphere: aws.String(string(pipeline.SphereInstance)), Query: q,
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, apiError(err)
			}
			for _, oid := range page.Ids {
				if !seen[oid] {
					seen[oid] = true
					ids = append(ids, oid)
				}
			}
		}
	}
	runs := make([]run, 0, len(ids))
	for batch := range slices.Chunk(ids, describeObjectsBatch) {
		pages := datapipeline.NewDescribeObjectsPaginator(dp, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: batch})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, apiError(err)
			}
			for _, o := range page.PipelineObjects {
				r := fieldMap(wireFields(o.Fields))
				r["@id"], r["name"] = aws.ToString(o.Id), aws.ToString(o.Name)
				runs = append(runs, r)
			}
		}
	}
	slices.SortStableFunc(runs, func(a, b run) int {
		return cmp.Or(strings.Compare(a["@scheduledStartTime"], b["@scheduledStartTime"]), strings.Compare(a["name"], b["name"]))
	})
	return runs, nil
}

// writeRunsTable writes runs one line each, so that grep finds a run with
// everything known of it (the aws CLI's table takes two lines a run).
func writeRunsTable(w io.Writer, runs []run) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSCHEDULED START\tSTATUS\tSTARTED\tENDED\tID")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cell(r["@componentParent"]), cell(r["@scheduledStartTime"]),
			cell(r["@status"]), cell(r["@actualStartTime"]), cell(r["@actualEndTime"]), cell(r["@id"]))
	}
	return tw.Flush()
}

// statusCounts says how many runs there are in each status, statuses in
// alphabetical order: "3 runs: 1 FAILED, 2 FINISHED".
func statusCounts(runs []run) string {
	counts := map[string]int{}
	for _, r := range runs {
		counts[r["@status"]]++
	}
	var parts []string
	for _, st := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[st], cell(st)))
	}
	s := plural(len(runs), "run")
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

func (c *clientCommand) runs(ctx context.Context, args []string) error {
	fs := c.flagSet("PIPELINE_ID [--status S[,S...]] [--start-interval A,B] [--schedule-interval A,B] [--watch [--interval D]]",
		"Lists a pipeline's runs (its instances) as aws datapipeline list-runs does: by default those\n"+
			"started in the last 4 days, by scheduled start. With --watch it shows them again every\n"+
			"interval until interrupted: redrawn in place on a terminal, otherwise printed again\n"+
			"whenever something changed.")
	var f runsFilter
	fs.Func("status", "only runs in `STATUS` (any case; comma-separated for several)", f.setStatus)
	fs.Func("start-interval", "only runs that started between `A,B` (RFC 3339, or YYYY-MM-DDTHH:MM:SS in UTC)", func(s string) (err error) {
		f.start, err = parseInterval(s)
		return err
	})
	fs.Func("schedule-interval", "only runs scheduled to start between `A,B` (RFC 3339, or YYYY-MM-DDTHH:MM:SS in UTC)", func(s string) (err error) {
		f.schedule, err = parseInterval(s)
		return err
	})
	watch := fs.Bool("watch", false, "show the runs again every interval until interrupted")
	interval := fs.Duration("interval", 2*time.Second, "time between refreshes with --watch")
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return err
	}
	if *interval <= 0 {
		return errors.New("runs: --interval must be positive")
	}
	dp, err := c.connect(ctx)
	if err != nil {
		return err
	}
	if *watch {
		return c.watchRuns(ctx, dp, pos[0], &f, *interval)
	}
	runs, err := fetchRuns(ctx, dp, pos[0], &f, time.Now())
	if err != nil {
		return err
	}
	if c.json {
		return writeJSON(c.main.Stdout, runs)
	}
	if len(runs) == 0 {
		fmt.Fprintln(c.main.Stderr, f.none())
		return nil
	}
	return writeRunsTable(c.main.Stdout, runs)
}

// clearScreen moves the cursor home and clears the screen (ANSI).
const clearScreen = "\x1b[H\x1b[2J"

// watchRuns shows the runs every interval until ctx ends, which is how a
// watch is meant to end, so that is not an error. On a terminal each
// refresh redraws the screen under a line with the time and the count of
// runs per status; elsewhere (a log, a pipe) a refresh is printed only when
// it differs from the last, and with --json as one line of JSON.
func (c *clientCommand) watchRuns(ctx context.Context, dp *datapipeline.Client, id string, f *runsFilter, every time.Duration) error {
	tty := !c.json && isTerminal(c.main.Stdout, c.main.Getenv)
	tick := time.NewTicker(every)
	defer tick.Stop()
	var last []byte
	for {
		now := time.Now()
		runs, err := fetchRuns(ctx, dp, id, f, now)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var body bytes.Buffer
		if c.json {
			b, err := json.Marshal(runs)
			if err != nil {
				return err
			}
			body.Write(append(b, '\n'))
		} else {
			fmt.Fprintf(&body, "%s  %s\n", id, statusCounts(runs))
			if len(runs) > 0 {
				writeRunsTable(&body, runs)
			} else {
				fmt.Fprintln(&body, f.none())
			}
		}
		var out []byte
		switch {
		case tty:
			out = fmt.Appendf(nil, "%s%s  %s", clearScreen, now.Format(time.TimeOnly), body.Bytes())
		case bytes.Equal(body.Bytes(), last):
		case c.json:
			out = body.Bytes()
		default:
			if last != nil {
				out = append(out, '\n')
			}
			out = fmt.Appendf(out, "%s  %s", now.Format(time.TimeOnly), body.Bytes())
		}
		last = body.Bytes()
		if len(out) > 0 {
			if _, err := c.main.Stdout.Write(out); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// isTerminal reports whether w is a terminal that understands ANSI
// escapes: a character device, as os.Stdout is when not redirected, and
// not TERM=dumb.
func isTerminal(w io.Writer, getenv func(string) string) bool {
	f, ok := w.(interface{ Stat() (os.FileInfo, error) })
	if !ok || getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
