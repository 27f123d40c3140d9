package main

import (
	"bytes"
	"context"
	"maps"
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
		{name: "RDS instance without a URL", args: []string{"--worker-group", "wg", "--rds-instance", "prod-db"},
			wantErr: "want ID=JDBC_URL"},
		{name: "Redshift cluster with a URL that is not JDBC", args: []string{"--worker-group", "wg", "--redshift-cluster", "wh=postgres://u:pw@h/db"},
			wantErr: "wh: the URL must be a JDBC URL"},
		{name: "bad RDS instance from the environment", args: []string{"--worker-group", "wg"},
			env: map[string]string{"CULVERT_RDS_INSTANCE": "=jdbc:mysql://h/db"}, wantErr: "CULVERT_RDS_INSTANCE"},
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

// TestIDURLs reads --rds-instance and --redshift-cluster: repeatable, and
// several settings in one value, as CULVERT_RDS_INSTANCE gives them. A
// refused value is not echoed, since a JDBC URL may hold a password.
func TestIDURLs(t *testing.T) {
	t.Parallel()
	var m idURLs
	for _, v := range []string{"a=jdbc:postgresql://h1/db", " b=jdbc:mysql://h2/db?x=1  c=jdbc:sqlite:/tmp/c.db "} {
		if err := m.Set(v); err != nil {
			t.Fatalf("Set(%q) = %v", v, err)
		}
	}
	want := idURLs{"a": "jdbc:postgresql://h1/db", "b": "jdbc:mysql://h2/db?x=1", "c": "jdbc:sqlite:/tmp/c.db"}
	if !maps.Equal(m, want) {
		t.Errorf("after Set: %v, want %v", m, want)
	}
	if err := m.Set("secret:pw@host"); err == nil || strings.Contains(err.Error(), "pw") {
		t.Errorf("Set(no id) = %v, want an error that does not repeat the value", err)
	}
	if m.String() != "" {
		t.Errorf("String() = %q, want nothing: the URLs may hold passwords", m.String())
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
