package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/google/go-cmp/cmp"
)

// Process-level tests run the real binary, for what only a process can
// show: a kill -9, signals, and two processes on one data directory.

// durableDefinition is the definition put on pipeline i: distinct per
// pipeline, with characters that JSON escapes or encodes as multi-byte
// UTF-8, so a definition mangled on its way to disk or back shows.
func durableDefinition(i int) *datapipeline.PutPipelineDefinitionInput {
	tag := fmt.Sprintf("%03d", i)
	return &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("scheduleType", "ondemand"), str("role", "DataPipelineDefaultRole"),
				str("resourceRole", "DataPipelineDefaultResourceRole"), str("pipelineLogUri", "s3://logs/"+tag+"/")),
			object("Act"+tag, "Activity \""+tag+"\" – ✓ <&>",
				str("type", "ShellCommandActivity"),
				str("command", "echo 'pipeline "+tag+"'\n\tprintf '%s\\n' \"$HOME\" \u00e9\u4e2d\U0001F600"),
				str("scriptArgument", "a-"+tag),
				str("scriptArgument", "b-"+tag),
				ref("runsOn", "Res"+tag)),
			object("Res"+tag, "Resource "+tag, str("type", "Ec2Resource"), str("terminateAfter", fmt.Sprintf("%d minutes", 15+i))),
		},
		ParameterObjects: []types.ParameterObject{{Id: aws.String("myParam"), Attributes: []types.ParameterAttribute{
			{Key: aws.String("type"), StringValue: aws.String("String")},
			{Key: aws.String("default"), StringValue: aws.String("default-" + tag)},
		}}},
		ParameterValues: []types.ParameterValue{{Id: aws.String("myParam"), StringValue: aws.String("value-" + tag)}},
	}
}

// TestDurabilityAcrossKill9 creates pipelines with definitions from many
// clients at once, kills the server with SIGKILL at a random moment while
// requests are in flight, restarts it on the same data directory, and
// checks that everything acknowledged before the kill is there, exactly.
func TestDurabilityAcrossKill9(t *testing.T) {
	t.Parallel()
	bin := mustBuildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	p := startProc(t, bin, "--data", data, "--poll-wait", "1s")

	const (
		pipelines = 200
		workers   = 16
	)
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, seed))
	// Kill after between 10% and 90% of the 400 writes are acknowledged.
	killAfter := int64(40 + rng.IntN(320))
	t.Logf("seed %d: SIGKILL after %d acknowledged writes", seed, killAfter)

	type record struct {
		id      string
		created bool // CreatePipeline acknowledged
		putAck  bool // PutPipelineDefinition acknowledged
	}
	var (
		mu      sync.Mutex
		records = make([]record, pipelines)
		acked   atomic.Int64
		killed  = make(chan struct{})
		kill    sync.Once
	)
	doKill := func() {
		kill.Do(func() {
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Errorf("SIGKILL: %v", err)
			}
			close(killed)
		})
	}
	ack := func() {
		if acked.Add(1) == killAfter {
			doKill()
		}
	}

	c := newClient(p.URL, devAccessKeyID, devSecret, nil)
	work := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			ctx := context.Background()
			for i := range work {
				out, err := c.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{
					Name: aws.String(fmt.Sprintf("durable-%03d", i)), UniqueId: aws.String(fmt.Sprintf("token-%03d", i)),
				})
				if err != nil {
					continue // the server is gone; the rest fail too
				}
				mu.Lock()
				records[i].id, records[i].created = aws.ToString(out.PipelineId), true
				mu.Unlock()
				ack()
				in := durableDefinition(i)
				in.PipelineId = out.PipelineId
				put, err := c.PutPipelineDefinition(ctx, in)
				if err != nil {
					continue
				}
				if put.Errored {
					t.Errorf("pipeline %d: definition errored: %v", i, put.ValidationErrors)
				}
				mu.Lock()
				records[i].putAck = true
				mu.Unlock()
				ack()
			}
		})
	}
	go func() {
		defer close(work)
		for i := range pipelines {
			select {
			case work <- i:
			case <-killed:
				return
			}
		}
	}()
	wg.Wait()
	doKill() // in case every write finished first
	if err := p.wait(t, 10*time.Second); err == nil {
		t.Fatalf("culvert exited cleanly, want death by SIGKILL")
	}
	// Whether the process died of the signal, not of something else.
	var exitErr *exec.ExitError
	if err := p.waitEr; !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("culvert exit: %v, want killed by SIGKILL", err)
	}

	var nCreated, nPut int
	for _, r := range records {
		if r.created {
			nCreated++
		}
		if r.putAck {
			nPut++
		}
	}
	t.Logf("acknowledged before the kill: %d creates, %d definitions", nCreated, nPut)
	if nCreated == 0 {
		t.Fatal("nothing was acknowledged before the kill")
	}

	p2 := startProc(t, bin, "--data", data, "--poll-wait", "1s")
	c2 := newClient(p2.URL, devAccessKeyID, devSecret, nil)
	ctx := context.Background()

	listed := map[string]bool{}
	for pg := datapipeline.NewListPipelinesPaginator(c2, &datapipeline.ListPipelinesInput{}); pg.HasMorePages(); {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListPipelines after restart: %v", err)
		}
		for _, e := range page.PipelineIdList {
			listed[aws.ToString(e.Id)] = true
		}
	}
	for i, r := range records {
		if !r.created {
			continue
		}
		if !listed[r.id] {
			t.Errorf("pipeline %d (%s): acknowledged, but not listed after restart", i, r.id)
			continue
		}
		got, err := c2.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(r.id)})
		if err != nil {
			t.Errorf("pipeline %d (%s): GetPipelineDefinition after restart: %v", i, r.id, err)
			continue
		}
		want := durableDefinition(i)
		if !r.putAck && len(got.PipelineObjects) == 0 {
			continue // the put was in flight at the kill and did not land: allowed
		}
		if diff := cmp.Diff(want.PipelineObjects, got.PipelineObjects, sdkCmp); diff != "" {
			t.Errorf("pipeline %d (%s, put acknowledged: %v): objects after restart mismatch (-put +got):\n%s", i, r.id, r.putAck, diff)
		}
		if diff := cmp.Diff(want.ParameterObjects, got.ParameterObjects, sdkCmp); diff != "" {
			t.Errorf("pipeline %d (%s): parameterObjects after restart mismatch (-put +got):\n%s", i, r.id, diff)
		}
		if diff := cmp.Diff(want.ParameterValues, got.ParameterValues, sdkCmp); diff != "" {
			t.Errorf("pipeline %d (%s): parameterValues after restart mismatch (-put +got):\n%s", i, r.id, diff)
		}
		// Idempotency survives the restart too.
		again, err := c2.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{
			Name: aws.String(fmt.Sprintf("durable-%03d", i)), UniqueId: aws.String(fmt.Sprintf("token-%03d", i)),
		})
		if err != nil || aws.ToString(again.PipelineId) != r.id {
			t.Errorf("pipeline %d: CreatePipeline after restart = %v, %v; want the acknowledged id %s", i, again, err, r.id)
		}
	}

	// The restarted server stops cleanly.
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p2.wait(t, 10*time.Second); err != nil {
		t.Errorf("restarted culvert after SIGTERM: %v, want exit 0", err)
	}
}

// TestDataDirLocked checks that a second culvert on a data directory in use
// fails to start with a clear error, leaves the first serving, and can start
// once the first has stopped.
func TestDataDirLocked(t *testing.T) {
	t.Parallel()
	bin := mustBuildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	first := startProc(t, bin, "--data", data)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	second := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0", "--data", data)
	second.Env = hermeticEnv()
	out, err := second.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 {
		t.Fatalf("second culvert on %s: %v, want exit status 2\n%s", data, err, out)
	}
	if !strings.Contains(string(out), "in use by another culvert process") {
		t.Errorf("second culvert's error does not say the data directory is in use:\n%s", out)
	}
	if strings.Contains(string(out), "culvert listening") {
		t.Errorf("second culvert listened before failing:\n%s", out)
	}

	c := newClient(first.URL, devAccessKeyID, devSecret, nil)
	id, err := c.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("still"), UniqueId: aws.String("serving")})
	if err != nil {
		t.Fatalf("first culvert after the second failed: %v", err)
	}

	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := first.wait(t, 10*time.Second); err != nil {
		t.Fatalf("first culvert after SIGTERM: %v", err)
	}
	third := startProc(t, bin, "--data", data)
	d, err := newClient(third.URL, devAccessKeyID, devSecret, nil).DescribePipelines(ctx,
		&datapipeline.DescribePipelinesInput{PipelineIds: []string{aws.ToString(id.PipelineId)}})
	if err != nil || len(d.PipelineDescriptionList) != 1 {
		t.Errorf("culvert restarted on the freed directory: DescribePipelines = %v; want the first's pipeline", err)
	}
}

// TestSIGTERMEndsLongPoll checks graceful shutdown with a PollForTask long
// poll in flight: the process exits 0 within seconds, not after the 30s
// hold, and the poll ends with an empty answer or a closed connection.
func TestSIGTERMEndsLongPoll(t *testing.T) {
	t.Parallel()
	bin := mustBuildBinary(t)
	p := startProc(t, bin, "--data", filepath.Join(t.TempDir(), "data"), "--poll-wait", "30s")
	c := newClient(p.URL, devAccessKeyID, devSecret, &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()})

	type result struct {
		out *datapipeline.PollForTaskOutput
		err error
		at  time.Time
	}
	sent := make(chan struct{})
	var once sync.Once
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(func() { close(sent) }) }}
	ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(context.Background(), trace), 60*time.Second)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		out, err := c.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String("wg-shutdown")})
		done <- result{out, err, time.Now()}
	}()
	select {
	case <-sent:
	case r := <-done:
		t.Fatalf("PollForTask returned before SIGTERM: %+v", r)
	case <-time.After(10 * time.Second):
		t.Fatal("PollForTask request not sent within 10s")
	}
	// Let the server reach the wait; a poll that ended already would show.
	time.Sleep(200 * time.Millisecond)
	select {
	case r := <-done:
		t.Fatalf("PollForTask returned before SIGTERM, with a 30s --poll-wait: %+v", r)
	default:
	}

	term := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 5*time.Second); err != nil {
		t.Errorf("culvert after SIGTERM: %v, want exit 0", err)
	}
	t.Logf("exited %v after SIGTERM", time.Since(term).Round(time.Millisecond))
	if !strings.Contains(p.Log.String(), "shutting down") {
		t.Errorf("culvert did not log its shutdown")
	}

	select {
	case r := <-done:
		if r.err != nil {
			t.Logf("poll ended %v after SIGTERM with %v", r.at.Sub(term).Round(time.Millisecond), r.err)
		} else {
			t.Logf("poll ended %v after SIGTERM with taskObject %+v", r.at.Sub(term).Round(time.Millisecond), r.out.TaskObject)
		}
		switch {
		case r.err == nil && r.out.TaskObject != nil:
			t.Errorf("PollForTask at shutdown returned task %+v, want none", r.out.TaskObject)
		case r.err != nil && (errors.Is(r.err, context.DeadlineExceeded) || errorCode(r.err) != ""):
			t.Errorf("PollForTask at shutdown: %v, want an empty answer or a closed connection", r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("PollForTask still waiting 5s after the server exited")
	}
}
