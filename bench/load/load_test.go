package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"

	"github.com/culvert/culvert/internal/measure"
	"github.com/culvert/culvert/internal/sdkhttp"
)

func TestDefinition(t *testing.T) {
	objs := definition(100)
	if len(objs) != 100 {
		t.Fatalf("definition(100) has %d objects", len(objs))
	}
	ids := map[string]bool{}
	for _, o := range objs {
		ids[aws.ToString(o.Id)] = true
	}
	if len(ids) != len(objs) {
		t.Errorf("definition(100) has %d distinct ids, want %d", len(ids), len(objs))
	}
	for _, o := range objs {
		if n := len(o.Fields); n < 5 || n > 8 {
			t.Errorf("object %s has %d fields, want 5-8", aws.ToString(o.Id), n)
		}
		for _, f := range o.Fields {
			if f.RefValue != nil && !ids[*f.RefValue] {
				t.Errorf("object %s: %s refers to missing %s", aws.ToString(o.Id), aws.ToString(f.Key), *f.RefValue)
			}
		}
	}
	if n := wireSize("df-00000000000000000000", objs); n < 15000 || n > 35000 {
		t.Errorf("definition(100) encodes to %d bytes, want about 20-30 KB", n)
	}
}

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 90: 90 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := measure.Percentile(lat, q); got != want {
			t.Errorf("measure.Percentile(1..100ms, %v) = %v, want %v", q, got, want)
		}
	}
	if got := measure.Percentile(lat[:1], 99); got != time.Millisecond {
		t.Errorf("percentile of one = %v", got)
	}
}

func TestRecorderDistinctErrors(t *testing.T) {
	var r recorder
	for i := range 20 {
		r.fail(errors.New("operation error Data Pipeline: X, https response error StatusCode: 500, RequestID: " + strings.Repeat("a", i) + ", boom"))
	}
	for i := range 10 {
		r.fail(errors.New(strings.Repeat("e", i+1)))
	}
	res := r.result("x", time.Second)
	if res.Errors != 30 {
		t.Errorf("Errors = %d, want 30", res.Errors)
	}
	if len(res.FirstErrors) != maxDistinctErrors || res.FirstErrors[0].Count != 20 {
		t.Errorf("FirstErrors = %+v, want %d entries, the first ×20", res.FirstErrors, maxDistinctErrors)
	}
}

func TestChunk(t *testing.T) {
	got := chunk([]int{1, 2, 3, 4, 5}, 2)
	if len(got) != 3 || len(got[2]) != 1 || got[2][0] != 5 {
		t.Errorf("chunk = %v", got)
	}
}

func TestCheckListing(t *testing.T) {
	created := map[string]bool{"a": true, "b": true}
	if err := checkListing([]string{"x", "a", "b"}, 3, created); err != nil {
		t.Errorf("good listing: %v", err)
	}
	for _, ids := range [][]string{{"a", "b"}, {"x", "a", "a"}, {"x", "y", "a"}} {
		if err := checkListing(ids, 3, created); err == nil {
			t.Errorf("listing %v passed", ids)
		}
	}
}

// TestBufferingTransport checks that the load clients' transport
// (sdkhttp.Transport, through measure.NewClient) delivers the body and
// lets the request be replayed through GetBody.
func TestBufferingTransport(t *testing.T) {
	var seen []string
	rt := &sdkhttp.Transport{Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		for range 2 {
			body, err := r.GetBody()
			if err != nil {
				return nil, err
			}
			b, _ := io.ReadAll(body)
			seen = append(seen, string(b))
		}
		b, _ := io.ReadAll(r.Body)
		seen = append(seen, string(b))
		return &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(nil))}, nil
	})}
	req, _ := http.NewRequest("POST", "http://127.0.0.1/", io.NopCloser(strings.NewReader("payload")))
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "payload,payload,payload" {
		t.Errorf("server saw %q", seen)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCompare(t *testing.T) {
	mk := func(label string, opsPerSec, p99 float64, errs int) *report {
		r := &report{Label: label}
		for _, tg := range targets {
			r.Phases = append(r.Phases, &phaseResult{Name: tg.Phase, OpsPerSec: opsPerSec, P99ms: p99, Errors: errs})
		}
		return r
	}
	var out bytes.Buffer
	for _, tc := range []struct {
		name string
		c    *report
		pass bool
	}{
		{"fast", mk("culvert", 10000, 1, 0), true},
		{"slow", mk("culvert", 1000, 1, 0), false},
		{"slow p99", mk("culvert", 10000, 9, 0), false},
		{"errors", mk("culvert", 10000, 1, 1), false},
	} {
		pass := true
		for _, ch := range compare(tc.c, mk("moto", 100, 50, 0), &out).Checks {
			pass = pass && ch.Passed
		}
		if pass != tc.pass {
			t.Errorf("%s: passed = %v, want %v\n%s", tc.name, pass, tc.pass, out.String())
		}
	}

	// A moto that used a tenth of a core was starved.
	m := mk("moto", 100, 50, 0)
	for _, p := range m.Phases {
		p.Seconds, p.ServerCPUs = 10, 1
	}
	if res := compare(mk("culvert", 10000, 1, 0), m, &out); len(res.Disturbed) != len(m.Phases) {
		t.Errorf("Disturbed = %v, want every phase of moto", res.Disturbed)
	}
	// Other work during culvert's run.
	c := mk("culvert", 10000, 1, 0)
	c.Phases[0].Seconds, c.Phases[0].OtherCPUs = 1, 1
	if res := compare(c, mk("moto", 100, 50, 0), &out); len(res.Disturbed) != 1 {
		t.Errorf("Disturbed = %v, want culvert's first phase", res.Disturbed)
	}
}

func TestSeveralEndpoints(t *testing.T) {
	cfg, err := parseFlags([]string{"--endpoint", "http://127.0.0.1:1, http://127.0.0.1:2,http://127.0.0.1:3",
		"--server-pid", "11,12,13", "--concurrency", "6"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Endpoints) != 3 || cfg.Endpoints[1] != "http://127.0.0.1:2" {
		t.Errorf("Endpoints = %q", cfg.Endpoints)
	}
	if cfg.ServerPID != 11 || cfg.ServerPIDs.String() != "11,12,13" {
		t.Errorf("ServerPID = %d, ServerPIDs = %s", cfg.ServerPID, cfg.ServerPIDs.String())
	}
	one, err := parseFlags([]string{"--endpoint", "http://127.0.0.1:1", "--server-pid", "7"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Endpoints) != 1 || one.Label != "http://127.0.0.1:1" || one.ServerPID != 7 {
		t.Errorf("one endpoint: %+v", one)
	}
	for _, bad := range [][]string{{"--endpoint", " , "}, {"--endpoint", "http://x", "--server-pid", "1,x"}, {"--endpoint", "http://x", "--server-pid", ","}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) passed", bad)
		}
	}

	// Worker w uses endpoint w mod 3, and only that one.
	r := &runner{cfg: cfg, clients: newClients(cfg), rep: &report{}, stderr: io.Discard}
	index := map[*datapipeline.Client]int{}
	for i, c := range r.clients {
		index[c] = i
	}
	var mu sync.Mutex
	used := map[int]int{}
	err = r.runPhase(context.Background(), phase{name: "x", size: 60, fixed: true, op: func(_ context.Context, c *datapipeline.Client, _ int) (int, error) {
		time.Sleep(time.Millisecond)
		mu.Lock()
		used[index[c]]++
		mu.Unlock()
		return 1, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) != 3 || used[0]+used[1]+used[2] != 60 {
		t.Errorf("ops per endpoint = %v, want all three used, 60 in all", used)
	}
	for w := range 6 {
		if r.client(w) != r.clients[w%3] {
			t.Errorf("worker %d does not use endpoint %d", w, w%3)
		}
	}
}
