package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// These tests drive the server with the real aws-sdk-go-v2 Data Pipeline
// client, so they cover the wire format the SDK actually sends and parses:
// every one of the 19 operations, the three paginators and the modelled
// errors as the SDK's typed errors.

// sdkCmp compares SDK shapes, which embed an unexported marker type.
var sdkCmp = cmpopts.IgnoreUnexported(
	types.Field{}, types.PipelineObject{}, types.ParameterObject{}, types.ParameterAttribute{},
	types.ParameterValue{}, types.Tag{}, types.PipelineIdName{}, types.ValidationError{},
	types.ValidationWarning{}, types.PipelineDescription{},
)

func str(k, v string) types.Field { return types.Field{Key: aws.String(k), StringValue: aws.String(v)} }
func ref(k, v string) types.Field { return types.Field{Key: aws.String(k), RefValue: aws.String(v)} }

func object(id, name string, fields ...types.Field) types.PipelineObject {
	return types.PipelineObject{Id: aws.String(id), Name: aws.String(name), Fields: fields}
}

// sampleDefinition is a realistic five-object definition with parameters:
// a daily schedule, an EC2 resource, an S3 input and a shell activity that
// uses a parameter. Values carry characters JSON must escape.
func sampleDefinition() *datapipeline.PutPipelineDefinitionInput {
	return &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default",
				str("scheduleType", "cron"),
				str("failureAndRerunMode", "CASCADE"),
				ref("schedule", "DailySchedule"),
				str("role", "DataPipelineDefaultRole"),
				str("resourceRole", "DataPipelineDefaultResourceRole"),
				str("pipelineLogUri", "s3://example-bucket/logs/")),
			object("DailySchedule", "Every day",
				str("type", "Schedule"),
				str("period", "1 day"),
				str("startDateTime", "2026-01-01T00:00:00")),
			object("Ec2", "Worker",
				str("type", "Ec2Resource"),
				str("instanceType", "t1.micro"),
				str("securityGroups", "default"),
				str("securityGroups", "ssh-only"),
				str("terminateAfter", "50 minutes")),
			object("Input", "Input data",
				str("type", "S3DataNode"),
				str("directoryPath", "#{myInputPath}")),
			object("Copy", "Copy \"quoted\" <data> & more – ünïcode",
				str("type", "ShellCommandActivity"),
				ref("runsOn", "Ec2"),
				ref("input", "Input"),
				str("command", "cp -r ${INPUT1_STAGING_DIR}/* /tmp/out\n\techo done")),
		},
		ParameterObjects: []types.ParameterObject{{
			Id: aws.String("myInputPath"),
			Attributes: []types.ParameterAttribute{
				{Key: aws.String("type"), StringValue: aws.String("AWS::S3::ObjectKey")},
				{Key: aws.String("description"), StringValue: aws.String("Where the input lives")},
				{Key: aws.String("default"), StringValue: aws.String("s3://example-bucket/in/")},
			},
		}},
		ParameterValues: []types.ParameterValue{
			{Id: aws.String("myInputPath"), StringValue: aws.String("s3://example-bucket/today/")},
		},
	}
}

func sampleIDs() []string { return []string{"Default", "DailySchedule", "Ec2", "Input", "Copy"} }

// waitState describes pipeline id until its @pipelineState is want, which
// the scheduler reaches asynchronously, and fails after 10 seconds.
func waitState(t *testing.T, c *datapipeline.Client, id, want string) types.PipelineDescription {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := describe(t, c, id)
		got := field(t, d.Fields, "@pipelineState")
		if got == want {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("@pipelineState = %q after 10 s, want %q", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mustCreate creates a pipeline and returns its id.
func mustCreate(t *testing.T, c *datapipeline.Client, name, uniqueID string) string {
	t.Helper()
	out, err := c.CreatePipeline(context.Background(), &datapipeline.CreatePipelineInput{
		Name: aws.String(name), UniqueId: aws.String(uniqueID),
	})
	if err != nil {
		t.Fatalf("CreatePipeline(%s, %s): %v", name, uniqueID, err)
	}
	return aws.ToString(out.PipelineId)
}

// mustPut puts def on pipeline id and fails unless it is clean.
func mustPut(t *testing.T, c *datapipeline.Client, id string, def *datapipeline.PutPipelineDefinitionInput) {
	t.Helper()
	in := *def
	in.PipelineId = aws.String(id)
	out, err := c.PutPipelineDefinition(context.Background(), &in)
	if err != nil {
		t.Fatalf("PutPipelineDefinition(%s): %v", id, err)
	}
	if out.Errored || len(out.ValidationErrors) > 0 {
		t.Fatalf("PutPipelineDefinition(%s) errored=%v errors=%v, want a clean definition", id, out.Errored, out.ValidationErrors)
	}
}

// fieldValues returns every value of key in fields, strings and references
// alike.
func fieldValues(fields []types.Field, key string) []string {
	var out []string
	for _, f := range fields {
		if aws.ToString(f.Key) == key {
			if f.RefValue != nil {
				out = append(out, aws.ToString(f.RefValue))
			} else {
				out = append(out, aws.ToString(f.StringValue))
			}
		}
	}
	return out
}

// field returns the single value of key, failing if there is not exactly one.
func field(t *testing.T, fields []types.Field, key string) string {
	t.Helper()
	v := fieldValues(fields, key)
	if len(v) != 1 {
		t.Fatalf("field %s has values %q, want exactly one", key, v)
	}
	return v[0]
}

func describe(t *testing.T, c *datapipeline.Client, id string) types.PipelineDescription {
	t.Helper()
	out, err := c.DescribePipelines(context.Background(), &datapipeline.DescribePipelinesInput{PipelineIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribePipelines(%s): %v", id, err)
	}
	if len(out.PipelineDescriptionList) != 1 {
		t.Fatalf("DescribePipelines(%s) returned %d descriptions, want 1", id, len(out.PipelineDescriptionList))
	}
	return out.PipelineDescriptionList[0]
}

func tagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, tg := range tags {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

// TestSDKPipelineLifecycle walks one pipeline through its whole life with
// the pipeline-management operations, checking each output.
func TestSDKPipelineLifecycle(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t)
	c := s.devClient()
	ctx := context.Background()

	// CreatePipeline, idempotent on name and uniqueId.
	create := &datapipeline.CreatePipelineInput{
		Name: aws.String("nightly-copy"), UniqueId: aws.String("nightly-copy-token-1"),
		Description: aws.String("Copies yesterday's data"),
		Tags:        []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}, {Key: aws.String("team"), Value: aws.String("data")}},
	}
	out, err := c.CreatePipeline(ctx, create)
	if err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	id := aws.ToString(out.PipelineId)
	if !strings.HasPrefix(id, "df-") {
		t.Errorf("CreatePipeline id = %q, want a df- id", id)
	}
	again, err := c.CreatePipeline(ctx, create)
	if err != nil {
		t.Fatalf("CreatePipeline again: %v", err)
	}
	if got := aws.ToString(again.PipelineId); got != id {
		t.Errorf("CreatePipeline with the same name and uniqueId = %s, want the first id %s", got, id)
	}
	other := mustCreate(t, c, "nightly-copy", "nightly-copy-token-2")
	if other == id {
		t.Errorf("CreatePipeline with another uniqueId returned the same id %s", id)
	}

	// DescribePipelines of a fresh pipeline.
	d := describe(t, c, id)
	if got := aws.ToString(d.PipelineId); got != id {
		t.Errorf("DescribePipelines pipelineId = %s, want %s", got, id)
	}
	if got := aws.ToString(d.Name); got != "nightly-copy" {
		t.Errorf("DescribePipelines name = %q, want nightly-copy", got)
	}
	if got := aws.ToString(d.Description); got != "Copies yesterday's data" {
		t.Errorf("DescribePipelines description = %q", got)
	}
	for key, want := range map[string]string{
		"@pipelineState": "PENDING", "name": "nightly-copy", "uniqueId": "nightly-copy-token-1",
		"@id": id, "@sphere": "PIPELINE", "@accountId": devAccount, "@userId": devAccount,
		"pipelineCreator": devAccount, "description": "Copies yesterday's data",
	} {
		if got := field(t, d.Fields, key); got != want {
			t.Errorf("DescribePipelines field %s = %q, want %q", key, got, want)
		}
	}
	created, err := time.Parse("2006-01-02T15:04:05", field(t, d.Fields, "@creationTime"))
	if err != nil || time.Since(created) > time.Minute || time.Until(created) > 2*time.Second {
		t.Errorf("DescribePipelines @creationTime = %v (%v), want about now", created, err)
	}
	if diff := cmp.Diff(map[string]string{"env": "test", "team": "data"}, tagMap(d.Tags)); diff != "" {
		t.Errorf("DescribePipelines tags mismatch (-want +got):\n%s", diff)
	}

	// GetPipelineDefinition before any definition: an empty definition.
	got, err := c.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetPipelineDefinition before a put: %v", err)
	}
	if len(got.PipelineObjects) != 0 {
		t.Errorf("GetPipelineDefinition before a put: %d objects, want none", len(got.PipelineObjects))
	}

	// ValidatePipelineDefinition: clean, then a reference to nothing.
	def := sampleDefinition()
	v, err := c.ValidatePipelineDefinition(ctx, &datapipeline.ValidatePipelineDefinitionInput{
		PipelineId: aws.String(id), PipelineObjects: def.PipelineObjects,
		ParameterObjects: def.ParameterObjects, ParameterValues: def.ParameterValues,
	})
	if err != nil {
		t.Fatalf("ValidatePipelineDefinition: %v", err)
	}
	if v.Errored || len(v.ValidationErrors) != 0 {
		t.Errorf("ValidatePipelineDefinition of the sample: errored=%v %v, want clean", v.Errored, v.ValidationErrors)
	}
	broken := slices.Clone(def.PipelineObjects)
	broken[4] = object("Copy", "Copy", str("type", "ShellCommandActivity"), str("command", "true"), ref("runsOn", "NoSuchResource"))
	v, err = c.ValidatePipelineDefinition(ctx, &datapipeline.ValidatePipelineDefinitionInput{PipelineId: aws.String(id),
		PipelineObjects: broken, ParameterObjects: def.ParameterObjects})
	if err != nil {
		t.Fatalf("ValidatePipelineDefinition of a broken definition: %v", err)
	}
	if !v.Errored || len(v.ValidationErrors) != 1 || aws.ToString(v.ValidationErrors[0].Id) != "Copy" ||
		len(v.ValidationErrors[0].Errors) != 1 || !strings.Contains(v.ValidationErrors[0].Errors[0], "NoSuchResource") {
		t.Errorf("ValidatePipelineDefinition of a missing reference: errored=%v errors=%+v, want one error on Copy naming NoSuchResource",
			v.Errored, v.ValidationErrors)
	}
	// Validation stores nothing.
	if got, err := c.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(id)}); err != nil || len(got.PipelineObjects) != 0 {
		t.Errorf("GetPipelineDefinition after validating: %d objects, %v; want nothing stored", len(got.PipelineObjects), err)
	}

	// PutPipelineDefinition and read it back exactly.
	mustPut(t, c, id, def)
	got, err = c.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(id), Version: aws.String("latest")})
	if err != nil {
		t.Fatalf("GetPipelineDefinition: %v", err)
	}
	if diff := cmp.Diff(def.PipelineObjects, got.PipelineObjects, sdkCmp); diff != "" {
		t.Errorf("GetPipelineDefinition objects mismatch (-put +got):\n%s", diff)
	}
	if diff := cmp.Diff(def.ParameterObjects, got.ParameterObjects, sdkCmp); diff != "" {
		t.Errorf("GetPipelineDefinition parameterObjects mismatch (-put +got):\n%s", diff)
	}
	if diff := cmp.Diff(def.ParameterValues, got.ParameterValues, sdkCmp); diff != "" {
		t.Errorf("GetPipelineDefinition parameterValues mismatch (-put +got):\n%s", diff)
	}
	if got, err := c.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(id), Version: aws.String("active")}); err != nil || len(got.PipelineObjects) != 0 {
		t.Errorf("GetPipelineDefinition active before activation: %d objects, %v; want none", len(got.PipelineObjects), err)
	}
	if got := field(t, describe(t, c, id).Fields, "@version"); got != "1" {
		t.Errorf("@version after the first put = %q, want 1", got)
	}

	// ActivatePipeline with a start time and parameter values.
	start := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{
		PipelineId:      aws.String(id),
		StartTimestamp:  aws.Time(start),
		ParameterValues: []types.ParameterValue{{Id: aws.String("myInputPath"), StringValue: aws.String("s3://example-bucket/backfill/")}},
	}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}
	d = describe(t, c, id)
	if got := field(t, d.Fields, "@pipelineState"); got != "SCHEDULED" {
		t.Errorf("@pipelineState after activation = %q, want SCHEDULED", got)
	}
	first := field(t, d.Fields, "@firstActivationTime")
	if last := field(t, d.Fields, "@lastActivationTime"); last != first {
		t.Errorf("@lastActivationTime = %s, want @firstActivationTime %s after one activation", last, first)
	}
	active, err := c.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(id), Version: aws.String("active")})
	if err != nil {
		t.Fatalf("GetPipelineDefinition active: %v", err)
	}
	if diff := cmp.Diff(def.PipelineObjects, active.PipelineObjects, sdkCmp); diff != "" {
		t.Errorf("active definition objects mismatch (-put +got):\n%s", diff)
	}
	wantValues := []types.ParameterValue{{Id: aws.String("myInputPath"), StringValue: aws.String("s3://example-bucket/backfill/")}}
	if diff := cmp.Diff(wantValues, active.ParameterValues, sdkCmp); diff != "" {
		t.Errorf("active definition parameterValues mismatch (-want +got):\n%s", diff)
	}

	// DescribeObjects: the stored fields plus what the service adds.
	objs, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: []string{"Ec2", "Default", "NoSuchObject"}})
	if err != nil {
		t.Fatalf("DescribeObjects: %v", err)
	}
	if ids := objectIDs(objs.PipelineObjects); !slices.Equal(ids, []string{"Ec2", "Default"}) {
		t.Fatalf("DescribeObjects ids = %q, want [Ec2 Default] (unknown ids skipped)", ids)
	}
	if objs.HasMoreResults {
		t.Errorf("DescribeObjects hasMoreResults = true for 2 objects")
	}
	ec2 := objs.PipelineObjects[0]
	if got := aws.ToString(ec2.Name); got != "Worker" {
		t.Errorf("DescribeObjects Ec2 name = %q, want Worker", got)
	}
	for key, want := range map[string][]string{
		"instanceType": {"t1.micro"}, "securityGroups": {"default", "ssh-only"}, "parent": {"Default"},
		"@sphere": {"COMPONENT"}, "@status": {"SCHEDULED"}, "@pipelineId": {id}, "@version": {"2"},
	} {
		if got := fieldValues(ec2.Fields, key); !slices.Equal(got, want) {
			t.Errorf("DescribeObjects Ec2 %s = %q, want %q", key, got, want)
		}
	}
	if got := fieldValues(objs.PipelineObjects[1].Fields, "parent"); len(got) != 0 {
		t.Errorf("DescribeObjects Default has parent %q, want none", got)
	}

	// QueryObjects: all components, then with selectors.
	query := func(sel ...types.Selector) []string {
		t.Helper()
		in := &datapipeline.QueryObjectsInput{PipelineId: aws.String(id), Sphere: aws.String("COMPONENT")}
		if sel != nil {
			in.Query = &types.Query{Selectors: sel}
		}
		out, err := c.QueryObjects(ctx, in)
		if err != nil {
			t.Fatalf("QueryObjects(%+v): %v", sel, err)
		}
		if out.HasMoreResults {
			t.Errorf("QueryObjects hasMoreResults = true for a 5-object pipeline")
		}
		return out.Ids
	}
	if diff := cmp.Diff(sampleIDs(), query()); diff != "" {
		t.Errorf("QueryObjects all components mismatch (-want +got):\n%s", diff)
	}
	eq := func(field, value string) types.Selector {
		return types.Selector{FieldName: aws.String(field), Operator: &types.Operator{Type: types.OperatorTypeEqual, Values: []string{value}}}
	}
	if diff := cmp.Diff([]string{"Copy"}, query(eq("type", "ShellCommandActivity"))); diff != "" {
		t.Errorf("QueryObjects type EQ ShellCommandActivity mismatch (-want +got):\n%s", diff)
	}
	refEq := types.Selector{FieldName: aws.String("runsOn"), Operator: &types.Operator{Type: types.OperatorTypeReferenceEqual, Values: []string{"Ec2"}}}
	if diff := cmp.Diff([]string{"Copy"}, query(refEq)); diff != "" {
		t.Errorf("QueryObjects runsOn REF_EQ Ec2 mismatch (-want +got):\n%s", diff)
	}
	between := types.Selector{FieldName: aws.String("startDateTime"), Operator: &types.Operator{Type: types.OperatorTypeBetween, Values: []string{"2025-12-31T00:00:00", "2026-01-02T00:00:00"}}}
	if diff := cmp.Diff([]string{"DailySchedule"}, query(between)); diff != "" {
		t.Errorf("QueryObjects startDateTime BETWEEN mismatch (-want +got):\n%s", diff)
	}
	if got := query(eq("type", "ShellCommandActivity"), eq("name", "Worker")); len(got) != 0 {
		t.Errorf("QueryObjects with two selectors no object satisfies = %q, want none", got)
	}
	// The pipeline is active with a daily schedule from 2026-01-01, so the
	// scheduler has backfilled instances, in scheduled order.
	// The scheduler works asynchronously: wait for its first step.
	var inst *datapipeline.QueryObjectsOutput
	for deadline := time.Now().Add(10 * time.Second); ; {
		inst, err = c.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: aws.String(id), Sphere: aws.String("INSTANCE")})
		if err != nil || len(inst.Ids) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || len(inst.Ids) < 3 || inst.Ids[0] != "@Copy_2026-01-01T00:00:00" {
		t.Errorf("QueryObjects INSTANCE = %v, %v; want the backfill's instances, @Copy_2026-01-01T00:00:00 first", inst, err)
	} else {
		objs, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: inst.Ids[:1]})
		if err != nil || len(objs.PipelineObjects) != 1 {
			t.Fatalf("DescribeObjects(%s) = %v, %v", inst.Ids[0], objs, err)
		}
		f := objs.PipelineObjects[0].Fields
		if field(t, f, "@componentParent") != "Copy" || field(t, f, "@sphere") != "INSTANCE" ||
			field(t, f, "@scheduledStartTime") != "2026-01-01T00:00:00" || field(t, f, "@scheduledEndTime") != "2026-01-02T00:00:00" {
			t.Errorf("DescribeObjects of the first instance = %+v", objs.PipelineObjects[0])
		}
	}

	// SetStatus pauses and resumes a component.
	statusOf := func(objectID string) string {
		t.Helper()
		out, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: []string{objectID}})
		if err != nil || len(out.PipelineObjects) != 1 {
			t.Fatalf("DescribeObjects(%s): %v", objectID, err)
		}
		return field(t, out.PipelineObjects[0].Fields, "@status")
	}
	if _, err := c.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: aws.String(id), ObjectIds: []string{"Copy"}, Status: aws.String("PAUSE")}); err != nil {
		t.Fatalf("SetStatus PAUSE: %v", err)
	}
	if got := statusOf("Copy"); got != "PAUSED" {
		t.Errorf("@status of Copy after PAUSE = %q, want PAUSED", got)
	}
	if got := statusOf("Ec2"); got != "SCHEDULED" {
		t.Errorf("@status of Ec2 after pausing Copy = %q, want SCHEDULED", got)
	}
	if diff := cmp.Diff([]string{"Copy"}, query(eq("@status", "PAUSED"))); diff != "" {
		t.Errorf("QueryObjects @status EQ PAUSED mismatch (-want +got):\n%s", diff)
	}
	if _, err := c.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: aws.String(id), ObjectIds: []string{"Copy"}, Status: aws.String("resume")}); err != nil {
		t.Fatalf("SetStatus resume: %v", err)
	}
	if got := statusOf("Copy"); got != "SCHEDULED" {
		t.Errorf("@status of Copy after RESUME = %q, want SCHEDULED", got)
	}

	// EvaluateExpression of text without expressions.
	ev, err := c.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{
		PipelineId: aws.String(id), ObjectId: aws.String("Copy"), Expression: aws.String("s3://bucket/plain/text"),
	})
	if err != nil {
		t.Fatalf("EvaluateExpression: %v", err)
	}
	if got := aws.ToString(ev.EvaluatedExpression); got != "s3://bucket/plain/text" {
		t.Errorf("EvaluateExpression of plain text = %q, want it unchanged", got)
	}

	// AddTags adds and overwrites; RemoveTags removes and ignores unknown keys.
	if _, err := c.AddTags(ctx, &datapipeline.AddTagsInput{PipelineId: aws.String(id), Tags: []types.Tag{
		{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("cost-center"), Value: aws.String("42")},
	}}); err != nil {
		t.Fatalf("AddTags: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"env": "prod", "team": "data", "cost-center": "42"}, tagMap(describe(t, c, id).Tags)); diff != "" {
		t.Errorf("tags after AddTags mismatch (-want +got):\n%s", diff)
	}
	if _, err := c.RemoveTags(ctx, &datapipeline.RemoveTagsInput{PipelineId: aws.String(id), TagKeys: []string{"team", "no-such-key"}}); err != nil {
		t.Fatalf("RemoveTags: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"env": "prod", "cost-center": "42"}, tagMap(describe(t, c, id).Tags)); diff != "" {
		t.Errorf("tags after RemoveTags mismatch (-want +got):\n%s", diff)
	}

	// ListPipelines shows both pipelines in creation order.
	list, err := c.ListPipelines(ctx, &datapipeline.ListPipelinesInput{})
	if err != nil {
		t.Fatalf("ListPipelines: %v", err)
	}
	wantList := []types.PipelineIdName{{Id: aws.String(id), Name: aws.String("nightly-copy")}, {Id: aws.String(other), Name: aws.String("nightly-copy")}}
	if diff := cmp.Diff(wantList, list.PipelineIdList, sdkCmp); diff != "" || list.HasMoreResults || list.Marker != nil {
		t.Errorf("ListPipelines mismatch (-want +got):\n%s\nhasMoreResults=%v marker=%v", diff, list.HasMoreResults, list.Marker)
	}

	// DeactivatePipeline, twice (the second is a no-op), then reactivate.
	for range 2 {
		if _, err := c.DeactivatePipeline(ctx, &datapipeline.DeactivatePipelineInput{PipelineId: aws.String(id), CancelActive: aws.Bool(true)}); err != nil {
			t.Fatalf("DeactivatePipeline: %v", err)
		}
	}
	// The scheduler finishes a deactivation: DEACTIVATING, then INACTIVE.
	d = waitState(t, c, id, "INACTIVE")
	field(t, d.Fields, "@lastDeactivatedTime")
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("ActivatePipeline to resume: %v", err)
	}
	if got := field(t, describe(t, c, id).Fields, "@pipelineState"); got != "SCHEDULED" {
		t.Errorf("@pipelineState after resuming = %q, want SCHEDULED", got)
	}

	// DeletePipeline: gone from the list, deleted to Describe, not found to
	// a second delete.
	if _, err := c.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("DeletePipeline: %v", err)
	}
	_, err = c.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: []string{id}})
	var deleted *types.PipelineDeletedException
	if !errors.As(err, &deleted) {
		t.Errorf("DescribePipelines after delete: error %v, want PipelineDeletedException", err)
	}
	_, err = c.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: aws.String(id)})
	var notFound *types.PipelineNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("second DeletePipeline: error %v, want PipelineNotFoundException", err)
	}
	list, err = c.ListPipelines(ctx, &datapipeline.ListPipelinesInput{})
	if err != nil {
		t.Fatalf("ListPipelines after delete: %v", err)
	}
	if diff := cmp.Diff(wantList[1:], list.PipelineIdList, sdkCmp); diff != "" {
		t.Errorf("ListPipelines after delete mismatch (-want +got):\n%s", diff)
	}
	// The name and uniqueId of a deleted pipeline are free again.
	if again := mustCreate(t, c, "nightly-copy", "nightly-copy-token-1"); again == id {
		t.Errorf("CreatePipeline after delete returned the deleted id %s", id)
	}
}

func objectIDs(objs []types.PipelineObject) []string {
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = aws.ToString(o.Id)
	}
	return ids
}

// TestSDKTaskRunner covers the task-runner operations. No scheduler hands
// out tasks yet, so a poll comes back empty after --poll-wait and task ids
// are unknown.
func TestSDKTaskRunner(t *testing.T) {
	t.Parallel()
	const wait = 300 * time.Millisecond
	s := mustRunServer(t, "--poll-wait", wait.String())
	c := s.devClient()
	ctx := context.Background()

	start := time.Now()
	poll, err := c.PollForTask(ctx, &datapipeline.PollForTaskInput{
		WorkerGroup: aws.String("wg-e2e"), Hostname: aws.String("runner-1.example.com"),
		InstanceIdentity: &types.InstanceIdentity{Document: aws.String("{}"), Signature: aws.String("sig")},
	})
	if err != nil {
		t.Fatalf("PollForTask: %v", err)
	}
	if poll.TaskObject != nil {
		t.Errorf("PollForTask on an empty queue returned task %+v, want none", poll.TaskObject)
	}
	if d := time.Since(start); d < wait-50*time.Millisecond || d > wait+5*time.Second {
		t.Errorf("PollForTask on an empty queue returned after %v, want about --poll-wait %v", d, wait)
	}

	hb, err := c.ReportTaskRunnerHeartbeat(ctx, &datapipeline.ReportTaskRunnerHeartbeatInput{
		TaskrunnerId: aws.String("runner-1"), WorkerGroup: aws.String("wg-e2e"), Hostname: aws.String("runner-1.example.com"),
	})
	if err != nil {
		t.Fatalf("ReportTaskRunnerHeartbeat: %v", err)
	}
	if hb.Terminate {
		t.Errorf("ReportTaskRunnerHeartbeat terminate = true, want false")
	}

	var tnf *types.TaskNotFoundException
	_, err = c.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{
		TaskId: aws.String("no-such-task"), Fields: []types.Field{str("progress", "50%")},
	})
	if !errors.As(err, &tnf) {
		t.Errorf("ReportTaskProgress of an unknown task: error %v, want TaskNotFoundException", err)
	}
	_, err = c.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{
		TaskId: aws.String("no-such-task"), TaskStatus: types.TaskStatusFailed,
		ErrorId: aws.String("java.io.IOException"), ErrorMessage: aws.String("disk full"), ErrorStackTrace: aws.String("at Foo.bar(Foo.java:1)"),
	})
	if !errors.As(err, &tnf) {
		t.Errorf("SetTaskStatus of an unknown task: error %v, want TaskNotFoundException", err)
	}
}

// TestSDKPaginators runs the SDK's three paginators to the end.
func TestSDKPaginators(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ListPipelines", func(t *testing.T) {
		t.Parallel()
		s := mustRunServer(t)
		c := s.devClient()
		var want []string
		for i := range 60 {
			want = append(want, mustCreate(t, c, fmt.Sprintf("pipeline-%02d", i), fmt.Sprintf("token-%02d", i)))
		}
		var got []string
		var sizes []int
		for p := datapipeline.NewListPipelinesPaginator(c, &datapipeline.ListPipelinesInput{}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListPipelines page %d: %v", len(sizes)+1, err)
			}
			sizes = append(sizes, len(page.PipelineIdList))
			for i, e := range page.PipelineIdList {
				if want := fmt.Sprintf("pipeline-%02d", len(got)); aws.ToString(e.Name) != want {
					t.Errorf("page %d entry %d name = %q, want %q", len(sizes), i, aws.ToString(e.Name), want)
				}
				got = append(got, aws.ToString(e.Id))
			}
			if more := len(sizes) < 3; page.HasMoreResults != more {
				t.Errorf("page %d hasMoreResults = %v, want %v", len(sizes), page.HasMoreResults, more)
			}
		}
		if diff := cmp.Diff([]int{25, 25, 10}, sizes); diff != "" {
			t.Errorf("ListPipelines page sizes mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListPipelines ids mismatch (-created +listed):\n%s", diff)
		}
	})

	t.Run("DescribeObjects", func(t *testing.T) {
		t.Parallel()
		s := mustRunServer(t)
		c := s.devClient()
		id := mustCreate(t, c, "objects", "objects")
		mustPut(t, c, id, sampleDefinition())
		ask := []string{"Copy", "Input", "Missing", "Ec2", "DailySchedule", "Default"}
		var got []string
		pages := 0
		for p := datapipeline.NewDescribeObjectsPaginator(c, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: ask}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("DescribeObjects page %d: %v", pages+1, err)
			}
			pages++
			got = append(got, objectIDs(page.PipelineObjects)...)
		}
		if diff := cmp.Diff([]string{"Copy", "Input", "Ec2", "DailySchedule", "Default"}, got); diff != "" {
			t.Errorf("DescribeObjects ids mismatch (-want +got):\n%s", diff)
		}
		if pages != 1 {
			t.Errorf("DescribeObjects took %d pages for 6 ids, want 1", pages)
		}
	})

	t.Run("QueryObjects", func(t *testing.T) {
		t.Parallel()
		s := mustRunServer(t)
		c := s.devClient()
		id := mustCreate(t, c, "query", "query")
		mustPut(t, c, id, sampleDefinition())
		var pages [][]string
		for p := datapipeline.NewQueryObjectsPaginator(c, &datapipeline.QueryObjectsInput{
			PipelineId: aws.String(id), Sphere: aws.String("COMPONENT"), Limit: aws.Int32(2),
		}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("QueryObjects page %d: %v", len(pages)+1, err)
			}
			pages = append(pages, page.Ids)
			if more := len(pages) < 3; page.HasMoreResults != more || (page.Marker != nil) != more {
				t.Errorf("page %d hasMoreResults=%v marker=%v, want more=%v", len(pages), page.HasMoreResults, page.Marker, more)
			}
			if len(pages) > 5 {
				t.Fatalf("QueryObjects paginator did not stop: %q", pages)
			}
		}
		want := [][]string{{"Default", "DailySchedule"}, {"Ec2", "Input"}, {"Copy"}}
		if diff := cmp.Diff(want, pages); diff != "" {
			t.Errorf("QueryObjects pages mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestSDKErrors checks that each modelled error reaches the SDK as its
// typed error.
func TestSDKErrors(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t, "--poll-wait", "100ms")
	c := s.devClient()
	ctx := context.Background()

	live := mustCreate(t, c, "live", "live")
	mustPut(t, c, live, sampleDefinition())
	empty := mustCreate(t, c, "empty", "empty")
	errored := mustCreate(t, c, "errored", "errored")
	out, err := c.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: aws.String(errored),
		PipelineObjects: []types.PipelineObject{object("A", "A", ref("runsOn", "Nowhere"))}})
	if err != nil || !out.Errored {
		t.Fatalf("PutPipelineDefinition of an errored definition: errored=%v, %v; want it stored with errors", out != nil && out.Errored, err)
	}
	gone := mustCreate(t, c, "gone", "gone")
	if _, err := c.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: aws.String(gone)}); err != nil {
		t.Fatal(err)
	}
	const unknown = "df-0000000000000000000"

	var (
		notFound = isA[*types.PipelineNotFoundException]
		deleted  = isA[*types.PipelineDeletedException]
		invalid  = isA[*types.InvalidRequestException]
		noTask   = isA[*types.TaskNotFoundException]
	)
	// Operations that name a pipeline, to be tried on unknown and deleted ids.
	byPipeline := map[string]func(id string) error{
		"ActivatePipeline": func(id string) error {
			_, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)})
			return err
		},
		"AddTags": func(id string) error {
			_, err := c.AddTags(ctx, &datapipeline.AddTagsInput{PipelineId: aws.String(id), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		},
		"DeactivatePipeline": func(id string) error {
			_, err := c.DeactivatePipeline(ctx, &datapipeline.DeactivatePipelineInput{PipelineId: aws.String(id)})
			return err
		},
		"DescribeObjects": func(id string) error {
			_, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: []string{"Default"}})
			return err
		},
		"DescribePipelines": func(id string) error {
			_, err := c.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: []string{live, id}})
			return err
		},
		"EvaluateExpression": func(id string) error {
			_, err := c.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{PipelineId: aws.String(id), ObjectId: aws.String("Default"), Expression: aws.String("x")})
			return err
		},
		"GetPipelineDefinition": func(id string) error {
			_, err := c.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(id)})
			return err
		},
		"PutPipelineDefinition": func(id string) error {
			in := sampleDefinition()
			in.PipelineId = aws.String(id)
			_, err := c.PutPipelineDefinition(ctx, in)
			return err
		},
		"QueryObjects": func(id string) error {
			_, err := c.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: aws.String(id), Sphere: aws.String("COMPONENT")})
			return err
		},
		"RemoveTags": func(id string) error {
			_, err := c.RemoveTags(ctx, &datapipeline.RemoveTagsInput{PipelineId: aws.String(id), TagKeys: []string{"k"}})
			return err
		},
		"SetStatus": func(id string) error {
			_, err := c.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: aws.String(id), ObjectIds: []string{"Default"}, Status: aws.String("PAUSE")})
			return err
		},
		"ValidatePipelineDefinition": func(id string) error {
			in := sampleDefinition()
			_, err := c.ValidatePipelineDefinition(ctx, &datapipeline.ValidatePipelineDefinitionInput{PipelineId: aws.String(id), PipelineObjects: in.PipelineObjects})
			return err
		},
	}

	type errCase struct {
		name string
		call func() error
		want func(error) bool
		desc string
	}
	var tests []errCase
	for op, call := range byPipeline {
		tests = append(tests, errCase{op + " unknown pipeline", func() error { return call(unknown) }, notFound, "PipelineNotFoundException"})
		tests = append(tests, errCase{op + " deleted pipeline", func() error { return call(gone) }, deleted, "PipelineDeletedException"})
	}
	tests = append(tests,
		errCase{"DeletePipeline unknown pipeline", func() error {
			_, err := c.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: aws.String(unknown)})
			return err
		}, notFound, "PipelineNotFoundException"},
		errCase{"DeletePipeline deleted pipeline", func() error {
			// The model lists no PipelineDeletedException for DeletePipeline.
			_, err := c.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: aws.String(gone)})
			return err
		}, notFound, "PipelineNotFoundException"},
		errCase{"ActivatePipeline without a definition", func() error {
			_, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(empty)})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"ActivatePipeline of an errored definition", func() error {
			_, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(errored)})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"DeactivatePipeline never activated", func() error {
			_, err := c.DeactivatePipeline(ctx, &datapipeline.DeactivatePipelineInput{PipelineId: aws.String(empty)})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"PutPipelineDefinition fatal: empty name", func() error {
			_, err := c.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: aws.String(empty),
				PipelineObjects: []types.PipelineObject{object("A", "", str("type", "Schedule"))}})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"PutPipelineDefinition fatal: empty value", func() error {
			_, err := c.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: aws.String(empty),
				PipelineObjects: []types.PipelineObject{object("A", "A", str("type", ""))}})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"GetPipelineDefinition bad version", func() error {
			_, err := c.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(live), Version: aws.String("previous")})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"QueryObjects bad sphere", func() error {
			_, err := c.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: aws.String(live), Sphere: aws.String("GALAXY")})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"QueryObjects bad date", func() error {
			_, err := c.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: aws.String(live), Sphere: aws.String("COMPONENT"),
				Query: &types.Query{Selectors: []types.Selector{{FieldName: aws.String("startDateTime"), Operator: &types.Operator{Type: types.OperatorTypeGreaterThanOrEqual, Values: []string{"yesterday"}}}}}})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"QueryObjects marker of another operation", func() error {
			page, err := c.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: aws.String(live), Sphere: aws.String("COMPONENT"), Limit: aws.Int32(1)})
			if err != nil {
				return err
			}
			_, err = c.ListPipelines(ctx, &datapipeline.ListPipelinesInput{Marker: page.Marker})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"ListPipelines garbage marker", func() error {
			_, err := c.ListPipelines(ctx, &datapipeline.ListPipelinesInput{Marker: aws.String("not-a-marker")})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"DescribePipelines over 25 ids", func() error {
			ids := slices.Repeat([]string{live}, 26)
			_, err := c.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: ids})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"EvaluateExpression of an instance's runtime field on a component", func() error {
			_, err := c.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{PipelineId: aws.String(live), ObjectId: aws.String("Input"), Expression: aws.String("#{format(@scheduledStartTime,'YYYY')}")})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"EvaluateExpression unknown object", func() error {
			_, err := c.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{PipelineId: aws.String(live), ObjectId: aws.String("Nope"), Expression: aws.String("x")})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"SetStatus bad status", func() error {
			_, err := c.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: aws.String(live), ObjectIds: []string{"Copy"}, Status: aws.String("EXPLODE")})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"SetStatus unknown component", func() error {
			_, err := c.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: aws.String(live), ObjectIds: []string{"Nope"}, Status: aws.String("PAUSE")})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"AddTags over 10 tags", func() error {
			var tags []types.Tag
			for i := range 11 {
				tags = append(tags, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
			}
			_, err := c.AddTags(ctx, &datapipeline.AddTagsInput{PipelineId: aws.String(live), Tags: tags})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"CreatePipeline empty name", func() error {
			_, err := c.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String(""), UniqueId: aws.String("x")})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"SetTaskStatus reserved errorId", func() error {
			_, err := c.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: aws.String("t"), TaskStatus: types.TaskStatusFailed, ErrorId: aws.String("Service_Oops")})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"PollForTask empty worker group", func() error {
			_, err := c.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String("")})
			return err
		}, invalid, "InvalidRequestException"},
		errCase{"ReportTaskProgress unknown task", func() error {
			_, err := c.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: aws.String("no-such-task")})
			return err
		}, noTask, "TaskNotFoundException"},
		errCase{"SetTaskStatus unknown task", func() error {
			_, err := c.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: aws.String("no-such-task"), TaskStatus: types.TaskStatusFinished})
			return err
		}, noTask, "TaskNotFoundException"},
	)
	slices.SortFunc(tests, func(a, b errCase) int { return strings.Compare(a.name, b.name) })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.call()
			if !tc.want(err) {
				t.Errorf("error = %v, want %s", err, tc.desc)
			}
			if code := errorCode(err); code != tc.desc {
				t.Errorf("ErrorCode() = %q, want %q", code, tc.desc)
			}
		})
	}
}

// isA reports whether err has an error of type T in its chain.
func isA[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
