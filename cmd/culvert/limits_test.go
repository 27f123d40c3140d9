package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

func TestLimitFlag(t *testing.T) {
	t.Parallel()
	l := defaultLimits()
	f := limitFlag{l: &l}
	if err := f.Set("minRetryDelay=1s,maxRetries=8"); err != nil {
		t.Fatal(err)
	}
	if err := f.Set("ackTimeout=10s"); err != nil {
		t.Fatal(err)
	}
	if l.Definition.MinRetryDelay != time.Second || l.Definition.MaxRetries != 8 || l.AckTimeout != 10*time.Second {
		t.Errorf("limits after Set = %+v", l)
	}
	for _, bad := range []string{"minRetryDelay", "nope=1", "maxRetries=-1", "maxRetries=x", "minRetryDelay=5", "maxObjects=0", "ackTimeout=-1s"} {
		if err := f.Set(bad); err == nil {
			t.Errorf("Set(%q) succeeded", bad)
		}
	}
	if err := f.Set("maxPipelines=0"); err != nil {
		t.Errorf("maxPipelines=0 (no limit) refused: %v", err)
	}
	if !strings.Contains(limitsHelp(), "minSchedulePeriod") {
		t.Errorf("help does not list the limits:%s", limitsHelp())
	}
}

// TestServeLimitFlag checks that --limit changes what a definition may say,
// as a user lowering AWS's minimums for tests would.
func TestServeLimitFlag(t *testing.T) {
	t.Parallel()
	def := &datapipeline.PutPipelineDefinitionInput{PipelineObjects: []types.PipelineObject{
		object("Default", "Default", str("scheduleType", "cron"), str("pipelineLogUri", "s3://logs/"), ref("schedule", "Minutely")),
		object("Minutely", "Minutely", str("type", "Schedule"), str("period", "1 minute"), str("startAt", "FIRST_ACTIVATION_DATE_TIME")),
		object("A", "A", str("type", "ShellCommandActivity"), str("command", "true"), str("workerGroup", "wg"),
			str("maximumRetries", "8"), str("retryDelay", "1 minute")),
	}}
	for _, tc := range []struct {
		args    []string
		errored bool
	}{
		{nil, true},
		{[]string{"--limit", "minSchedulePeriod=1m", "--limit", "minRetryDelay=1s,maxRetries=8"}, false},
	} {
		s := mustRunServer(t, tc.args...)
		c := s.devClient()
		id := mustCreate(t, c, "limits", "limits")
		in := *def
		in.PipelineId = aws.String(id)
		out, err := c.PutPipelineDefinition(context.Background(), &in)
		if err != nil {
			t.Fatalf("%v: PutPipelineDefinition: %v", tc.args, err)
		}
		if out.Errored != tc.errored {
			t.Errorf("%v: errored = %v, want %v (%v)", tc.args, out.Errored, tc.errored, out.ValidationErrors)
		}
	}
	if _, err := startServer(t, noEnv, "--limit", "bogus=1"); err == nil {
		t.Error("serve with an unknown limit started")
	}
}
