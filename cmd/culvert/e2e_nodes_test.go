package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/pgtest"
)

// cluster is several culvert processes on one PostgreSQL database, behind
// a round-robin HTTP load balancer that the tests' clients talk to.
type cluster struct {
	t     *testing.T
	bin   string
	url   string // the database
	args  []string
	nodes []*proc
	lb    *balancer
	c     *datapipeline.Client // through the balancer
}

// startCluster starts n nodes on the database at dbURL, each with args.
func startCluster(t *testing.T, dbURL string, n int, args ...string) *cluster {
	t.Helper()
	cl := &cluster{t: t, bin: mustBuildBinary(t), url: dbURL, args: args}
	for range n {
		cl.nodes = append(cl.nodes, cl.startNode())
	}
	var backends []string
	for _, p := range cl.nodes {
		backends = append(backends, p.URL)
	}
	cl.lb = newBalancer(t, backends)
	cl.c = newClient(cl.lb.URL(), devAccessKeyID, devSecret, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}})
	return cl
}

func (cl *cluster) startNode() *proc {
	cl.t.Helper()
	return startProc(cl.t, cl.bin, append([]string{"--database-url", cl.url, "--data", cl.t.TempDir(),
		"--embedded-runner=false", "--log-level", "debug"}, cl.args...)...)
}

// health is a node's GET /healthz?detail.
type health struct {
	Status string `json:"status"`
	Store  string `json:"store"`
	Node   string `json:"node"`
	Leader struct {
		Shared  bool   `json:"shared"`
		Self    bool   `json:"self"`
		Holder  string `json:"holder"`
		Term    int64  `json:"term"`
		Changes int64  `json:"changes"`
	} `json:"leader"`
}

func nodeHealth(baseURL string) (*health, error) {
	resp, err := http.Get(baseURL + "healthz?detail")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var h health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return nil, err
	}
	return &h, nil
}

// leader waits up to d for exactly one live node to lead and returns its
// index.
func (cl *cluster) leader(d time.Duration, skip ...int) int {
	cl.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var leaders []int
		for i, p := range cl.nodes {
			if slices.Contains(skip, i) {
				continue
			}
			if h, err := nodeHealth(p.URL); err == nil && h.Leader.Self {
				leaders = append(leaders, i)
			}
		}
		if len(leaders) == 1 {
			return leaders[0]
		}
		if len(leaders) > 1 {
			cl.t.Fatalf("nodes %v all say they lead", leaders)
		}
		if time.Now().After(deadline) {
			cl.t.Fatalf("no node leads after %v", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill9 kills node i with SIGKILL and takes it out of the balancer.
func (cl *cluster) kill9(i int) {
	cl.t.Helper()
	cl.lb.remove(cl.nodes[i].URL)
	if err := cl.nodes[i].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		cl.t.Fatalf("SIGKILL: %v", err)
	}
	err := cl.nodes[i].wait(cl.t, 10*time.Second)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		cl.t.Fatalf("culvert exit: %v, want killed by SIGKILL", err)
	}
}

// balancer is a round-robin reverse proxy, as a load balancer in front of
// the nodes would be: every request may go to another node. It keeps the
// client's Host header, which the SigV4 signature covers.
type balancer struct {
	srv *httptest.Server

	mu       sync.Mutex
	backends []*url.URL
	next     int
}

func newBalancer(t *testing.T, backends []string) *balancer {
	b := &balancer{}
	for _, s := range backends {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		b.backends = append(b.backends, u)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(b.pick())
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		// Polls the test cancels when it stops its pollers are not news.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	b.srv = httptest.NewServer(proxy)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *balancer) URL() string { return b.srv.URL }

func (b *balancer) pick() *url.URL {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	return b.backends[b.next%len(b.backends)]
}

// remove takes a backend out, as a balancer's health check would.
func (b *balancer) remove(backend string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = slices.DeleteFunc(b.backends, func(u *url.URL) bool { return u.String()+"/" == backend || u.String() == backend })
}

// backfillObjects is a cron pipeline of n activities on a 15-minute
// schedule with the given occurrences, each activity allowed maxActive
// instances at once: n×occurrences tasks in all, n×maxActive ready at a
// time. defaults are more fields of its Default object.
func backfillObjects(n, occurrences, maxActive int, workerGroup string, defaults ...types.Field) []types.PipelineObject {
	start := time.Now().UTC().Truncate(15 * time.Minute).Add(-time.Duration(occurrences+1) * 15 * time.Minute)
	objs := []types.PipelineObject{
		object("Default", "Default", append([]types.Field{str("scheduleType", "cron"), ref("schedule", "Quarterly"),
			str("failureAndRerunMode", "none"), str("maxActiveInstances", fmt.Sprint(maxActive)),
			str("role", "DataPipelineDefaultRole"), str("resourceRole", "DataPipelineDefaultResourceRole"),
			str("pipelineLogUri", "s3://logs/")}, defaults...)...),
		object("Quarterly", "Quarterly", str("type", "Schedule"), str("period", "15 minutes"),
			str("startDateTime", start.Format("2006-01-02T15:04:05")), str("occurrences", fmt.Sprint(occurrences))),
	}
	for i := range n {
		id := fmt.Sprintf("Activity%02d", i)
		objs = append(objs, object(id, id, str("type", "ShellCommandActivity"), str("workerGroup", workerGroup), str("command", "true")))
	}
	return objs
}

// workLog is what the pollers of a test saw.
type workLog struct {
	mu        sync.Mutex
	delivered map[string]int    // task id → times delivered
	attempt   map[string]string // task id → attempt id
	acked     map[string]bool   // task ids whose FINISHED the server acknowledged
	finished  atomic.Int64
	errs      atomic.Int64
	lastErr   atomic.Value
}

func newWorkLog() *workLog {
	return &workLog{delivered: map[string]int{}, attempt: map[string]string{}, acked: map[string]bool{}}
}

// poll runs a poller until ctx ends: PollForTask, then SetTaskStatus
// FINISHED, retrying a status report the cluster could not take (a node
// died, the database restarted) until it is acknowledged or refused.
func (w *workLog) poll(ctx context.Context, c *datapipeline.Client, workerGroup, host string) {
	for ctx.Err() == nil {
		out, err := c.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String(workerGroup), Hostname: aws.String(host)})
		if err != nil {
			w.failed(err)
			continue
		}
		if out.TaskObject == nil {
			continue
		}
		id := aws.ToString(out.TaskObject.TaskId)
		w.mu.Lock()
		w.delivered[id]++
		w.attempt[id] = aws.ToString(out.TaskObject.AttemptId)
		w.mu.Unlock()
		for try := 0; ctx.Err() == nil; try++ {
			_, err := c.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: aws.String(id), TaskStatus: types.TaskStatusFinished})
			if err == nil {
				w.mu.Lock()
				w.acked[id] = true
				w.mu.Unlock()
				w.finished.Add(1)
				break
			}
			var nf *types.TaskNotFoundException
			if errors.As(err, &nf) {
				// Its lease ended while the cluster could not be
				// reached: the attempt is over, and a retry is a
				// new task.
				break
			}
			w.failed(err)
		}
	}
}

func (w *workLog) failed(err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	w.errs.Add(1)
	w.lastErr.Store(err.Error())
	time.Sleep(50 * time.Millisecond)
}

// pollers starts n pollers and returns a function that stops them and
// waits for them.
func (w *workLog) pollers(c *datapipeline.Client, n int, workerGroup string) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { w.poll(ctx, c, workerGroup, fmt.Sprintf("poller-%d", i)) })
	}
	return func() { cancel(); wg.Wait() }
}

// waitFinished waits until n tasks were acknowledged FINISHED.
func (w *workLog) waitFinished(t *testing.T, n int64, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for w.finished.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d tasks finished after %v, want %d (%d errors, last: %v)", w.finished.Load(), d, n, w.errs.Load(), w.lastErr.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// countStatus counts a pipeline's instances with @status status.
func countStatus(t *testing.T, c *datapipeline.Client, id, status string) int {
	t.Helper()
	n := 0
	pg := datapipeline.NewQueryObjectsPaginator(c, &datapipeline.QueryObjectsInput{
		PipelineId: aws.String(id), Sphere: aws.String("INSTANCE"), Limit: aws.Int32(500),
		Query: &types.Query{Selectors: []types.Selector{{FieldName: aws.String("@status"),
			Operator: &types.Operator{Type: types.OperatorTypeEqual, Values: []string{status}}}}},
	})
	for pg.HasMorePages() {
		page, err := pg.NextPage(context.Background())
		if err != nil {
			t.Fatalf("QueryObjects: %v", err)
		}
		n += len(page.Ids)
	}
	return n
}

// TestNodesShareOneQueue runs 5,000 tasks through three nodes on one
// PostgreSQL, polled by 32 pollers through a round-robin balancer, so that
// claims race across nodes and most tasks are completed on another node
// than the one that handed them out: every task is delivered exactly once,
// every instance has one attempt and finishes, and one node leads.
func TestNodesShareOneQueue(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, pgtest.NewDatabase(t).URL(), 3, "--poll-wait", "2s")
	const (
		activities  = 20
		occurrences = 250
		total       = activities * occurrences
		workerGroup = "wg-nodes"
	)
	ctx := context.Background()
	t0 := time.Now()
	id := mustCreate(t, cl.c, "nodes", "nodes")
	mustPut(t, cl.c, id, &datapipeline.PutPipelineDefinitionInput{PipelineObjects: backfillObjects(activities, occurrences, 5, workerGroup)})
	if _, err := cl.c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	w := newWorkLog()
	stop := w.pollers(cl.c, 32, workerGroup)
	began := time.Now()
	w.waitFinished(t, total, 5*time.Minute)
	took := time.Since(began)
	stop()
	t.Logf("%d tasks through 3 nodes in %v (%.0f tasks/s), %d errors; started %v after the nodes", total, took.Round(time.Millisecond), total/took.Seconds(), w.errs.Load(), began.Sub(t0).Round(time.Millisecond))
	t1 := time.Now()
	defer func() { t.Logf("checks took %v", time.Since(t1).Round(time.Millisecond)) }()

	for task, n := range w.delivered {
		if n != 1 {
			t.Errorf("task %s delivered %d times", task, n)
		}
	}
	if len(w.delivered) != total {
		t.Errorf("%d tasks delivered, want %d", len(w.delivered), total)
	}
	if n := w.errs.Load(); n != 0 {
		t.Errorf("%d calls failed; last: %v", n, w.lastErr.Load())
	}
	waitState(t, cl.c, id, "FINISHED")
	if got := len(queryAll(t, cl.c, id, "INSTANCE")); got != total {
		t.Errorf("%d instances, want %d", got, total)
	}
	if got := len(queryAll(t, cl.c, id, "ATTEMPT")); got != total {
		t.Errorf("%d attempts, want %d: one each", got, total)
	}
	if got := countStatus(t, cl.c, id, "FINISHED"); got != total {
		t.Errorf("%d instances FINISHED, want %d", got, total)
	}
	cl.leader(5 * time.Second)
}

// TestNodesWakeEachOther checks that a poller waiting on one node gets a
// task made ready through another at once, not at its next look: the
// nodes poll for 30 seconds and look again only every 5 (the safety net),
// so a delivery within a second was a wake-up.
func TestNodesWakeEachOther(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, pgtest.NewDatabase(t).URL(), 2, "--poll-wait", "30s")
	ctx := context.Background()
	a := newClient(cl.nodes[0].URL, devAccessKeyID, devSecret, nil)
	b := newClient(cl.nodes[1].URL, devAccessKeyID, devSecret, nil)
	id := mustCreate(t, b, "wake", "wake")
	mustPut(t, b, id, &datapipeline.PutPipelineDefinitionInput{PipelineObjects: []types.PipelineObject{
		object("Default", "Default", str("scheduleType", "ondemand"), str("role", "DataPipelineDefaultRole"),
			str("resourceRole", "DataPipelineDefaultResourceRole"), str("pipelineLogUri", "s3://logs/")),
		object("Wake", "Wake", str("type", "ShellCommandActivity"), str("workerGroup", "wg-wake"), str("command", "true")),
	}})
	for round := range 3 {
		got := make(chan *types.TaskObject, 1)
		go func() {
			out, err := a.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String("wg-wake")})
			if err != nil {
				t.Error(err)
			}
			got <- out.TaskObject
		}()
		time.Sleep(300 * time.Millisecond) // the poll is waiting on node A
		// An ondemand run is named by its activation second, so an
		// activation in the second of the last run's waits for the next.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
		activated := time.Now()
		if _, err := b.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
		task := <-got
		if task == nil {
			t.Fatalf("round %d: the poll on node A returned no task", round)
		}
		took := time.Since(activated)
		t.Logf("round %d: activated on B, delivered on A after %v", round, took.Round(time.Microsecond))
		if took > time.Second {
			t.Errorf("round %d: delivered %v after activation on another node; a wake-up takes milliseconds", round, took)
		}
		if _, err := a.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: task.TaskId, TaskStatus: types.TaskStatusFinished}); err != nil {
			t.Fatal(err)
		}
		waitState(t, b, id, "FINISHED")
	}
}

// TestNodesSurviveFailures kills the leading node with SIGKILL in the
// middle of a backfill, then crashes PostgreSQL itself, while 16 pollers
// work through a balancer: another node takes over within the lease TTL,
// the nodes reconnect to the restarted database, every status the cluster
// acknowledged is kept, and the pipeline finishes with each instance once.
func TestNodesSurviveFailures(t *testing.T) {
	t.Parallel()
	srv := pgtest.StartServer(t, pgtest.ServerOptions{Durable: true})
	if srv == nil {
		return
	}
	db, err := srv.CreateDatabase(context.Background(), "failures")
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 2 * time.Second
	// A claim whose response a killed node or the crashed database never
	// sent is reaped after the acknowledgement deadline, shortened here
	// from two minutes, and retried after retryDelay, at its finest.
	cl := startCluster(t, db.URL(), 3, "--poll-wait", "1s", "--leader-ttl", ttl.String(),
		"--limit", "ackTimeout=3s", "--limit", "minRetryDelay=1m")
	const (
		activities  = 10
		occurrences = 60
		total       = activities * occurrences
		workerGroup = "wg-failures"
	)
	ctx := context.Background()
	id := mustCreate(t, cl.c, "failures", "failures")
	mustPut(t, cl.c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: backfillObjects(activities, occurrences, 3, workerGroup, str("retryDelay", "1 minutes"))})
	if _, err := cl.c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	w := newWorkLog()
	stop := w.pollers(cl.c, 16, workerGroup)
	defer stop()

	// The leader dies a third of the way in.
	w.waitFinished(t, total/3, 2*time.Minute)
	old := cl.leader(5 * time.Second)
	before, err := nodeHealth(cl.nodes[(old+1)%3].URL)
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	cl.kill9(old)
	next := cl.leader(ttl+3*time.Second, old)
	took := time.Since(killed)
	t.Logf("node %d took over from node %d %v after its SIGKILL (lease TTL %v)", next, old, took.Round(time.Millisecond), ttl)
	if took > ttl+time.Second {
		t.Errorf("took over %v after the leader died, want within the lease TTL %v (and a poll)", took, ttl)
	}
	after, err := nodeHealth(cl.nodes[next].URL)
	if err != nil {
		t.Fatal(err)
	}
	if after.Leader.Term <= before.Leader.Term {
		t.Errorf("term after the take-over = %d, want above %d", after.Leader.Term, before.Leader.Term)
	}

	// PostgreSQL crashes two thirds of the way in.
	w.waitFinished(t, 2*total/3, 2*time.Minute)
	w.mu.Lock()
	ackedBefore := make([]string, 0, len(w.acked))
	for task := range w.acked {
		ackedBefore = append(ackedBefore, task)
	}
	w.mu.Unlock()
	if err := srv.Restart(ctx, true); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL crashed and restarted with %d statuses acknowledged", len(ackedBefore))

	waitStateWithin(t, cl.c, id, "FINISHED", 3*time.Minute)
	stop()
	for task, n := range w.delivered {
		if n != 1 {
			t.Errorf("task %s delivered %d times", task, n)
		}
	}
	// Each instance exactly once and finished; a claim lost with a node
	// or the database is a second attempt of the same instance.
	if got := len(queryAll(t, cl.c, id, "INSTANCE")); got != total {
		t.Errorf("%d instances, want %d", got, total)
	}
	if got := countStatus(t, cl.c, id, "FINISHED"); got != total {
		t.Errorf("%d instances FINISHED, want %d", got, total)
	}
	t.Logf("%d attempts for %d instances: %d claims were lost with the node or the database and retried",
		len(queryAll(t, cl.c, id, "ATTEMPT")), total, len(queryAll(t, cl.c, id, "ATTEMPT"))-total)
	// Every acknowledged status survived the crash: its attempt is
	// FINISHED.
	var attempts []string
	w.mu.Lock()
	for _, task := range ackedBefore {
		attempts = append(attempts, w.attempt[task])
	}
	w.mu.Unlock()
	statuses := objectStatuses(t, cl.c, id, attempts)
	if len(statuses) != len(attempts) {
		t.Errorf("DescribeObjects found %d of the %d attempts acknowledged before the crash", len(statuses), len(attempts))
	}
	for att, st := range statuses {
		if st != "FINISHED" {
			t.Errorf("attempt %s acknowledged FINISHED before the crash is %s after it", att, st)
		}
	}
	t.Logf("%d tasks delivered in all, %d failed calls while nodes and the database were down", len(w.delivered), w.errs.Load())
}

// waitStateWithin is waitState with a deadline of the caller's.
func waitStateWithin(t *testing.T, c *datapipeline.Client, id, want string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	var last string
	for time.Now().Before(deadline) {
		out, err := c.DescribePipelines(context.Background(), &datapipeline.DescribePipelinesInput{PipelineIds: []string{id}})
		if err == nil && len(out.PipelineDescriptionList) == 1 {
			for _, f := range out.PipelineDescriptionList[0].Fields {
				if aws.ToString(f.Key) == "@pipelineState" {
					last = aws.ToString(f.StringValue)
				}
			}
			if last == want {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("pipeline state %q after %v, want %q", last, d, want)
}

// objectStatuses returns @status of the named objects, 25 at a time.
func objectStatuses(t *testing.T, c *datapipeline.Client, id string, ids []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for chunk := range slices.Chunk(ids, 25) {
		objs, err := c.DescribeObjects(context.Background(), &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: chunk})
		if err != nil {
			t.Fatalf("DescribeObjects: %v", err)
		}
		for _, o := range objs.PipelineObjects {
			out[aws.ToString(o.Id)] = field(t, o.Fields, "@status")
		}
	}
	return out
}
