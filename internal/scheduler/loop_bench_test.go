package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/measure"
	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/scheduler"
	"github.com/culvert/culvert/internal/store"
	"github.com/culvert/culvert/internal/store/sqlite"
)

// BenchmarkLoopYearBackfill is the first target end to end: a
// pipeline of ten ShellCommandActivities on a 15-minute schedule that
// started a year ago is activated, and the real scheduler Loop, over a real
// SQLite store in a temporary directory, plans and persists its backfill
// (350,400 instances) pass after pass until the store holds every one. One
// op is the whole backfill; the target is 5 s.
//
// Unlike store/sqlite's BenchmarkRunApplyYearBackfill, which feeds plans
// straight to RunApply, this goes through everything a pass does: reading
// the running pipelines, compiling the definition, Run.Add and Run.Step over
// a run that grows to 350,400 instances, building the task objects of the
// instances that become ready (maxActiveInstances 1: ten tasks), and
// RunApply. The clock is injected and fixed, so no pass waits for time to
// pass, and every pass the benchmark makes is one the live loop would make
// without waiting (the loop's Wake says "now" while planning is behind).
//
// Reported besides ns/op: passes, the live heap the loop and the store
// keep for the run after it (heap-MB, heap-B/instance, after a full GC),
// the process's peak RSS, and restart-s: how long the first pass of a
// fresh Loop over the reopened store takes to resume the run (reopening the
// store, which loads its memory mirror, included).
func BenchmarkLoopYearBackfill(b *testing.B) {
	const (
		account, pid = "123456789012", "df-BACKFILL0001"
		activities   = 10
		want         = activities * 35040 // 365 days of 96 quarter hours
	)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// Activated at the end of the year: every interval is in the past.
	// occurrences bounds the schedule to the year exactly, whatever the
	// loop's Ahead.
	now := start.AddDate(1, 0, 0)
	def := yearDefinition(activities, start)
	if res := pipeline.Validate(def, pipeline.Options{Now: now}); res.Errored() {
		b.Fatalf("the definition does not validate: %+v", res.Errors)
	}
	doc, err := json.Marshal(def)
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	var passes, tasks int
	var retained uint64
	var restart time.Duration
	for b.Loop() {
		b.StopTimer()
		ctx := context.Background()
		path := filepath.Join(b.TempDir(), "culvert.db")
		st, err := sqlite.Open(ctx, sqlite.Config{Path: path, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		activate(b, st, account, pid, doc, now)
		before := measure.HeapAlloc()
		loop, err := scheduler.NewLoop(scheduler.LoopConfig{Store: st, Now: func() time.Time { return now }, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		passes = 0
		for n := 0; n < want; {
			if passes++; passes > 10*want/5000 {
				b.Fatalf("%d instances persisted after %d passes", n, passes-1)
			}
			loop.Pass(ctx)
			// Counting is the harness's business, not the loop's, and
			// must not wait for the loop's commits (the loop does not):
			// the wait for all of them is timed below.
			b.StopTimer()
			rs, err := st.RunLoad(store.Unsynced(ctx), account, pid)
			if err != nil {
				b.Fatal(err)
			}
			n, tasks = len(rs.Instances), len(rs.Tasks)
			if n > want {
				b.Fatalf("%d instances persisted, want %d", n, want)
			}
			b.StartTimer()
		}
		// Persisted means durable.
		if _, err := st.RunLoad(ctx, account, pid); err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		retained = measure.HeapAlloc() - before
		runtime.KeepAlive(loop)
		if tasks != activities {
			b.Fatalf("%d tasks queued, want %d (one per activity, maxActiveInstances 1)", tasks, activities)
		}
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		// A restart: what a leader taking over, or culvert serve coming
		// back up, pays before it schedules anything.
		t0 := time.Now()
		st, err = sqlite.Open(ctx, sqlite.Config{Path: path, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		loop, err = scheduler.NewLoop(scheduler.LoopConfig{Store: st, Now: func() time.Time { return now }, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		loop.Pass(ctx)
		restart = time.Since(t0)
		rs, err := st.RunLoad(ctx, account, pid)
		if err != nil || len(rs.Instances) != want || len(rs.Tasks) != activities {
			b.Fatalf("after a restart: %d instances, %d tasks, %v", len(rs.Instances), len(rs.Tasks), err)
		}
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(want), "instances")
	b.ReportMetric(float64(passes), "passes")
	b.ReportMetric(float64(retained)/(1<<20), "heap-MB")
	b.ReportMetric(float64(retained)/want, "heap-B/instance")
	b.ReportMetric(restart.Seconds(), "restart-s")
	if hwm := measure.PeakRSS(); hwm > 0 {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MB")
	}
}

// yearDefinition is a valid cron pipeline of n ShellCommandActivities on
// one 15-minute schedule of a year's occurrences from start.
func yearDefinition(n int, start time.Time) *pipeline.Definition {
	str, ref := pipeline.String, pipeline.Ref
	def := &pipeline.Definition{Objects: []pipeline.Object{
		{ID: "Default", Name: "Default", Fields: []pipeline.Field{
			str("scheduleType", "cron"), ref("schedule", "Quarterly"), str("pipelineLogUri", "s3://logs/"),
			str("role", "DataPipelineDefaultRole"), str("resourceRole", "DataPipelineDefaultResourceRole"),
		}},
		{ID: "Quarterly", Name: "Quarterly", Fields: []pipeline.Field{
			str("type", "Schedule"), str("period", "15 minutes"),
			str("startDateTime", start.Format("2006-01-02T15:04:05")), str("occurrences", "35040"),
		}},
	}}
	for i := range n {
		id := fmt.Sprintf("Activity%02d", i)
		def.Objects = append(def.Objects, pipeline.Object{ID: id, Name: id, Fields: []pipeline.Field{
			str("type", "ShellCommandActivity"), str("workerGroup", "wg-backfill"),
			str("command", "echo #{@scheduledStartTime}"),
		}})
	}
	return def
}

// activate creates the pipeline and activates doc as ActivatePipeline
// does: Latest and Active the same version, SCHEDULED, activated at now.
func activate(b testing.TB, st store.Store, account, pid string, doc []byte, now time.Time) {
	b.Helper()
	ctx := context.Background()
	if _, _, err := st.PipelineCreate(ctx, &store.PipelineCreateParams{
		Account: account, ID: pid, Name: "backfill", UniqueID: "backfill", Creator: account, Now: now,
	}); err != nil {
		b.Fatal(err)
	}
	if _, err := st.PipelineUpdate(ctx, account, pid, func(p *store.Pipeline) error {
		p.Latest = &store.Definition{Doc: doc, PutAt: now}
		p.Active = p.Latest
		p.State = pipeline.StateScheduled
		p.FirstActivatedAt, p.LastActivatedAt = now, now
		return nil
	}); err != nil {
		b.Fatal(err)
	}
}
