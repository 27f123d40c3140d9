package main

import (
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/pipeline/pipelinetest"
)

// definition returns the realistic definition of n objects (n ≥ 6) that the
// service benchmarks also use (pipelinetest.Definition): one Default, a few
// Schedules, Ec2Resources, and S3DataNodes in and out of
// ShellCommandActivities that run on the resources and depend on each
// other. Every reference resolves, so it validates without errors. At
// n = 100 it is about 27 KB of JSON, most of it the key/stringValue
// framing of its ~540 fields.
func definition(n int) []types.PipelineObject {
	objs := pipelinetest.Definition(n)
	out := make([]types.PipelineObject, len(objs))
	for i, o := range objs {
		fields := make([]types.Field, len(o.Fields))
		for j, f := range o.Fields {
			fields[j] = types.Field{Key: aws.String(f.Key), StringValue: f.StringValue, RefValue: f.RefValue}
		}
		out[i] = types.PipelineObject{Id: aws.String(o.ID), Name: aws.String(o.Name), Fields: fields}
	}
	return out
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
