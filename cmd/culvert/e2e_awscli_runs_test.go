package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/google/go-cmp/cmp"
)

// TestAWSCLIListRunsStatus runs a two-hour backfill whose first interval
// fails (no retries) and second finishes, then asks `aws datapipeline
// list-runs` (the CLI's own command over QueryObjects and DescribeObjects,
// §10): every run is listed in schedule order with its status, `--status
// failed` (the CLI's lower-case spelling, sent as an EQ selector on
// @status) keeps only the failed one, several statuses are refused as AWS
// refuses them, and the CLI's default table shows both runs.
func TestAWSCLIListRunsStatus(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t)
	cli := newAWSCLI(t, s)
	c := s.devClient()
	ctx := context.Background()
	const wg = "wg-list-runs"
	id := mustCreate(t, c, "list-runs", "list-runs")
	start := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	inst := func(i int) string {
		return "@Work_" + start.Add(time.Duration(i)*time.Hour).Format("2006-01-02T15:04:05")
	}
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("scheduleType", "cron"), str("failureAndRerunMode", "none"),
				str("role", "DataPipelineDefaultRole"), str("resourceRole", "DataPipelineDefaultResourceRole"),
				str("pipelineLogUri", "s3://logs/"), str("workerGroup", wg), ref("schedule", "Hourly")),
			object("Hourly", "Hourly", str("type", "Schedule"), str("period", "1 hour"),
				str("startDateTime", start.Format("2006-01-02T15:04:05")), str("occurrences", "2")),
			object("Work", "Work", str("type", "ShellCommandActivity"), str("command", "work"), str("maximumRetries", "0")),
		},
	})
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}
	runner := &sdkRunner{t: t, c: c, workerGroup: wg}
	for i, status := range []types.TaskStatus{types.TaskStatusFailed, types.TaskStatusFinished} {
		task := runner.next(ctx)
		if got, want := aws.ToString(task.AttemptId), inst(i)+"_Attempt=1"; got != want {
			t.Fatalf("task %d is %s, want %s", i, got, want)
		}
		msg := ""
		if status == types.TaskStatusFailed {
			msg = "disk full"
		}
		runner.finish(ctx, task, status, msg)
	}
	waitStatuses(t, c, id, map[string]string{inst(0): "FAILED", inst(1): "FINISHED"})

	// runs returns list-runs' (@id, @status) pairs, in its order.
	runs := func(args ...string) [][2]string {
		t.Helper()
		var out []map[string]any
		cli.mustJSON(t, &out, append([]string{"list-runs", "--pipeline-id", id}, args...)...)
		var got [][2]string
		for _, r := range out {
			got = append(got, [2]string{r["@id"].(string), r["@status"].(string)})
		}
		return got
	}
	failed, finished := [2]string{inst(0), "FAILED"}, [2]string{inst(1), "FINISHED"}
	for _, tc := range []struct {
		args []string
		want [][2]string
	}{
		{nil, [][2]string{failed, finished}},
		{[]string{"--status", "failed"}, [][2]string{failed}},
		{[]string{"--status", "finished"}, [][2]string{finished}},
	} {
		if diff := cmp.Diff(tc.want, runs(tc.args...)); diff != "" {
			t.Errorf("list-runs %s mismatch (-want +got):\n%s", strings.Join(tc.args, " "), diff)
		}
	}

	// Several statuses make the CLI send EQ with several values, which
	// AWS refuses (spec §10, aws-cli#1644), and so does culvert.
	if _, errOut, err := cli.run(t, "list-runs", "--pipeline-id", id, "--status", "failed,finished"); err == nil ||
		!strings.Contains(string(errOut), "InvalidRequestException") || !strings.Contains(string(errOut), "Missing single value for field: @status") {
		t.Errorf("list-runs --status failed,finished: err %v, stderr %s; want AWS's InvalidRequestException", err, errOut)
	}

	// Without --output the CLI prints its own table: two lines a run.
	cmd := exec.Command(cli.path, "datapipeline", "list-runs", "--pipeline-id", id, "--endpoint-url", cli.url)
	cmd.Env = cli.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("aws datapipeline list-runs (table): %v\n%s", err, stderr.String())
	}
	table := stdout.String()
	for _, want := range []string{"Scheduled Start", "1.  Work", "2.  Work", inst(0), inst(1), "FAILED", "FINISHED"} {
		if !strings.Contains(table, want) {
			t.Errorf("list-runs table lacks %q:\n%s", want, table)
		}
	}
	if i, j := strings.Index(table, "FAILED"), strings.Index(table, "FINISHED"); i > j {
		t.Errorf("list-runs table is not in schedule order:\n%s", table)
	}
}
