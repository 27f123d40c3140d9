package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/measure"
)

// Phase names, in the order they run. compare.go refers to them too.
const (
	phaseCreate      = "create"
	phasePut         = "put"
	phaseGet         = "get"
	phaseDescObjects = "describe-objects"
	phaseDescPipes1  = "describe-pipelines-1"
	phaseDescPipes25 = "describe-pipelines-25"
	phaseList        = "list"
)

// idsPerCall is the most ids DescribeObjects and DescribePipelines take.
const idsPerCall = 25

// phase is one timed stage of a run. Operation i of a phase works on item
// i % size of the phase's set.
type phase struct {
	name string
	size int
	// fixed phases (the writes) run exactly size operations; the others
	// run for --duration, capped by --max-ops.
	fixed bool
	// op runs operation i through c, the client of the worker's endpoint.
	op func(ctx context.Context, c *datapipeline.Client, i int) (items int, err error)
}

// runner runs phases against the endpoints and collects their results.
type runner struct {
	cfg     *config
	clients []*datapipeline.Client // one per endpoint
	rep     *report
	stderr  io.Writer
}

// client returns the client of worker w: endpoint w mod n, so that the
// workers spread evenly over the endpoints.
func (r *runner) client(w int) *datapipeline.Client {
	return r.clients[w%len(r.clients)]
}

func run(ctx context.Context, cfg *config, stderr io.Writer) (*report, error) {
	objs := definition(cfg.Objects)
	objIDs := objectIDs(objs)
	r := &runner{cfg: cfg, clients: newClients(cfg), stderr: stderr, rep: &report{
		Label:    cfg.Label,
		Started:  time.Now().UTC(),
		Config:   cfg,
		Client:   thisClient(),
		DefBytes: wireSize("df-00000000000000000000", objs),
	}}

	// Pipelines already in the account (from an earlier run against the
	// same server) are counted, untimed, so the listing can be checked.
	before, err := r.listAll(ctx, r.client(0), nil)
	if err != nil {
		return nil, fmt.Errorf("initial ListPipelines: %w", err)
	}

	// a. create N pipelines.
	runID := fmt.Sprintf("%08x", rand.Uint32())
	created := make([]string, cfg.Pipelines)
	if err := r.runPhase(ctx, phase{name: phaseCreate, size: cfg.Pipelines, fixed: true, op: func(ctx context.Context, c *datapipeline.Client, i int) (int, error) {
		name := fmt.Sprintf("bench-%s-%05d", runID, i)
		out, err := c.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{
			Name:        aws.String(name),
			UniqueId:    aws.String(name),
			Description: aws.String("culvert load generator"),
		})
		if err != nil {
			return 0, err
		}
		if aws.ToString(out.PipelineId) == "" {
			return 0, errors.New("CreatePipeline returned no pipelineId")
		}
		created[i] = aws.ToString(out.PipelineId)
		return 1, nil
	}}); err != nil {
		return nil, err
	}
	pipes := compact(created)
	if len(pipes) == 0 {
		return nil, errors.New("no pipeline was created; see the errors above")
	}
	defined := pipes[:min(cfg.Defined, len(pipes))]

	// b. put the definition on M of them.
	definedOK := make([]string, len(defined))
	if err := r.runPhase(ctx, phase{name: phasePut, size: len(defined), fixed: true, op: func(ctx context.Context, c *datapipeline.Client, i int) (int, error) {
		out, err := c.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{
			PipelineId:      aws.String(defined[i]),
			PipelineObjects: objs,
		})
		if err != nil {
			return 0, err
		}
		if out.Errored {
			return 0, fmt.Errorf("definition reported errored: %d objects with errors, first %v", len(out.ValidationErrors), firstValidationError(out.ValidationErrors))
		}
		definedOK[i] = defined[i]
		return 1, nil
	}}); err != nil {
		return nil, err
	}
	defined = compact(definedOK)
	if len(defined) == 0 {
		return nil, errors.New("no definition was stored; see the errors above")
	}

	// c. get those definitions.
	if err := r.runPhase(ctx, phase{name: phaseGet, size: len(defined), op: func(ctx context.Context, c *datapipeline.Client, i int) (int, error) {
		out, err := c.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(defined[i])})
		if err != nil {
			return 0, err
		}
		if len(out.PipelineObjects) != len(objs) {
			return 0, fmt.Errorf("GetPipelineDefinition returned %d objects, want %d", len(out.PipelineObjects), len(objs))
		}
		return len(out.PipelineObjects), nil
	}}); err != nil {
		return nil, err
	}

	// d. describe their objects, 25 ids a call.
	chunks := chunk(objIDs, idsPerCall)
	if err := r.runPhase(ctx, phase{name: phaseDescObjects, size: len(defined) * len(chunks), op: func(ctx context.Context, c *datapipeline.Client, i int) (int, error) {
		ids := chunks[i%len(chunks)]
		out, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{
			PipelineId: aws.String(defined[i/len(chunks)]),
			ObjectIds:  ids,
		})
		if err != nil {
			return 0, err
		}
		if len(out.PipelineObjects) != len(ids) {
			return 0, fmt.Errorf("DescribeObjects returned %d objects, want %d", len(out.PipelineObjects), len(ids))
		}
		return len(out.PipelineObjects), nil
	}}); err != nil {
		return nil, err
	}

	// e. describe pipelines, one id a call and then 25.
	describe := func(ctx context.Context, c *datapipeline.Client, ids []string) (int, error) {
		out, err := c.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: ids})
		if err != nil {
			return 0, err
		}
		if len(out.PipelineDescriptionList) != len(ids) {
			return 0, fmt.Errorf("DescribePipelines returned %d descriptions, want %d", len(out.PipelineDescriptionList), len(ids))
		}
		return len(ids), nil
	}
	if err := r.runPhase(ctx, phase{name: phaseDescPipes1, size: len(pipes), op: func(ctx context.Context, c *datapipeline.Client, i int) (int, error) {
		return describe(ctx, c, pipes[i:i+1])
	}}); err != nil {
		return nil, err
	}
	groups := chunk(pipes, idsPerCall)
	if err := r.runPhase(ctx, phase{name: phaseDescPipes25, size: len(groups), op: func(ctx context.Context, c *datapipeline.Client, i int) (int, error) {
		return describe(ctx, c, groups[i])
	}}); err != nil {
		return nil, err
	}

	// f. list every pipeline, following markers.
	if err := r.runList(ctx, len(before)+len(pipes), pipes); err != nil {
		return nil, err
	}

	if len(cfg.ServerPIDs) > 0 {
		r.rep.ServerRSSKiB, r.rep.ServerHWMKiB = measure.PIDsMemory(cfg.ServerPIDs)
	}
	return r.rep, nil
}

// runPhase runs ph with --concurrency workers and records its result;
// worker w calls endpoint w mod n.
func (r *runner) runPhase(ctx context.Context, ph phase) error {
	limit := int64(ph.size)
	var deadline time.Duration
	if !ph.fixed && r.cfg.Duration > 0 {
		limit, deadline = int64(r.cfg.MaxOps), r.cfg.Duration
	} else if !ph.fixed && r.cfg.MaxOps > 0 {
		limit = min(limit, int64(r.cfg.MaxOps))
	}
	var rec recorder
	var stop atomic.Bool
	var next atomic.Int64
	work := func(c *datapipeline.Client) {
		lat := make([]time.Duration, 0, 4096)
		var items int64
		for !stop.Load() {
			i := next.Add(1) - 1
			if limit > 0 && i >= limit {
				break
			}
			t0 := time.Now()
			n, err := ph.op(ctx, c, int(i%int64(ph.size)))
			lat = append(lat, time.Since(t0))
			if err != nil {
				rec.fail(err)
			} else {
				items += int64(n)
			}
		}
		rec.merge(lat, items)
	}
	return r.timed(ph.name, &rec, func() {
		if deadline > 0 {
			t := time.AfterFunc(deadline, func() { stop.Store(true) })
			defer t.Stop()
		}
		var wg sync.WaitGroup
		for w := range r.cfg.Concurrency {
			wg.Go(func() { work(r.client(w)) })
		}
		wg.Wait()
	})
}

// timed runs body between the phase's hooks and measures it, attributing
// the CPU time of this process and of the server to it.
func (r *runner) timed(name string, rec *recorder, body func()) error {
	if err := r.cfg.hook("start", name, r.stderr); err != nil {
		return err
	}
	sys0, _ := measure.SystemBusy()
	srv0, db0 := r.serverCPU(), r.dbCPU()
	cli0 := measure.SelfCPU()
	start := time.Now()
	body()
	elapsed := time.Since(start)
	cli := measure.SelfCPU() - cli0
	srv, db := r.serverCPU()-srv0, r.dbCPU()-db0
	sys1, _ := measure.SystemBusy()
	if err := r.cfg.hook("stop", name, r.stderr); err != nil {
		return err
	}
	res := rec.result(name, elapsed)
	res.ClientCPUs, res.ServerCPUs, res.DBCPUs = cli.Seconds(), srv.Seconds(), db.Seconds()
	if sys0 > 0 && sys1 > 0 && len(r.cfg.ServerPIDs) > 0 {
		res.OtherCPUs = max(0, (sys1 - sys0 - cli - srv - db).Seconds())
	}
	if len(r.cfg.ServerPIDs) > 0 {
		res.ServerRSSKiB, _ = measure.PIDsMemory(r.cfg.ServerPIDs)
	}
	res.Note = rec.note
	r.rep.Phases = append(r.rep.Phases, res)
	fmt.Fprintf(r.stderr, "%s: %-22s %7d ops %5d errors %7.2fs %9.0f ops/s  p99 %.2f ms\n",
		r.cfg.Label, name, res.Ops, res.Errors, res.Seconds, res.OpsPerSec, res.P99ms)
	return nil
}

// serverCPU is the CPU time so far of every server pid, summed.
func (r *runner) serverCPU() time.Duration {
	if len(r.cfg.ServerPIDs) == 0 {
		return 0
	}
	d, err := measure.PIDsCPU(r.cfg.ServerPIDs)
	if err != nil {
		fmt.Fprintf(r.stderr, "%s: server CPU: %v\n", r.cfg.Label, err)
	}
	return d
}

// dbCPU is the CPU time so far of the --db-pid server and its children.
func (r *runner) dbCPU() time.Duration {
	if r.cfg.DBPID <= 0 {
		return 0
	}
	d, err := measure.TreeCPU(r.cfg.DBPID)
	if err != nil {
		fmt.Fprintf(r.stderr, "%s: database CPU: %v\n", r.cfg.Label, err)
	}
	return d
}

// runList lists the whole account repeatedly from --concurrency workers
// for --list-duration (or once), each page one operation, and checks every
// listing: want pipelines in all, every one of created among them, once.
// Worker w lists through endpoint w mod n.
func (r *runner) runList(ctx context.Context, want int, created []string) error {
	isCreated := make(map[string]bool, len(created))
	for _, id := range created {
		isCreated[id] = true
	}
	var rec recorder
	var listings, pages atomic.Int64
	workers := r.cfg.Concurrency
	if r.cfg.ListDuration <= 0 {
		workers = 1
	}
	return r.timed(phaseList, &rec, func() {
		start := time.Now()
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				var lat []time.Duration
				for {
					ids, err := r.listAll(ctx, r.client(w), &lat)
					listings.Add(1)
					pages.Add(int64(len(lat)))
					if err == nil {
						err = checkListing(ids, want, isCreated)
					}
					if err != nil {
						rec.fail(err)
					}
					rec.merge(lat, int64(len(ids)))
					lat = lat[:0]
					if err != nil || time.Since(start) >= r.cfg.ListDuration {
						return
					}
				}
			})
		}
		wg.Wait()
		if n := listings.Load(); n > 0 {
			rec.note = fmt.Sprintf("%d full listings of %d pipelines in %d pages (%.1f pages a listing); an op is one page",
				n, want, pages.Load(), float64(pages.Load())/float64(n))
		}
	})
}

// listAll lists the account following markers, appending the latency of
// each page to lat if it is not nil. It stops, with an error, on a server
// that claims more results without a marker or repeats a marker.
func (r *runner) listAll(ctx context.Context, c *datapipeline.Client, lat *[]time.Duration) ([]string, error) {
	var ids []string
	var marker *string
	seen := map[string]bool{}
	for {
		t0 := time.Now()
		out, err := c.ListPipelines(ctx, &datapipeline.ListPipelinesInput{Marker: marker})
		if lat != nil {
			*lat = append(*lat, time.Since(t0))
		}
		if err != nil {
			return ids, err
		}
		for _, p := range out.PipelineIdList {
			ids = append(ids, aws.ToString(p.Id))
		}
		m := aws.ToString(out.Marker)
		switch {
		case !out.HasMoreResults:
			// Some servers (moto) send a marker with hasMoreResults
			// false; botocore stops there, and so do we.
			return ids, nil
		case m == "":
			return ids, errors.New("ListPipelines: hasMoreResults without a marker")
		case seen[m]:
			return ids, fmt.Errorf("ListPipelines: marker %q repeated", m)
		}
		seen[m] = true
		marker = aws.String(m)
	}
}

// checkListing verifies one full listing.
func checkListing(ids []string, want int, created map[string]bool) error {
	found := 0
	dup := map[string]bool{}
	for _, id := range ids {
		if dup[id] {
			return fmt.Errorf("ListPipelines listed %s twice", id)
		}
		dup[id] = true
		if created[id] {
			found++
		}
	}
	if len(ids) != want || found != len(created) {
		return fmt.Errorf("ListPipelines listed %d pipelines (%d of the %d created by this run), want %d",
			len(ids), found, len(created), want)
	}
	return nil
}

func firstValidationError(errs []types.ValidationError) string {
	if len(errs) == 0 || len(errs[0].Errors) == 0 {
		return "(none)"
	}
	return aws.ToString(errs[0].Id) + ": " + errs[0].Errors[0]
}

// compact returns the non-empty strings of s.
func compact(s []string) []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// chunk splits s into consecutive slices of at most n.
func chunk[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > 0 {
		k := min(n, len(s))
		out = append(out, s[:k:k])
		s = s[k:]
	}
	return out
}
