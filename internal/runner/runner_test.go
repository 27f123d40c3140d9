package runner

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const attemptOf = "_2026-03-01T10:00:00_Attempt=1"

// a returns the attempt id taskObject gives component.
func a(component string) string { return "@" + component + attemptOf }

var diffEvents = cmp.AllowUnexported(event{})

// TestAckThenProgress checks §9.3 step 2: the runner acknowledges a task
// before it starts the work, reports progress every ProgressInterval
// while it runs, and reports FINISHED when it ends.
func TestAckThenProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		ex := &testExecutor{api: api, duration: map[string]time.Duration{"Work": 150 * time.Second}}
		run := startRunner(testRunner(t, api, ex, func(c *Config) { c.Tasks = 1 }))
		api.tasks <- taskObject("Work", "ShellCommandActivity")
		time.Sleep(10 * time.Minute) // fake time: the task runs its course
		synctest.Wait()
		run.cancel()
		if err := <-run.done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
		want := []event{
			{at: 0, what: "progress", task: a("Work")},
			{at: 0, what: "exec", task: a("Work")},
			{at: 60 * time.Second, what: "progress", task: a("Work")},
			{at: 120 * time.Second, what: "progress", task: a("Work")},
			{at: 150 * time.Second, what: "exec-end", task: a("Work"), status: "done"},
			{at: 150 * time.Second, what: "status", task: a("Work"), status: "FINISHED"},
		}
		if diff := cmp.Diff(want, api.log("progress", "exec", "exec-end", "status"), diffEvents); diff != "" {
			t.Errorf("events mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestCancelAndGone checks that a task the service cancels, or says is no
// longer the runner's, has its work stopped at once and nothing reported
// (§9.3 step 2), and that the slot then polls again.
func TestCancelAndGone(t *testing.T) {
	notFound := &types.TaskNotFoundException{Message: aws.String("no such task")}
	tests := []struct {
		name     string
		progress func(n int) (bool, error)
		want     []event
	}{
		{
			name:     "canceled at acknowledgement",
			progress: func(n int) (bool, error) { return true, nil },
			want:     []event{{at: 0, what: "progress", task: a("Work")}},
		},
		{
			name:     "canceled while running",
			progress: func(n int) (bool, error) { return n == 3, nil },
			want: []event{
				{at: 0, what: "progress", task: a("Work")},
				{at: 0, what: "exec", task: a("Work")},
				{at: 60 * time.Second, what: "progress", task: a("Work")},
				{at: 120 * time.Second, what: "progress", task: a("Work")},
				{at: 120 * time.Second, what: "exec-end", task: a("Work"), status: errCanceled.Error()},
			},
		},
		{
			name: "gone at acknowledgement",
			progress: func(n int) (bool, error) {
				return false, notFound
			},
			want: []event{{at: 0, what: "progress", task: a("Work")}},
		},
		{
			name: "gone while running",
			progress: func(n int) (bool, error) {
				if n == 2 {
					return false, notFound
				}
				return false, nil
			},
			want: []event{
				{at: 0, what: "progress", task: a("Work")},
				{at: 0, what: "exec", task: a("Work")},
				{at: 60 * time.Second, what: "progress", task: a("Work")},
				{at: 60 * time.Second, what: "exec-end", task: a("Work"), status: errTaskGone.Error()},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI()
				api.progress = func(_ string, n int) (bool, error) { return tc.progress(n) }
				ex := &testExecutor{api: api}
				run := startRunner(testRunner(t, api, ex, func(c *Config) { c.Tasks = 1 }))
				api.tasks <- taskObject("Work", "ShellCommandActivity")
				time.Sleep(10 * time.Minute)
				synctest.Wait()
				polls := len(api.log("poll"))
				run.cancel()
				<-run.done
				if diff := cmp.Diff(tc.want, api.log("progress", "exec", "exec-end", "status"), diffEvents); diff != "" {
					t.Errorf("events mismatch (-want +got):\n%s", diff)
				}
				if polls < 2 {
					t.Errorf("%d polls, want the slot to poll again after the task", polls)
				}
			})
		})
	}
}

// TestHeartbeats checks §9.3 step 5: a heartbeat at start and every
// HeartbeatInterval; when one answers terminate the runner stops polling
// at once, lets the running task finish within the grace period, and Run
// returns.
func TestHeartbeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.heartbeat = func(n int) (bool, error) { return n == 4, nil }
		api.hold = 7 * time.Minute // idle polls at 0, 7m, …, 42m, 49m: one crosses the terminate
		ex := &testExecutor{api: api, duration: map[string]time.Duration{"Work": 50 * time.Minute}}
		run := startRunner(testRunner(t, api, ex, func(c *Config) {
			c.Tasks, c.Grace, c.ProgressInterval, c.PollTimeout = 2, 30*time.Minute, 10*time.Minute, 8*time.Minute
		}))
		api.tasks <- taskObject("Work", "ShellCommandActivity")
		start := time.Now()
		err := <-run.done
		if err != nil {
			t.Errorf("Run() = %v, want nil after terminate", err)
		}
		if got, want := time.Since(start), 50*time.Minute; got != want {
			t.Errorf("Run returned %v after start, want %v: when the task finished, within the grace period", got, want)
		}
		var beats []time.Duration
		for _, e := range api.log("heartbeat") {
			beats = append(beats, e.at)
		}
		if diff := cmp.Diff([]time.Duration{0, 15 * time.Minute, 30 * time.Minute, 45 * time.Minute}, beats); diff != "" {
			t.Errorf("heartbeat times mismatch (-want +got):\n%s", diff)
		}
		for _, e := range api.log("poll") {
			if e.at >= 45*time.Minute {
				t.Errorf("poll at %v, after the terminate at 45m", e.at)
			}
		}
		if ends := api.log("poll-end"); len(ends) != 1 || ends[0].at != 45*time.Minute {
			t.Errorf("poll ends %v, want the idle slot's poll canceled at 45m", ends)
		}
		if st := api.log("status"); len(st) != 1 || st[0].status != "FINISHED" || st[0].at != 50*time.Minute {
			t.Errorf("status reports %v, want FINISHED at 50m", st)
		}
	})
}

// TestShutdown stops a runner with three tasks running and one slot
// polling: the poll is canceled at once and no other starts; the task
// that ends within the grace period is reported FINISHED; at the end of
// the grace period the others are killed and handed back: the activity
// FAILED with errorId TaskRunnerShutdown, the precondition FALSE.
// Progress goes on during the grace period.
func TestShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		ex := &testExecutor{api: api, duration: map[string]time.Duration{"Quick": 40 * time.Second}}
		run := startRunner(testRunner(t, api, ex, func(c *Config) { c.Tasks, c.Grace = 4, time.Minute }))
		api.tasks <- taskObject("Quick", "ShellCommandActivity")
		api.tasks <- taskObject("Slow", "ShellCommandActivity")
		api.tasks <- taskObject("Check", "ShellCommandPrecondition")
		time.Sleep(30 * time.Second)
		synctest.Wait()
		run.cancel()
		stopped := time.Now()
		if err := <-run.done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
		if got := time.Since(stopped); got != time.Minute {
			t.Errorf("Run returned %v after its context ended, want the grace period, 1m0s", got)
		}
		want := []event{
			{at: 30 * time.Second, what: "poll-end"},
			{at: 40 * time.Second, what: "exec-end", task: a("Quick"), status: "done"},
			{at: 40 * time.Second, what: "status", task: a("Quick"), status: "FINISHED"},
			{at: 60 * time.Second, what: "progress", task: a("Slow")},
			{at: 60 * time.Second, what: "progress", task: a("Check")},
			{at: 90 * time.Second, what: "exec-end", task: a("Slow"), status: errShutdown.Error()},
			{at: 90 * time.Second, what: "exec-end", task: a("Check"), status: errShutdown.Error()},
			{at: 90 * time.Second, what: "status", task: a("Slow"), status: "FAILED", errorID: "TaskRunnerShutdown"},
			{at: 90 * time.Second, what: "status", task: a("Check"), status: "FALSE", errorID: "TaskRunnerShutdown"},
		}
		var got []event
		for _, e := range api.log() {
			if e.at >= 30*time.Second {
				got = append(got, e)
			}
		}
		sortEvents(got)
		sortEvents(want)
		if diff := cmp.Diff(want, got, diffEvents); diff != "" {
			t.Errorf("events after the stop mismatch (-want +got):\n%s", diff)
		}
	})
}

// sortEvents orders events by time, then kind and task, so that events
// of one instant compare regardless of goroutine order.
func sortEvents(es []event) {
	key := func(e event) string { return e.what + "|" + e.task }
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && (es[j].at < es[j-1].at || es[j].at == es[j-1].at && key(es[j]) < key(es[j-1])); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// TestTaskReceivedWhileStopping hands back, without starting it, a task
// whose poll response crossed the runner's stop.
func TestTaskReceivedWhileStopping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		late := taskObject("Late", "ShellCommandActivity")
		api.pollAfterCancel = func() *types.TaskObject { l := late; late = nil; return l }
		ex := &testExecutor{api: api}
		run := startRunner(testRunner(t, api, ex, func(c *Config) { c.Tasks = 1 }))
		time.Sleep(10 * time.Second)
		run.cancel()
		<-run.done
		want := []event{
			{at: 10 * time.Second, what: "progress", task: a("Late")},
			{at: 10 * time.Second, what: "status", task: a("Late"), status: "FAILED", errorID: "TaskRunnerShutdown"},
		}
		if diff := cmp.Diff(want, api.log("progress", "exec", "status"), diffEvents); diff != "" {
			t.Errorf("events mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestBackoff checks that throttled, failed and unreachable calls are
// tried again after an exponential backoff with jitter (DefaultBackoff:
// between half and all of 250ms, 500ms, 1s, …), and that a call the
// service refuses is not.
func TestBackoff(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	internal := &types.InternalServiceError{Message: aws.String("oops")}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	invalid := &types.InvalidRequestException{Message: aws.String("no")}
	tests := []struct {
		name       string
		statusErrs []error // SetTaskStatus's answers, in order, then success
		wantTries  int
	}{
		{name: "retryable", statusErrs: []error{internal, refused, throttled}, wantTries: 4},
		{name: "refused", statusErrs: []error{invalid}, wantTries: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI()
				api.pollErr = func(n int) error {
					if n <= 3 {
						return throttled
					}
					return nil
				}
				api.setStatus = func(_ *datapipeline.SetTaskStatusInput, n int) error {
					if n <= len(tc.statusErrs) {
						return tc.statusErrs[n-1]
					}
					return nil
				}
				ex := &testExecutor{api: api, duration: map[string]time.Duration{"Work": 0}}
				run := startRunner(testRunner(t, api, ex, func(c *Config) { c.Tasks = 1 }))
				api.tasks <- taskObject("Work", "ShellCommandActivity")
				time.Sleep(time.Minute)
				synctest.Wait()
				run.cancel()
				<-run.done

				polls := api.log("poll")
				for i, d := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second} {
					if gap := polls[i+1].at - polls[i].at; gap < d/2 || gap > d {
						t.Errorf("poll %d came %v after poll %d, want between %v and %v", i+2, gap, i+1, d/2, d)
					}
				}
				status := api.log("status")
				if len(status) != tc.wantTries {
					t.Errorf("SetTaskStatus tried %d times, want %d: %v", len(status), tc.wantTries, status)
				}
				for i := 1; i < len(status); i++ {
					if d := backoffBase << (i - 1); status[i].at-status[i-1].at < d/2 {
						t.Errorf("SetTaskStatus try %d came %v after the one before, want at least %v", i+1, status[i].at-status[i-1].at, d/2)
					}
				}
			})
		})
	}
}

// TestFirstHeartbeat checks the heartbeat Run begins with: one the
// service refuses ends Run with its error, and one that says terminate
// ends it at once, both before any poll; a throttled one is retried.
func TestFirstHeartbeat(t *testing.T) {
	unknownKey := &smithy.GenericAPIError{Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}
	tests := []struct {
		name      string
		heartbeat func(n int) (bool, error)
		wantErr   string
		wantPolls bool
	}{
		{name: "refused", heartbeat: func(int) (bool, error) { return false, unknownKey }, wantErr: "UnrecognizedClientException"},
		{name: "terminate", heartbeat: func(int) (bool, error) { return true, nil }},
		{name: "throttled, then fine", wantPolls: true, heartbeat: func(n int) (bool, error) {
			if n < 3 {
				return false, &smithy.GenericAPIError{Code: "Throttling"}
			}
			return false, nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI()
				api.heartbeat = tc.heartbeat
				run := startRunner(testRunner(t, api, &testExecutor{api: api}, nil))
				time.Sleep(time.Minute)
				synctest.Wait()
				run.cancel()
				err := <-run.done
				if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
					t.Errorf("Run() = %v, want error containing %q", err, tc.wantErr)
				}
				if polled := len(api.log("poll")) > 0; polled != tc.wantPolls {
					t.Errorf("polled: %v, want %v", polled, tc.wantPolls)
				}
			})
		})
	}
}

// TestOutcomes runs tasks whose executors end in every way and checks
// what SetTaskStatus reports.
func TestOutcomes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		execs := Executors{
			"Finishes": ExecutorFunc(func(context.Context, *Job) error { return nil }),
			"Fails": ExecutorFunc(func(context.Context, *Job) error {
				return &TaskError{ID: "DiskFull", Message: "no space left", StackTrace: "at step 2"}
			}),
			"False": ExecutorFunc(func(context.Context, *Job) error {
				return &TaskError{Status: StatusFalse, ID: "PreconditionNotMet", Message: "not yet"}
			}),
			"Errs":   ExecutorFunc(func(context.Context, *Job) error { return errors.New("cannot open the socket") }),
			"Panics": ExecutorFunc(func(context.Context, *Job) error { panic("index out of range") }),
		}
		r := testRunner(t, api, nil, func(c *Config) { c.Executors, c.Tasks = execs, 1 })
		var statuses []*datapipeline.SetTaskStatusInput
		api.setStatus = func(in *datapipeline.SetTaskStatusInput, _ int) error {
			statuses = append(statuses, in)
			return nil
		}
		run := startRunner(r)
		for _, typ := range []string{"Finishes", "Fails", "False", "Errs", "Panics", "Mystery"} {
			api.tasks <- taskObject(typ, typ)
		}
		broken := taskObject("Broken", "Finishes")
		broken.AttemptId = aws.String("@Elsewhere_Attempt=1")
		api.tasks <- broken
		time.Sleep(time.Minute)
		synctest.Wait()
		run.cancel()
		<-run.done

		type outcome struct{ Status, ID, Message, Stack string }
		var got []outcome
		for _, in := range statuses {
			o := outcome{Status: string(in.TaskStatus), ID: aws.ToString(in.ErrorId), Message: aws.ToString(in.ErrorMessage), Stack: aws.ToString(in.ErrorStackTrace)}
			if strings.Contains(o.Stack, "goroutine") {
				o.Stack = "<stack>"
			}
			got = append(got, o)
		}
		want := []outcome{
			{Status: "FINISHED"},
			{Status: "FAILED", ID: "DiskFull", Message: "no space left", Stack: "at step 2"},
			{Status: "FALSE", ID: "PreconditionNotMet", Message: "not yet"},
			{Status: "FAILED", ID: "TaskRunnerError", Message: "cannot open the socket"},
			{Status: "FAILED", ID: "TaskRunnerError", Message: "the Panics executor panicked: index out of range", Stack: "<stack>"},
			{Status: "FAILED", ID: "UnknownTaskType", Message: `culvert's task runner has no executor for type "Mystery"`},
			{Status: "FAILED", ID: "InvalidTaskObject", Message: `task object: the attempt "@Elsewhere_Attempt=1" is not among its objects`},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("reported outcomes mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestStatusInput checks how outcomes become SetTaskStatus inputs at the
// edges: reserved and long errorIds, long stack traces cut at a character
// boundary.
func TestStatusInput(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 600) // 1200 bytes
	tests := []struct {
		name      string
		outcome   error
		wantID    string
		wantStack string
	}{
		{name: "reserved id", outcome: &TaskError{ID: "Service_Oops"}, wantID: "Task_Service_Oops"},
		{name: "no id", outcome: &TaskError{Message: "x"}, wantID: "TaskRunnerError"},
		{name: "long stack", outcome: &TaskError{ID: "X", StackTrace: long}, wantID: "X", wantStack: strings.Repeat("é", 512)},
		{name: "wrapped", outcome: errorsJoin(&TaskError{ID: "Inner"}), wantID: "Inner"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := statusInput("t-1", tc.outcome)
			if got := aws.ToString(in.ErrorId); got != tc.wantID {
				t.Errorf("errorId = %q, want %q", got, tc.wantID)
			}
			if got := aws.ToString(in.ErrorStackTrace); got != tc.wantStack {
				t.Errorf("errorStackTrace = %d bytes, want %d", len(got), len(tc.wantStack))
			}
		})
	}
}

func errorsJoin(err error) error { return errors.Join(errors.New("context"), err) }

// TestNewValidates checks that New names what is missing.
func TestNewValidates(t *testing.T) {
	t.Parallel()
	api := newFakeAPI()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "no API", cfg: Config{WorkerGroup: "wg"}, want: "Config.API"},
		{name: "no worker group", cfg: Config{API: api}, want: "Config.WorkerGroup"},
		{name: "no slots", cfg: Config{API: api, WorkerGroup: "wg", Tasks: -1}, want: "Config.Tasks"},
		{name: "negative grace", cfg: Config{API: api, WorkerGroup: "wg", Grace: -time.Second}, want: "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}
