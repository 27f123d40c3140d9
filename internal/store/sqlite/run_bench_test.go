package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/expr"
	"github.com/culvert/culvert/internal/measure"
	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/scheduler"
	"github.com/culvert/culvert/internal/store"
)

// BenchmarkRunApplyYearBackfill plans and persists a year-long backfill of
// ten activities on a 15-minute schedule, 350,400 instances, in bounded
// plans of 5,000 as the scheduler does, each persisted by one RunApply on a
// real SQLite file. One op is the whole backfill; the target for planning
// and persisting it is 5 s. It also reports the heap the store keeps for
// it, per instance, and how long a reopen takes to load it back.
func BenchmarkRunApplyYearBackfill(b *testing.B) {
	const (
		activities = 10
		batch      = 5000
	)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start.AddDate(1, 0, 0).Add(-time.Second) // the last interval of the year starts before now
	comps := make([]scheduler.Component, activities)
	for i := range comps {
		comps[i] = scheduler.Component{
			ID:           fmt.Sprintf("Activity%02d", i),
			Schedule:     scheduler.Schedule{Start: start, Period: expr.Period{Minutes: 15}},
			ScheduleType: scheduler.TypeCron,
		}
	}
	const account, pid = "123456789012", "df-BACKFILL0001"
	var instances int
	var retained uint64
	var reopen time.Duration
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "culvert.db")
		// Open rather than openPath: its cleanup would keep every
		// iteration's store, and its memory, alive to the end.
		ctx := b.Context()
		d, err := Open(ctx, Config{Path: path, Logger: discard})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := d.PipelineCreate(ctx, &store.PipelineCreateParams{Account: account, ID: pid, Name: "backfill", UniqueID: "backfill", Now: start}); err != nil {
			b.Fatal(err)
		}
		before := measure.HeapAlloc()
		b.StartTimer()

		created := map[string]int{}
		instances = 0
		for {
			plan := scheduler.PlanInstances(scheduler.PlanInput{Components: comps, Created: created, Now: now, MaxCreate: batch})
			if len(plan.Create) == 0 {
				break
			}
			// What Run.Add makes of a plan.
			ins := make([]*pipeline.Instance, len(plan.Create))
			for i, p := range plan.Create {
				ins[i] = &pipeline.Instance{
					ID: p.ID, ComponentID: p.ComponentID, Type: "ShellCommandActivity", N: p.N, Version: 1,
					ScheduledStart: p.Start, ScheduledEnd: p.End, Eligible: p.Eligible, Status: p.Status, TriesLeft: 4,
				}
				created[p.ComponentID] = p.N + 1
			}
			if err := d.RunApply(ctx, &store.RunChanges{Account: account, PipelineID: pid, Instances: ins, Now: now}); err != nil {
				b.Fatal(err)
			}
			instances += len(ins)
		}

		b.StopTimer()
		if instances != activities*35040 {
			b.Fatalf("backfill created %d instances, want %d", instances, activities*35040)
		}
		retained = measure.HeapAlloc() - before
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		d, err = Open(ctx, Config{Path: path, Logger: discard})
		if err != nil {
			b.Fatal(err)
		}
		reopen = time.Since(t0)
		st, err := d.RunLoad(ctx, account, pid)
		if err != nil || len(st.Instances) != instances {
			b.Fatalf("RunLoad() after reopen = %d instances, %v", len(st.Instances), err)
		}
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(instances), "instances")
	b.ReportMetric(float64(retained)/(1<<20), "heap-MB")
	b.ReportMetric(float64(retained)/float64(instances), "heap-B/instance")
	b.ReportMetric(reopen.Seconds(), "reopen-s")
	if hwm := measure.PeakRSS(); hwm > 0 {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MB")
	}
}
