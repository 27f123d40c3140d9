package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// TestClientParse pins how the client verbs read their command lines:
// flags before, between and after the positional arguments, as with the
// aws CLI; "--" ends the flags, so a name may start with a dash; CULVERT_
// variables stand in for flags not given.
func TestClientParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		n       int
		wantPos []string
		wantX   string
		wantJS  bool
		wantErr string
	}{
		{name: "flags after", args: []string{"df-1", "--json", "-x", "v"}, n: 1, wantPos: []string{"df-1"}, wantX: "v", wantJS: true},
		{name: "flags before", args: []string{"--json", "-x=v", "df-1"}, n: 1, wantPos: []string{"df-1"}, wantX: "v", wantJS: true},
		{name: "flags between", args: []string{"a", "-x", "v", "b"}, n: 2, wantPos: []string{"a", "b"}, wantX: "v"},
		{name: "dash name after --", args: []string{"--json", "--", "-name"}, n: 1, wantPos: []string{"-name"}, wantJS: true},
		{name: "flag-like after --", args: []string{"a", "--", "--json"}, n: 2, wantPos: []string{"a", "--json"}},
		{name: "environment", args: []string{"a"}, env: map[string]string{"CULVERT_JSON": "true", "CULVERT_X": "e"}, n: 1, wantPos: []string{"a"}, wantX: "e", wantJS: true},
		{name: "flag over environment", args: []string{"a", "-x", "v"}, env: map[string]string{"CULVERT_X": "e"}, n: 1, wantPos: []string{"a"}, wantX: "v"},
		{name: "too many", args: []string{"a", "b"}, n: 1, wantErr: `create: unexpected argument "b"`},
		{name: "too few", args: []string{"--json"}, n: 1, wantErr: "create: missing arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &clientCommand{verb: "create", main: &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return tc.env[k] }}}
			fs := c.flagSet("ARGS", "test")
			x := fs.String("x", "", "a verb's own flag")
			pos, err := c.parse(fs, tc.args, tc.n)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("parse(%q) error = %v, want %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse(%q): %v", tc.args, err)
			}
			if diff := cmp.Diff(tc.wantPos, pos); diff != "" {
				t.Errorf("parse(%q) positional mismatch (-want +got):\n%s", tc.args, diff)
			}
			if *x != tc.wantX || c.json != tc.wantJS {
				t.Errorf("parse(%q): -x %q, --json %v; want %q, %v", tc.args, *x, c.json, tc.wantX, tc.wantJS)
			}
		})
	}
}

// TestRunsQueries pins the queries `culvert runs` sends, which are the aws
// CLI's list-runs queries: @actualStartTime in the last 4 days unless an
// interval is given, and @status EQ one status, so several statuses are
// several queries.
func TestRunsQueries(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	const window = "@actualStartTime BETWEEN 2026-03-01T11:00:00 2026-03-05T11:00:00"
	tests := []struct {
		name     string
		status   string // --status, when set
		start    string // --start-interval, when set
		schedule string // --schedule-interval, when set
		want     []string
		wantErr  bool
	}{
		{name: "default", want: []string{window}},
		{name: "one status", status: "failed", want: []string{window + "; @status EQ FAILED"}},
		{name: "several statuses", status: "Finished, waiting-for-runner,cancelled,FINISHED",
			want: []string{window + "; @status EQ FINISHED", window + "; @status EQ WAITING_FOR_RUNNER", window + "; @status EQ CANCELED"}},
		{name: "unknown status", status: "pending", wantErr: true},
		{name: "schedule interval replaces the window", schedule: "2020-01-01T00:00:00,2020-01-02T00:00:00",
			want: []string{"@scheduledStartTime BETWEEN 2020-01-01T00:00:00 2020-01-02T00:00:00"}},
		{name: "both intervals", start: "2026-01-01T00:00:00Z,2026-01-02T01:00:00+01:00", schedule: "2020-01-01T00:00:00,2020-01-02T00:00:00",
			want: []string{"@actualStartTime BETWEEN 2026-01-01T00:00:00 2026-01-02T00:00:00; @scheduledStartTime BETWEEN 2020-01-01T00:00:00 2020-01-02T00:00:00"}},
		{name: "interval of one", start: "2026-01-01T00:00:00", wantErr: true},
		{name: "interval not of times", start: "yesterday,today", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var f runsFilter
			var err error
			if tc.status != "" {
				err = f.setStatus(tc.status)
			}
			if err == nil && tc.start != "" {
				f.start, err = parseInterval(tc.start)
			}
			if err == nil && tc.schedule != "" {
				f.schedule, err = parseInterval(tc.schedule)
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			var got []string
			for _, q := range f.queries(now) {
				var sels []string
				for _, s := range q.Selectors {
					sels = append(sels, fmt.Sprintf("%s %s %s", aws.ToString(s.FieldName), s.Operator.Type, strings.Join(s.Operator.Values, " ")))
				}
				got = append(got, strings.Join(sels, "; "))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("queries mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAPIError pins the one line a failed call becomes, whatever the SDK
// wrapped around it.
func TestAPIError(t *testing.T) {
	t.Parallel()
	op := func(err error) error {
		return &smithy.OperationError{ServiceID: "Data Pipeline", OperationName: "ListPipelines", Err: err}
	}
	refused := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"API error", op(&smithy.GenericAPIError{Code: "PipelineNotFoundException", Message: "Pipeline df-1 was not found."}),
			"PipelineNotFoundException: Pipeline df-1 was not found."},
		{"refused", op(refused), "cannot reach http://127.0.0.1:1/: dial tcp: connect: connection refused (is culvert serve running there? see --endpoint)"},
		{"interrupted", op(&url.Error{Op: "Post", URL: "http://127.0.0.1:1/", Err: context.Canceled}), "interrupted"},
		{"other", op(errors.New("serialization failed")), "ListPipelines: serialization failed"},
	}
	for _, tc := range tests {
		got := apiError(tc.err)
		if got.Error() != tc.want {
			t.Errorf("%s: apiError() = %q, want %q", tc.name, got, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("%s: apiError() does not wrap the SDK's error", tc.name)
		}
	}
}
