package main

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// definition returns a realistic definition of n objects (n ≥ 6): one
// Default, a few Schedules, Ec2Resources, and S3DataNodes in and out of
// ShellCommandActivities that run on the resources and depend on each
// other. Every object has 5–6 fields, references included, and every
// reference resolves, so the definition validates without errors. At
// n = 100 it is about 27 KB of JSON, most of it the key/stringValue
// framing of its ~540 fields.
func definition(n int) []types.PipelineObject {
	schedules := max(2, n/25)
	resources := max(1, n*15/100)
	rest := n - 1 - schedules - resources
	nodes := (rest + 1) / 2
	activities := rest - nodes

	objs := make([]types.PipelineObject, 0, n)
	add := func(id, name string, fields ...types.Field) {
		objs = append(objs, types.PipelineObject{Id: aws.String(id), Name: aws.String(name), Fields: fields})
	}
	str := func(k, v string) types.Field { return types.Field{Key: aws.String(k), StringValue: aws.String(v)} }
	ref := func(k, v string) types.Field { return types.Field{Key: aws.String(k), RefValue: aws.String(v)} }
	schedule := func(i int) string { return fmt.Sprintf("Sched%d", i%schedules) }
	resource := func(i int) string { return fmt.Sprintf("Ec2_%02d", i%resources) }
	node := func(i int) string { return fmt.Sprintf("Node%02d", i%nodes) }

	add("Default", "Default",
		str("scheduleType", "cron"),
		str("failureAndRerunMode", "CASCADE"),
		str("role", "DataPipelineDefaultRole"),
		str("resourceRole", "DataPipelineDefaultResourceRole"),
		str("pipelineLogUri", "s3://bench-logs/"),
		ref("schedule", schedule(0)),
	)
	for i := range schedules {
		add(schedule(i), fmt.Sprintf("every %dh", 6*(i+1)),
			str("type", "Schedule"),
			str("period", fmt.Sprintf("%d hours", 6*(i+1))),
			str("startDateTime", "2024-01-01T00:00:00"),
			str("occurrences", "90"),
			ref("parent", "Default"),
		)
	}
	for i := range resources {
		add(resource(i), fmt.Sprintf("worker %d", i),
			str("type", "Ec2Resource"),
			str("instanceType", "m5.large"),
			str("terminateAfter", "2 Hours"),
			str("subnetId", fmt.Sprintf("subnet-%04d", i)),
			ref("schedule", schedule(i)),
		)
	}
	for i := range nodes {
		add(node(i), fmt.Sprintf("part %d", i),
			str("type", "S3DataNode"),
			str("directoryPath", fmt.Sprintf("s3://bench/in/%02d", i)),
			str("compression", "gzip"),
			ref("schedule", schedule(i)),
			ref("parent", "Default"),
		)
	}
	for i := range activities {
		fields := []types.Field{
			str("type", "ShellCommandActivity"),
			str("command", fmt.Sprintf("./etl.sh %d", i)),
			ref("input", node(i)),
			ref("output", node(i+1)),
			ref("runsOn", resource(i)),
		}
		if i > 0 {
			fields = append(fields, ref("dependsOn", fmt.Sprintf("Act%02d", i-1)))
		}
		add(fmt.Sprintf("Act%02d", i), fmt.Sprintf("etl %d", i), fields...)
	}
	return objs
}

// objectIDs returns the ids of objs in order.
func objectIDs(objs []types.PipelineObject) []string {
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = aws.ToString(o.Id)
	}
	return ids
}

// wireSize is the size of the PutPipelineDefinition request body that
// carries objs, as the SDK encodes it (up to the order of members).
func wireSize(pipelineID string, objs []types.PipelineObject) int {
	type field struct {
		Key         string  `json:"key"`
		StringValue *string `json:"stringValue,omitempty"`
		RefValue    *string `json:"refValue,omitempty"`
	}
	type object struct {
		Fields []field `json:"fields"`
		ID     string  `json:"id"`
		Name   string  `json:"name"`
	}
	body := struct {
		PipelineID string   `json:"pipelineId"`
		Objects    []object `json:"pipelineObjects"`
	}{PipelineID: pipelineID}
	for _, o := range objs {
		wo := object{ID: aws.ToString(o.Id), Name: aws.ToString(o.Name)}
		for _, f := range o.Fields {
			wo.Fields = append(wo.Fields, field{Key: aws.ToString(f.Key), StringValue: f.StringValue, RefValue: f.RefValue})
		}
		body.Objects = append(body.Objects, wo)
	}
	b, _ := json.Marshal(body)
	return len(b)
}
