package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestEndpointsAndWakeTarget(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		eps  int
		want time.Duration
	}{
		{"one endpoint", []string{"--endpoint", "http://127.0.0.1:1"}, 1, 20 * time.Millisecond},
		{"several endpoints", []string{"--endpoint", "http://127.0.0.1:1,http://127.0.0.1:2,http://127.0.0.1:3"}, 3, 50 * time.Millisecond},
		{"explicit target", []string{"--endpoint", "http://127.0.0.1:1,http://127.0.0.1:2", "--wake-target", "30ms"}, 2, 30 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseFlags(append(tc.args, "--server-pid", "5,6"), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Endpoints) != tc.eps || cfg.WakeP99Max != tc.want {
				t.Errorf("endpoints %q, wake target %v; want %d endpoints, %v", cfg.Endpoints, cfg.WakeP99Max, tc.eps, tc.want)
			}
			if cfg.ServerPID != 5 || len(cfg.ServerPIDs) != 2 {
				t.Errorf("ServerPID %d, ServerPIDs %v", cfg.ServerPID, cfg.ServerPIDs)
			}
			if cs := newClients(cfg); len(cs) != tc.eps {
				t.Errorf("%d clients, want %d", len(cs), tc.eps)
			}
		})
	}
	if _, err := parseFlags([]string{"--endpoint", ","}, io.Discard); err == nil {
		t.Error("an empty endpoint list passed")
	}
}

func TestNoThroughputTarget(t *testing.T) {
	cfg, err := parseFlags([]string{"--endpoint", "http://127.0.0.1:1,http://127.0.0.1:2", "--throughput-target", "0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rep := &report{Config: cfg, Throughput: &throughputResult{Tasks: 10, Seconds: 1, TasksPerSec: 10, Endpoints: 2}}
	if !rep.pass() {
		t.Error("a throughput phase with no target and no errors failed")
	}
	var out bytes.Buffer
	rep.printTable(&out)
	if !strings.Contains(out.String(), "(info)") || !strings.Contains(out.String(), "endpoint i mod 2") {
		t.Errorf("table:\n%s", out.String())
	}
	rep.Throughput.Errors = 1
	if rep.pass() {
		t.Error("a throughput phase with errors passed")
	}
	rep.Wake = []*wakeResult{{Trigger: "ActivatePipeline", Target: 50, PollEndpoint: "a", TriggerEndpoint: "b",
		FromStart: latency{N: 1, P99ms: 60}}}
	rep.Throughput.Errors = 0
	if rep.pass() {
		t.Error("a wake p99 of 60 ms passed a 50 ms target")
	}
}
