package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/datapipeline"

	"github.com/culvert/culvert/internal/measure"
)

// throughputResult is the outcome of the throughput phase.
type throughputResult struct {
	Pollers   int `json:"pollers"`
	Pipelines int `json:"pipelines"`
	// Ready is how many tasks the pipelines allow at once (pipelines ×
	// activities × maxActiveInstances): the queue is never deeper.
	Ready     int `json:"ready"`
	Instances int `json:"instances"` // intervals behind the pipelines: the work available
	// FirstTaskms is from the last ActivatePipeline's return to the first
	// task delivered: the scheduler planning the backfill.
	FirstTaskms float64 `json:"first_task_ms"`
	Seconds     float64 `json:"seconds"` // the measured window
	// Tasks is how many SetTaskStatus(FINISHED) calls succeeded within the
	// window; every task counted was polled, acknowledged and finished.
	Tasks       int     `json:"tasks"`
	TasksPerSec float64 `json:"tasks_per_sec"`
	// Errors is every failed call from the start of the warm-up to the
	// end of the window, and tasks that ReportTaskProgress said were
	// canceled.
	Errors      int                  `json:"errors"`
	FirstErrors []measure.ErrorCount `json:"first_errors,omitempty"`
	// EmptyPolls is how many polls ended (after the server's --poll-wait)
	// without a task: the scheduler left the runners idle.
	EmptyPolls int `json:"empty_polls"`
	// Latencies of the calls that ended within the window. Poll includes
	// the time a poller waited for a task: when the scheduler keeps up,
	// it is a round trip.
	Poll     latency `json:"poll"`
	Progress latency `json:"progress"`
	SetState latency `json:"set_task_status"`
	Cycle    latency `json:"cycle"` // poll start → SetTaskStatus return
	usage
	Target float64 `json:"target_tasks_per_sec"`
	// Client is the runners' client: "sdk" (aws-sdk-go-v2) or "lean".
	Client string `json:"client"`
	// Endpoints is how many endpoints the pollers spread over, poller i
	// on endpoint i mod Endpoints.
	Endpoints int `json:"endpoints"`
}

// taskTimes is one runner cycle as seen by the client.
type taskTimes struct {
	pollStart, polled, progressed, finished time.Time
}

// runThroughput runs the throughput phase. The pipelines are set up
// through the first endpoint; poller w polls endpoint w mod n.
func runThroughput(ctx context.Context, cs []*datapipeline.Client, cfg *config, runID string, stderr io.Writer) (*throughputResult, error) {
	c := cs[0]
	wg := "wg-throughput-" + runID
	now := time.Now()
	objs := backfillDefinition(cfg.Activities, cfg.MaxActive, cfg.BackfillDays, wg, now)
	res := &throughputResult{
		Pollers: cfg.Pollers, Pipelines: cfg.Pipelines, Ready: cfg.Pipelines * cfg.Activities * cfg.MaxActive,
		Instances: cfg.Pipelines * cfg.Activities * cfg.BackfillDays * 96, Target: cfg.ThroughputMin, Client: cfg.Client,
		Endpoints: len(cs),
	}
	say(stderr, "throughput: %d cron pipelines × %d activities × maxActiveInstances %d = %d tasks ready at once, %d intervals of backlog; %d pollers on %d endpoint(s)",
		cfg.Pipelines, cfg.Activities, cfg.MaxActive, res.Ready, res.Instances, cfg.Pollers, len(cs))
	ids := make([]string, cfg.Pipelines)
	for i := range ids {
		id, err := createDefined(ctx, c, fmt.Sprintf("throughput-%s-%d", runID, i), objs)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	for _, id := range ids {
		if err := activate(ctx, c, id); err != nil {
			return nil, err
		}
	}
	activated := time.Now()

	// One runner client per endpoint; poller w uses apis[w % n].
	apis := make([]taskAPI, len(cs))
	for i := range cs {
		if cfg.Client == "lean" {
			apis[i] = newLeanRunner(cfg, cfg.Endpoints[i])
		} else {
			apis[i] = sdkRunner{cs[i]}
		}
	}

	rec := &recorder{}
	var firstTask atomic.Int64 // unix ns of the first delivery
	var emptyPolls atomic.Int64
	var stop atomic.Bool
	pollCtx, cancelPolls := context.WithCancel(ctx)
	defer cancelPolls()
	start := time.Now()
	winStart, winEnd := start.Add(cfg.Warmup), start.Add(cfg.Warmup+cfg.Duration)
	per := make([][]taskTimes, cfg.Pollers)
	var workers sync.WaitGroup
	for w := range cfg.Pollers {
		api := apis[w%len(apis)]
		workers.Go(func() {
			host := fmt.Sprintf("runner-%02d.bench", w)
			for !stop.Load() {
				var t taskTimes
				t.pollStart = time.Now()
				taskID, attemptID, err := api.poll(pollCtx, wg, host)
				t.polled = time.Now()
				if err != nil {
					if pollCtx.Err() == nil {
						rec.fail(err)
					}
					continue
				}
				if taskID == "" {
					emptyPolls.Add(1)
					continue
				}
				firstTask.CompareAndSwap(0, t.polled.UnixNano())
				// The runner's work, once acknowledged, is nothing: this
				// measures culvert, not a shell.
				canceled, err := api.progress(pollCtx, taskID)
				t.progressed = time.Now()
				if err != nil {
					rec.fail(fmt.Errorf("ReportTaskProgress: %w", err))
					continue
				}
				if canceled {
					rec.fail(fmt.Errorf("task %s canceled at acknowledgement", attemptID))
					continue
				}
				err = api.finish(pollCtx, taskID)
				t.finished = time.Now()
				if err != nil {
					rec.fail(fmt.Errorf("SetTaskStatus: %w", err))
					continue
				}
				per[w] = append(per[w], t)
			}
		})
	}

	// Usage is read at the window's edges; sleeping until them only
	// places the readings, it measures nothing.
	time.Sleep(time.Until(winStart))
	u0 := readUsage(cfg)
	profiled := cfg.profile("throughput", cfg.Duration, stderr)
	stopClientProfile := cfg.clientProfile("throughput", stderr)
	time.Sleep(time.Until(winEnd))
	stopClientProfile()
	u1 := readUsage(cfg)
	stop.Store(true)
	// Cycles in flight finish normally; a poll still waiting (the queue
	// ran dry) is cut short.
	done := make(chan struct{})
	go func() { workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cancelPolls()
		<-done
	}

	profiled()
	var poll, progress, setState, cycle []time.Duration
	for _, ts := range per {
		for _, t := range ts {
			if in(t.finished, winStart, winEnd) {
				res.Tasks++
				cycle = append(cycle, t.finished.Sub(t.pollStart))
			}
			if in(t.polled, winStart, winEnd) {
				poll = append(poll, t.polled.Sub(t.pollStart))
			}
			if in(t.progressed, winStart, winEnd) {
				progress = append(progress, t.progressed.Sub(t.polled))
			}
			if in(t.finished, winStart, winEnd) {
				setState = append(setState, t.finished.Sub(t.progressed))
			}
		}
	}
	res.Seconds = winEnd.Sub(winStart).Seconds()
	res.TasksPerSec = float64(res.Tasks) / res.Seconds
	res.Errors, res.FirstErrors = rec.errs, rec.distinct
	res.EmptyPolls = int(emptyPolls.Load())
	res.Poll, res.Progress, res.SetState, res.Cycle = summarize(poll), summarize(progress), summarize(setState), summarize(cycle)
	res.usage = u1.since(u0)
	if ns := firstTask.Load(); ns > 0 {
		res.FirstTaskms = ms(time.Unix(0, ns).Sub(activated))
	}
	// Stopped pipelines leave the scheduler idle for the phases after.
	if err := deactivate(ctx, c, ids...); err != nil {
		return nil, err
	}
	say(stderr, "throughput: %d tasks in %.1f s: %.0f tasks/s, %d errors", res.Tasks, res.Seconds, res.TasksPerSec, res.Errors)
	return res, nil
}

func in(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }
