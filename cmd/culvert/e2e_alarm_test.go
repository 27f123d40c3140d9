package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/alarm"
	"github.com/culvert/culvert/internal/alarm/alarmtest"
)

// TestSDKAlarmsAndNode runs a pipeline whose actions and precondition use
// node, with both alarm sinks configured:
//
//   - a ShellCommandPrecondition on a data node evaluates
//     #{node.directoryPath} to the data node instance's path;
//   - Work fails (no retries): its onFail SnsAlarm is evaluated with node
//     bound to the failed instance and reaches the webhook and, through
//     the real aws-sdk-go-v2 SNS client, the fake SNS endpoint;
//   - Copy, reading the data node, succeeds: its onSuccess alarm names
//     the input instance it read;
//   - each instance shows what it fired as @event.
//
// Not parallel: the SNS sink takes credentials from the process
// environment, the SDK's default chain.
func TestSDKAlarmsAndNode(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDALARMS")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "alarm-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")

	var (
		mu       sync.Mutex
		payloads []alarm.WebhookPayload
		gotHook  = make(chan struct{}, 10)
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p alarm.WebhookPayload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		mu.Lock()
		payloads = append(payloads, p)
		mu.Unlock()
		gotHook <- struct{}{}
	}))
	defer hook.Close()
	fakeSNS := alarmtest.NewSNS()
	snsSrv := httptest.NewServer(fakeSNS)
	defer snsSrv.Close()

	s := mustRunServer(t, "--alarm-webhook", hook.URL, "--alarm-sns", snsSrv.URL)
	c := s.devClient()
	ctx := context.Background()
	id := mustCreate(t, c, "alarms", "alarms")
	start := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	stamp := start.Format("2006-01-02T15:04:05")
	const topic = "arn:aws:sns:us-east-1:123456789012:ops"
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("scheduleType", "cron"), str("failureAndRerunMode", "none"),
				str("role", "DataPipelineDefaultRole"), str("resourceRole", "DataPipelineDefaultResourceRole"),
				str("pipelineLogUri", "s3://logs/"), str("workerGroup", "wg-alarms"), ref("schedule", "Hourly")),
			object("Hourly", "Hourly", str("type", "Schedule"), str("period", "1 hour"),
				str("startDateTime", stamp), str("occurrences", "1")),
			object("In", "In", str("type", "S3DataNode"), ref("precondition", "Ready"),
				str("directoryPath", "s3://bucket/in/#{format(@scheduledStartTime,'YYYY-MM-dd-HH')}")),
			object("Ready", "Ready", str("type", "ShellCommandPrecondition"), str("command", "test -d #{node.directoryPath}")),
			object("Work", "Work", str("type", "ShellCommandActivity"), str("command", "work"),
				str("maximumRetries", "0"), ref("onFail", "FailAlarm")),
			object("Copy", "Copy", str("type", "ShellCommandActivity"), str("command", "copy"),
				ref("input", "In"), ref("onSuccess", "DoneAlarm")),
			object("FailAlarm", "FailAlarm", str("type", "SnsAlarm"), str("topicArn", topic), str("role", "DataPipelineDefaultRole"),
				str("subject", "FAILED: #{node.@componentParent} #{node.@scheduledStartTime}"),
				str("message", "#{node.name} ended #{node.@status}: #{node.errorMessage}")),
			object("DoneAlarm", "DoneAlarm", str("type", "SnsAlarm"), str("topicArn", topic), str("role", "DataPipelineDefaultRole"),
				str("subject", "COPY SUCCESS: #{node.@scheduledStartTime}"),
				str("message", "Files were copied from #{node.input}.")),
		},
	})
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}

	runner := &sdkRunner{t: t, c: c, workerGroup: "wg-alarms"}
	seen := map[string]bool{}
	for range 3 {
		task := runner.next(ctx)
		comp := attemptField(task, "@componentParent")
		switch {
		case slices.Equal(comp, []string{"Ready"}):
			if got, want := attemptField(task, "command"), []string{"test -d s3://bucket/in/" + start.Format("2006-01-02-15")}; !slices.Equal(got, want) {
				t.Errorf("precondition command = %q, want %q: node is the data node instance", got, want)
			}
			runner.finish(ctx, task, types.TaskStatusFinished, "")
		case slices.Equal(comp, []string{"Work"}):
			runner.finish(ctx, task, types.TaskStatusFailed, "disk full")
		case slices.Equal(comp, []string{"Copy"}):
			runner.finish(ctx, task, types.TaskStatusFinished, "")
		default:
			t.Fatalf("unexpected task for %v", comp)
		}
		seen[comp[0]] = true
	}
	if len(seen) != 3 {
		t.Fatalf("tasks for %v, want Ready, Work and Copy", seen)
	}

	for i := range 2 {
		select {
		case <-gotHook:
		case <-time.After(15 * time.Second):
			t.Fatalf("webhook got %d of 2 alarms within 15s", i)
		}
	}
	for i := 0; ; i++ {
		if p, _ := fakeSNS.Published(); len(p) >= 2 {
			break
		}
		select {
		case <-fakeSNS.Got():
		case <-time.After(15 * time.Second):
			t.Fatalf("fake SNS got %d of 2 alarms within 15s", i)
		}
	}
	want := map[string][2]string{ // subject → event, message
		// An instance's name is its id, as in DescribeObjects.
		"FAILED: Work " + stamp:  {"onFail", "@Work_" + stamp + " ended FAILED: disk full"},
		"COPY SUCCESS: " + stamp: {"onSuccess", "Files were copied from @In_" + stamp + "."},
	}
	mu.Lock()
	for _, p := range payloads {
		w, ok := want[p.Subject]
		if !ok || p.Event != w[0] || p.Message != w[1] || p.TopicArn != topic || p.PipelineID != id {
			t.Errorf("webhook payload %+v is not one of %v", p, want)
		}
	}
	mu.Unlock()
	published, auth := fakeSNS.Published()
	for i, v := range published {
		w, ok := want[v.Get("Subject")]
		if !ok || v.Get("Message") != w[1] || v.Get("TopicArn") != topic {
			t.Errorf("SNS Publish %v is not one of %v", v, want)
		}
		if !strings.Contains(auth[i], "Credential=AKIDALARMS/") {
			t.Errorf("SNS Publish signed as %q, want the SDK's default credential chain (AKIDALARMS)", auth[i])
		}
	}

	objs, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id),
		ObjectIds: []string{"@Work_" + stamp, "@Copy_" + stamp, "@Ready_" + stamp}})
	if err != nil {
		t.Fatalf("DescribeObjects: %v", err)
	}
	events := map[string][]string{}
	for _, o := range objs.PipelineObjects {
		events[aws.ToString(o.Id)] = fieldValues(o.Fields, "@event")
		if aws.ToString(o.Id) == "@Ready_"+stamp {
			if got := fieldValues(o.Fields, "node"); !slices.Equal(got, []string{"@In_" + stamp}) {
				t.Errorf("precondition instance node = %q, want the data node instance", got)
			}
		}
	}
	// Instances link to the instances they read: DescribeObjects shows
	// it both ways, and EvaluateExpression follows it.
	copyID, inID := "@Copy_"+stamp, "@In_"+stamp
	linked, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: []string{copyID, inID}})
	if err != nil || len(linked.PipelineObjects) != 2 {
		t.Fatalf("DescribeObjects(%s, %s) = %v, %v", copyID, inID, linked, err)
	}
	if got := fieldValues(linked.PipelineObjects[0].Fields, "input"); !slices.Equal(got, []string{inID}) {
		t.Errorf("%s input = %q, want [%s]", copyID, got, inID)
	}
	if got := fieldValues(linked.PipelineObjects[1].Fields, "output"); !slices.Equal(got, []string{copyID}) {
		t.Errorf("%s output = %q, want [%s] (its reader)", inID, got, copyID)
	}
	ev, err := c.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{PipelineId: aws.String(id),
		ObjectId: aws.String(copyID + "_Attempt=1"), Expression: aws.String("#{input.directoryPath} #{input.@status}")})
	if want := "s3://bucket/in/" + start.Format("2006-01-02-15") + " FINISHED"; err != nil || aws.ToString(ev.EvaluatedExpression) != want {
		t.Errorf("EvaluateExpression(#{input.directoryPath}) on the attempt = %v, %v; want %q", ev, err, want)
	}

	for inst, suffix := range map[string]string{
		"@Work_" + stamp: " onFail SnsAlarm FailAlarm: FAILED: Work " + stamp,
		"@Copy_" + stamp: " onSuccess SnsAlarm DoneAlarm: COPY SUCCESS: " + stamp,
	} {
		if ev := events[inst]; len(ev) != 1 || !strings.HasSuffix(ev[0], suffix) {
			t.Errorf("%s @event = %q, want one event ending %q", inst, ev, suffix)
		}
	}
}
