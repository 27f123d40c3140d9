package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
)

// TestRunnerFlags checks what `culvert runner` refuses before it contacts
// anything, and how AWS Task Runner's option names are read.
func TestRunnerFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{name: "no worker group", args: []string{"--endpoint", "http://127.0.0.1:1/"}, wantErr: "--worker-group is required"},
		{name: "no endpoint", args: []string{"--worker-group", "wg"}, wantErr: "no endpoint"},
		{name: "extra argument", args: []string{"--worker-group", "wg", "oops"}, wantErr: `unexpected argument "oops"`},
		{name: "bad log level", args: []string{"--worker-group", "wg", "--endpoint", "http://127.0.0.1:1/", "--log-level", "loud"},
			wantErr: "--log-level"},
		{name: "bad tasks", args: []string{"--workerGroup=wg", "--endpoint", "http://127.0.0.1:1/", "--tasks", "0"},
			wantErr: "--tasks is 0"},
		{name: "bad tasks from the environment", args: []string{"--workerGroup", "wg"},
			env: map[string]string{"CULVERT_TASKS": "-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:1/"}, wantErr: "--tasks is -1"},
		{name: "negative grace", args: []string{"--worker-group", "wg", "--endpoint", "http://127.0.0.1:1/", "--grace", "-1s"},
			wantErr: "--grace"},
		{name: "no progress interval", args: []string{"--worker-group", "wg", "--endpoint", "http://127.0.0.1:1/", "--progress-interval", "0s"},
			wantErr: "--progress-interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			m := &Main{Stdout: &stderr, Stderr: &stderr, Getenv: func(k string) string { return tc.env[k] }}
			err := m.Run(context.Background(), append([]string{"runner"}, tc.args...))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("runner %q = %v, want an error containing %q", tc.args, err, tc.wantErr)
			}
		})
	}
}

func TestRewriteAliases(t *testing.T) {
	t.Parallel()
	in := []string{"--workerGroup=wg", "-taskrunnerId", "id", "--output", "dir", "--tasks", "3", "--", "--workerGroup"}
	want := []string{"--worker-group=wg", "-runner-id", "id", "--log-dir", "dir", "--tasks", "3", "--", "--workerGroup"}
	if got := rewriteAliases(in); !slices.Equal(got, want) {
		t.Errorf("rewriteAliases(%q) = %q, want %q", in, got, want)
	}
}
