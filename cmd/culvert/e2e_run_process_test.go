package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// killPhase is where in a task's handling the server may be killed.
type killPhase int

const (
	killClaimed  killPhase = iota // PollForTask returned the task; not yet acknowledged
	killAcked                     // ReportTaskProgress acknowledged it; no status yet
	killFinished                  // SetTaskStatus FINISHED was acknowledged
)

func (k killPhase) String() string {
	return [...]string{"claimed", "acknowledged", "finished"}[k]
}

// killPoint is "kill the server when task n (0-based, in the order the
// runner received them) reaches phase".
type killPoint struct {
	n     int
	phase killPhase
}

// restartingServer is the real culvert binary on one data directory, which
// a test may SIGKILL and start again.
type restartingServer struct {
	t        *testing.T
	bin      string
	data     string
	p        *proc
	c        *datapipeline.Client
	restarts int
}

func (r *restartingServer) start() {
	r.t.Helper()
	r.p = startProc(r.t, r.bin, "--data", r.data, "--poll-wait", "1s", "--log-level", "debug")
	r.c = newClient(r.p.URL, devAccessKeyID, devSecret, nil)
}

// kill9AndRestart kills the server with SIGKILL, checks that it died of
// it, and starts it again on the same data directory.
func (r *restartingServer) kill9AndRestart() {
	r.t.Helper()
	if err := r.p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		r.t.Fatalf("SIGKILL: %v", err)
	}
	err := r.p.wait(r.t, 10*time.Second)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		r.t.Fatalf("culvert exit: %v, want killed by SIGKILL", err)
	}
	r.restarts++
	r.start()
}

// TestRunSurvivesKill9 runs a six-hour backfill of two activities (Load
// dependsOn Extract: 12 instances) with a task runner written with
// aws-sdk-go-v2 against the real binary, and kills the server with SIGKILL
// twice, at random points of the runner's protocol, restarting it on the
// same data directory each time.
//
// The kill points are chosen among moments the runner controls: right
// after PollForTask handed it a task, right after ReportTaskProgress
// acknowledged one, or right after SetTaskStatus FINISHED was
// acknowledged. A task claimed before a kill is acknowledged and completed
// after the restart with the same task id, which proves its claim was
// durable. Killing with a PollForTask or SetTaskStatus in flight is left
// out on purpose: a claim whose response was lost is only reaped (LOST,
// then retried) after the two-minute acknowledgement deadline, too long
// for a test.
//
// Then: every instance is FINISHED, exactly once (12 unique ids); every
// instance has exactly one attempt, so no acknowledged task was handed out
// again as Attempt=2; the runner never received a task twice, nor a task
// of an instance whose task it had completed; dependsOn held; and the
// pipeline is FINISHED.
func TestRunSurvivesKill9(t *testing.T) {
	t.Parallel()
	srv := &restartingServer{t: t, bin: mustBuildBinary(t), data: filepath.Join(t.TempDir(), "data")}
	srv.start()
	ctx := context.Background()

	const (
		occurrences = 6
		workerGroup = "wg-kill9"
		tasks       = 2 * occurrences
	)
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, seed))
	var kills []killPoint
	for len(kills) < 2 {
		k := killPoint{n: rng.IntN(tasks), phase: killPhase(rng.IntN(3))}
		if !slices.Contains(kills, k) {
			kills = append(kills, k)
		}
	}
	t.Logf("seed %d: SIGKILL at %+v", seed, kills)

	id := mustCreate(t, srv.c, "kill9-run", "kill9-run")
	start := time.Now().UTC().Truncate(time.Hour).Add(-occurrences * time.Hour)
	mustPut(t, srv.c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("scheduleType", "cron"), str("failureAndRerunMode", "none"),
				str("role", "DataPipelineDefaultRole"), str("resourceRole", "DataPipelineDefaultResourceRole"),
				str("pipelineLogUri", "s3://logs/"), ref("schedule", "Hourly")),
			object("Hourly", "Hourly", str("type", "Schedule"), str("period", "1 hour"),
				str("startDateTime", start.Format("2006-01-02T15:04:05")), str("occurrences", fmt.Sprint(occurrences))),
			object("Extract", "Extract", str("type", "ShellCommandActivity"), str("workerGroup", workerGroup), str("command", "extract")),
			object("Load", "Load", str("type", "ShellCommandActivity"), str("workerGroup", workerGroup), str("command", "load"),
				ref("dependsOn", "Extract")),
		},
	})
	if _, err := srv.c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}

	var want []string // every instance id
	for i := range occurrences {
		at := start.Add(time.Duration(i) * time.Hour).Format("2006-01-02T15:04:05")
		want = append(want, "@Extract_"+at, "@Load_"+at)
	}
	sort.Strings(want)

	var (
		order      []string            // attempt ids in the order received
		byTask     = map[string]bool{} // task ids received
		byAttempt  = map[string]bool{} // attempt ids received
		completed  = map[string]bool{} // instances whose task was acknowledged FINISHED
		killedAt   = map[killPoint]bool{}
		maybeKill  func(n int, phase killPhase, instance string)
		deadline   = time.Now().Add(30 * time.Second)
		runnerHost = "kill9-runner.test"
	)
	maybeKill = func(n int, phase killPhase, instance string) {
		k := killPoint{n, phase}
		if !slices.Contains(kills, k) || killedAt[k] {
			return
		}
		killedAt[k] = true
		t.Logf("SIGKILL with task %d (%s) %s; %d instances completed", n, instance, phase, len(completed))
		srv.kill9AndRestart()
		// Everything acknowledged before the kill is there after it: the
		// scheduler replays the completed tasks into their instances.
		done := map[string]string{}
		for in := range completed {
			done[in] = "FINISHED"
		}
		waitStatuses(t, srv.c, id, done)
	}

	for n := 0; len(completed) < tasks; n++ {
		var task *types.TaskObject
		for task == nil {
			if time.Now().After(deadline) {
				t.Fatalf("no task within 30 s after %d completed (%v); instances: %v", len(completed), order, instanceStatuses(t, srv.c, id))
			}
			out, err := srv.c.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String(workerGroup), Hostname: aws.String(runnerHost)})
			if err != nil {
				t.Fatalf("PollForTask: %v", err)
			}
			task = out.TaskObject
		}
		taskID, attemptID := aws.ToString(task.TaskId), aws.ToString(task.AttemptId)
		instance, _, _ := strings.Cut(attemptID, "_Attempt=")
		if byTask[taskID] {
			t.Fatalf("task %d: task id %s (%s) received a second time", n, taskID, attemptID)
		}
		if byAttempt[attemptID] {
			t.Fatalf("task %d: attempt %s received a second time, as task %s", n, attemptID, taskID)
		}
		if completed[instance] {
			t.Fatalf("task %d: %s handed out after its instance's task was acknowledged FINISHED", n, attemptID)
		}
		byTask[taskID], byAttempt[attemptID] = true, true
		order = append(order, attemptID)
		maybeKill(n, killClaimed, attemptID)

		prog, err := srv.c.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: task.TaskId})
		if err != nil {
			t.Fatalf("task %d: ReportTaskProgress(%s) after %d restarts: %v", n, attemptID, srv.restarts, err)
		}
		if prog.Canceled {
			t.Fatalf("task %d: %s canceled at acknowledgement", n, attemptID)
		}
		maybeKill(n, killAcked, attemptID)

		if _, err := srv.c.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: task.TaskId, TaskStatus: types.TaskStatusFinished}); err != nil {
			t.Fatalf("task %d: SetTaskStatus(%s, FINISHED) after %d restarts: %v", n, attemptID, srv.restarts, err)
		}
		completed[instance] = true
		maybeKill(n, killFinished, attemptID)
	}
	if srv.restarts != len(kills) {
		t.Fatalf("restarted %d times, want %d", srv.restarts, len(kills))
	}
	c := srv.c
	waitState(t, c, id, "FINISHED")

	// Every attempt was the first, and each instance's appears once.
	wantOrder := make([]string, len(want))
	for i, in := range want {
		wantOrder[i] = in + "_Attempt=1"
	}
	if got := slices.Sorted(slices.Values(order)); !slices.Equal(got, wantOrder) {
		t.Errorf("runner received %v, want each of %v once", order, wantOrder)
	}
	for i, a := range order {
		if rest, ok := strings.CutPrefix(a, "@Load_"); ok && !slices.Contains(order[:i], "@Extract_"+rest) {
			t.Errorf("%s was handed out before @Extract_%s had finished: order %v", a, rest, order)
		}
	}

	ids := queryAll(t, c, id, "INSTANCE")
	if sorted := slices.Sorted(slices.Values(ids)); !slices.Equal(sorted, want) {
		t.Errorf("QueryObjects INSTANCE = %v (%d), want the %d unique ids %v", ids, len(ids), len(want), want)
	}
	objs, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: want})
	if err != nil {
		t.Fatalf("DescribeObjects: %v", err)
	}
	if len(objs.PipelineObjects) != len(want) {
		t.Errorf("DescribeObjects returned %d instances, want %d", len(objs.PipelineObjects), len(want))
	}
	for _, o := range objs.PipelineObjects {
		f := o.Fields
		if s, n, head := field(t, f, "@status"), field(t, f, "@attemptCount"), field(t, f, "@headAttempt"); s != "FINISHED" || n != "1" || head != aws.ToString(o.Id)+"_Attempt=1" {
			t.Errorf("%s: @status %s, @attemptCount %s, @headAttempt %s; want FINISHED, 1, its Attempt=1", aws.ToString(o.Id), s, n, head)
		}
	}
	attempts := queryAll(t, c, id, "ATTEMPT")
	if sorted := slices.Sorted(slices.Values(attempts)); !slices.Equal(sorted, wantOrder) {
		t.Errorf("QueryObjects ATTEMPT = %v, want exactly %v", attempts, wantOrder)
	}

	// Nothing is left to run.
	out, err := c.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String(workerGroup), Hostname: aws.String(runnerHost)})
	if err != nil || out.TaskObject != nil {
		t.Errorf("PollForTask after FINISHED = %+v, %v; want no task", out, err)
	}
	// The restarted server had nothing to complain about.
	for _, line := range strings.Split(srv.p.Log.String(), "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") && strings.Contains(line, "scheduler:") {
			t.Errorf("restarted server logged: %s", line)
		}
	}
}

// queryAll returns every id QueryObjects gives for sphere, following
// markers.
func queryAll(t *testing.T, c *datapipeline.Client, id, sphere string) []string {
	t.Helper()
	var ids []string
	pg := datapipeline.NewQueryObjectsPaginator(c, &datapipeline.QueryObjectsInput{PipelineId: aws.String(id), Sphere: aws.String(sphere)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(context.Background())
		if err != nil {
			t.Fatalf("QueryObjects %s: %v", sphere, err)
		}
		ids = append(ids, page.Ids...)
	}
	return ids
}
