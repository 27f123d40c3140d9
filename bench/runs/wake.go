package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/measure"
)

// trigger is how a wake makes its one task ready.
type trigger int

const (
	// triggerActivate activates a fresh ondemand pipeline of one
	// activity: the scheduler loads the pipeline, plans its run and
	// enqueues the task.
	triggerActivate trigger = iota
	// triggerRerun sets RERUN on the one finished instance of a running
	// cron pipeline: the scheduler applies the command to a run it holds
	// and enqueues a new attempt's task.
	triggerRerun
)

func (t trigger) String() string {
	if t == triggerRerun {
		return "SetStatus RERUN"
	}
	return "ActivatePipeline"
}

// wakeResult is the outcome of one wake phase.
type wakeResult struct {
	Trigger string `json:"trigger"`
	Pollers int    `json:"pollers"`
	// FromStart is from just before the trigger call is sent to the
	// moment PollForTask returns the task to a waiting poller: an upper
	// bound of the latency from readiness, since the task cannot be ready
	// before the call that makes it so is sent. It includes the trigger
	// call's own round trip.
	FromStart latency `json:"from_call_start"`
	// FromReturn is from the trigger call's return to the delivery,
	// counted as 0 when the task arrived first (BeforeReturn): a lower
	// bound, since the store may have made the task ready before the
	// response reached the client.
	FromReturn   latency `json:"from_call_return"`
	Call         latency `json:"call"`
	BeforeReturn int     `json:"delivered_before_return"`
	// Lost counts wakes whose task did not arrive within 10 s.
	Lost        int                  `json:"lost"`
	Errors      int                  `json:"errors"`
	FirstErrors []measure.ErrorCount `json:"first_errors,omitempty"`
	usage
	Target float64 `json:"target_p99_ms"`
	Call0  string  `json:"trigger_call"`
	// PollEndpoint is where the pollers wait, TriggerEndpoint where the
	// trigger call goes: different nodes when there are several.
	PollEndpoint    string `json:"poll_endpoint"`
	TriggerEndpoint string `json:"trigger_endpoint"`
}

// crossNode reports whether the task was made ready on one node and
// delivered by another.
func (w *wakeResult) crossNode() bool { return w.PollEndpoint != w.TriggerEndpoint }

// maxLostInARow is how many wakes in a row may be lost before a wake
// phase stops.
const maxLostInARow = 3

type delivery struct {
	at   time.Time
	task *types.TaskObject
}

// runWake runs one wake phase. The pollers, and the runner calls that
// finish their tasks, go to the first endpoint; the set-up and the
// trigger calls to the second (endpoint 1 mod n), so that with several
// endpoints the task becomes ready on one node and is delivered by
// another.
func runWake(ctx context.Context, cs []*datapipeline.Client, cfg *config, runID string, trig trigger, stderr io.Writer) (*wakeResult, error) {
	pc, c := cs[0], cs[1%len(cs)]
	kind := map[trigger]string{triggerActivate: "activate", triggerRerun: "rerun"}[trig]
	wg := fmt.Sprintf("wg-wake-%s-%s", kind, runID)
	total := cfg.WakeWarmup + cfg.WakeIterations
	res := &wakeResult{Trigger: trig.String(), Pollers: cfg.WakePollers, Target: ms(cfg.WakeP99Max),
		Call0:        map[trigger]string{triggerActivate: "ActivatePipeline", triggerRerun: "SetStatus"}[trig],
		PollEndpoint: cfg.Endpoints[0], TriggerEndpoint: cfg.Endpoints[1%len(cfg.Endpoints)]}
	say(stderr, "wake (%s): %d pollers waiting on %s, %d wakes (%d not counted)", trig, cfg.WakePollers, wg, total, cfg.WakeWarmup)
	if res.crossNode() {
		say(stderr, "wake (%s): pollers on %s, %s through %s", trig, res.PollEndpoint, res.Call0, res.TriggerEndpoint)
	}

	// Set up: what the triggers will act on.
	var ids []string
	if trig == triggerActivate {
		ids = make([]string, total)
		for i := range ids {
			id, err := createDefined(ctx, c, fmt.Sprintf("wake-%s-%d", runID, i), ondemandDefinition(wg))
			if err != nil {
				return nil, err
			}
			ids[i] = id
		}
	} else {
		id, err := createDefined(ctx, c, "wake-rerun-"+runID, dailyDefinition(wg, time.Now()))
		if err != nil {
			return nil, err
		}
		ids = []string{id}
	}

	rec := &recorder{}
	pollCtx, cancelPolls := context.WithCancel(ctx)
	defer cancelPolls()
	var inPoll atomic.Int32 // pollers with a PollForTask in flight
	deliveries := make(chan delivery, cfg.WakePollers)
	finished := make(chan struct{}, cfg.WakePollers)
	var pollers sync.WaitGroup
	defer pollers.Wait()
	defer cancelPolls()
	for w := range cfg.WakePollers {
		pollers.Go(func() {
			host := fmt.Sprintf("waker-%02d.bench", w)
			for {
				inPoll.Add(1)
				out, err := pc.PollForTask(pollCtx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String(wg), Hostname: aws.String(host)})
				at := time.Now()
				inPoll.Add(-1)
				if pollCtx.Err() != nil {
					return
				}
				if err != nil {
					rec.fail(fmt.Errorf("PollForTask: %w", err))
					// Not a measurement: keeps a failing server from
					// being hammered in a tight loop.
					time.Sleep(100 * time.Millisecond)
					continue
				}
				if out.TaskObject == nil {
					continue
				}
				deliveries <- delivery{at: at, task: out.TaskObject}
				if _, err := pc.ReportTaskProgress(pollCtx, &datapipeline.ReportTaskProgressInput{TaskId: out.TaskObject.TaskId}); err != nil {
					rec.fail(fmt.Errorf("ReportTaskProgress: %w", err))
				} else if _, err := pc.SetTaskStatus(pollCtx, &datapipeline.SetTaskStatusInput{TaskId: out.TaskObject.TaskId, TaskStatus: types.TaskStatusFinished}); err != nil {
					rec.fail(fmt.Errorf("SetTaskStatus: %w", err))
				}
				finished <- struct{}{}
			}
		})
	}

	// await waits for the delivery of a task of pipeline id, and then for
	// its runner to have finished it.
	await := func(id string) (delivery, bool) {
		timeout := time.After(10 * time.Second)
		for {
			select {
			case d := <-deliveries:
				<-finished
				if aws.ToString(d.task.PipelineId) != id {
					rec.fail(fmt.Errorf("a task of pipeline %s arrived, waiting for one of %s", aws.ToString(d.task.PipelineId), id))
					continue
				}
				return d, true
			case <-timeout:
				return delivery{}, false
			}
		}
	}

	var instanceID string
	if trig == triggerRerun {
		// The first instance's task comes with the activation; RERUN
		// then makes a new attempt of that instance each time.
		if err := activate(ctx, c, ids[0]); err != nil {
			return nil, err
		}
		d, ok := await(ids[0])
		if !ok {
			return nil, fmt.Errorf("the first task of %s did not arrive within 10 s", ids[0])
		}
		attempt := aws.ToString(d.task.AttemptId)
		i := strings.LastIndex(attempt, "_Attempt=")
		if i < 0 {
			return nil, fmt.Errorf("attempt id %q has no _Attempt= suffix", attempt)
		}
		instanceID = attempt[:i]
	}

	var fromStart, fromReturn, call []time.Duration
	var u0 usageReading
	lostInARow := 0
	profiled := func() {}
	for i := range total {
		if i == cfg.WakeWarmup {
			u0 = readUsage(cfg)
			// The profile's span is an estimate of the measured wakes'
			// (each is a gap and a few milliseconds); it is for reading,
			// not for the numbers.
			profiled = cfg.profile("wake-"+kind, time.Duration(cfg.WakeIterations)*(cfg.WakeGap+5*time.Millisecond), stderr)
		}
		// Every poller waits before the task is made ready, and the
		// server has had the gap to take in their polls and settle the
		// previous wake's work. This placing of the trigger measures
		// nothing itself.
		for inPoll.Load() < int32(cfg.WakePollers) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(cfg.WakeGap)
		id := ids[0]
		var err error
		t0 := time.Now()
		if trig == triggerActivate {
			id = ids[i]
			err = activate(ctx, c, id)
		} else {
			_, err = c.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: aws.String(id), ObjectIds: []string{instanceID}, Status: aws.String("RERUN")})
		}
		t1 := time.Now()
		if err != nil {
			rec.fail(err)
			continue
		}
		d, ok := await(id)
		if ok {
			lostInARow = 0
		} else if lostInARow++; lostInARow >= maxLostInARow {
			// Each lost wake costs 10 s: a server that does not deliver
			// would keep the run going for an hour.
			if i >= cfg.WakeWarmup {
				res.Lost++
			}
			rec.fail(fmt.Errorf("%d wakes in a row were lost; the phase stopped after %d of %d wakes", lostInARow, i+1, total))
			break
		}
		if i < cfg.WakeWarmup {
			continue
		}
		if !ok {
			res.Lost++
			continue
		}
		fromStart = append(fromStart, d.at.Sub(t0))
		call = append(call, t1.Sub(t0))
		if d.at.Before(t1) {
			res.BeforeReturn++
			fromReturn = append(fromReturn, 0)
		} else {
			fromReturn = append(fromReturn, d.at.Sub(t1))
		}
	}
	res.usage = readUsage(cfg).since(u0)
	profiled()
	res.FromStart, res.FromReturn, res.Call = summarize(fromStart), summarize(fromReturn), summarize(call)
	cancelPolls()
	pollers.Wait()
	res.Errors, res.FirstErrors = rec.errs, rec.distinct
	if trig == triggerRerun {
		if err := deactivate(ctx, c, ids[0]); err != nil {
			return nil, err
		}
	}
	say(stderr, "wake (%s): p50 %.2f ms, p99 %.2f ms from the call's start; %d lost, %d errors",
		trig, res.FromStart.P50ms, res.FromStart.P99ms, res.Lost, res.Errors)
	return res, nil
}
