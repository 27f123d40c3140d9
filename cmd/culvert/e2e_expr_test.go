package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/google/go-cmp/cmp"
)

// exprDefinition is a complete on-demand definition, shaped like AWS's
// getting-started sample, whose fields use parameters (a default, supplied
// values, an Integer and an array), references, inheritance from Default,
// and a runtime field only instances have.
func exprDefinition() *datapipeline.PutPipelineDefinitionInput {
	param := func(id string, attrs ...string) types.ParameterObject {
		p := types.ParameterObject{Id: aws.String(id)}
		for i := 0; i+1 < len(attrs); i += 2 {
			p.Attributes = append(p.Attributes, types.ParameterAttribute{Key: aws.String(attrs[i]), StringValue: aws.String(attrs[i+1])})
		}
		return p
	}
	value := func(id, v string) types.ParameterValue {
		return types.ParameterValue{Id: aws.String(id), StringValue: aws.String(v)}
	}
	return &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default",
				str("scheduleType", "ondemand"),
				str("failureAndRerunMode", "CASCADE"),
				str("role", "DataPipelineDefaultRole"),
				str("resourceRole", "DataPipelineDefaultResourceRole"),
				str("pipelineLogUri", "s3://example-bucket/logs/"),
				ref("schedule", "OnDemand")),
			object("OnDemand", "OnDemand",
				str("type", "Schedule"),
				str("period", "ONDEMAND_PERIOD"),
				str("startAt", "ONDEMAND_ACTIVATION_TIME")),
			object("Input", "input",
				str("type", "S3DataNode"),
				str("directoryPath", "#{myInputPath}/#{name}")),
			object("Output", "output",
				str("type", "S3DataNode"),
				str("directoryPath", "#{myOutputPath}/#{format(@scheduledStartTime, 'YYYY-MM-dd')}")),
			object("Copy", "copy",
				str("type", "ShellCommandActivity"),
				str("workerGroup", "wg-expr"),
				ref("input", "Input"),
				ref("output", "Output"),
				str("command", "copy --parts #{myParts * 2} #{input.directoryPath} to #{myOutputPath}"),
				str("myLabelList", "label-#{myLabels}")),
		},
		ParameterObjects: []types.ParameterObject{
			param("myInputPath", "type", "AWS::S3::ObjectKey", "description", "Input folder", "default", "s3://example-bucket/in"),
			param("myOutputPath", "type", "AWS::S3::ObjectKey", "description", "Output folder", "default", "s3://example-bucket/out"),
			param("myParts", "type", "Integer", "default", "2"),
			param("myLabels", "type", "String", "isArray", "true"),
		},
		ParameterValues: []types.ParameterValue{
			value("myInputPath", "s3://example-bucket/today"),
			value("myParts", "4"),
			value("myLabels", "a"), value("myLabels", "b"),
		},
	}
}

// TestSDKExpressions evaluates expressions through the real client, with
// EvaluateExpression and DescribeObjects(evaluateExpressions)
// (docs/assumptions/0009).
func TestSDKExpressions(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t)
	c := s.devClient()
	ctx := context.Background()
	id := mustCreate(t, c, "expressions", "expressions-1")
	mustPut(t, c, id, exprDefinition())

	evaluate := func(objectID, expression string) (string, error) {
		out, err := c.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{
			PipelineId: aws.String(id), ObjectId: aws.String(objectID), Expression: aws.String(expression),
		})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.EvaluatedExpression), nil
	}
	for _, tc := range []struct{ objectID, expression, want string }{
		{"Copy", "#{command}", "copy --parts 8 s3://example-bucket/today/input to s3://example-bucket/out"},
		{"Copy", "run #{myParts + 1} on #{workerGroup} as #{role} for #{@pipelineId}", "run 5 on wg-expr as DataPipelineDefaultRole for " + id},
		{"Copy", "#{myLabels}", "a,b"},
		{"Copy", "#{myLabelList}", "label-a,label-b"},
		{"Input", "#{directoryPath} (#{@sphere}, parent #{parent.@id})", "s3://example-bucket/today/input (COMPONENT, parent Default)"},
		{"OnDemand", "plain text", "plain text"},
	} {
		got, err := evaluate(tc.objectID, tc.expression)
		if err != nil {
			t.Errorf("EvaluateExpression(%s, %q): %v", tc.objectID, tc.expression, err)
		} else if got != tc.want {
			t.Errorf("EvaluateExpression(%s, %q) = %q, want %q", tc.objectID, tc.expression, got, tc.want)
		}
	}
	for _, tc := range []struct{ objectID, expression, wantMsg string }{
		{"Output", "#{directoryPath}", "'@scheduledStartTime' is a runtime field of instances; component 'Output' has no value for it"},
		{"Copy", "#{myParts +}", "line 1 col 12"},
	} {
		_, err := evaluate(tc.objectID, tc.expression)
		if code := errorCode(err); code != "InvalidRequestException" {
			t.Errorf("EvaluateExpression(%s, %q) error = %v, want InvalidRequestException", tc.objectID, tc.expression, err)
		} else if !strings.Contains(err.Error(), tc.wantMsg) {
			t.Errorf("EvaluateExpression(%s, %q) error = %v, want it to contain %q", tc.objectID, tc.expression, err, tc.wantMsg)
		}
	}

	// DescribeObjects evaluates each field holding an expression; a list
	// repeats the key, and what a component cannot evaluate stays as written.
	out, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{
		PipelineId: aws.String(id), ObjectIds: []string{"Copy", "Output"}, EvaluateExpressions: true,
	})
	if err != nil {
		t.Fatalf("DescribeObjects(evaluateExpressions): %v", err)
	}
	if len(out.PipelineObjects) != 2 {
		t.Fatalf("DescribeObjects returned %d objects, want 2", len(out.PipelineObjects))
	}
	copyFields, outputFields := out.PipelineObjects[0].Fields, out.PipelineObjects[1].Fields
	want := map[string][]string{
		"command":     {"copy --parts 8 s3://example-bucket/today/input to s3://example-bucket/out"},
		"myLabelList": {"label-a", "label-b"},
		"type":        {"ShellCommandActivity"},
		"input":       {"Input"},
	}
	for key, values := range want {
		if diff := cmp.Diff(values, fieldValues(copyFields, key)); diff != "" {
			t.Errorf("Copy's %s (-want +got):\n%s", key, diff)
		}
	}
	if got, want := field(t, outputFields, "directoryPath"), "#{myOutputPath}/#{format(@scheduledStartTime, 'YYYY-MM-dd')}"; got != want {
		t.Errorf("Output's directoryPath = %q, want it as written", got)
	}

	// Without the flag, values are as stored.
	out, err = c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(id), ObjectIds: []string{"Copy"}})
	if err != nil {
		t.Fatalf("DescribeObjects: %v", err)
	}
	if got, want := field(t, out.PipelineObjects[0].Fields, "myLabelList"), "label-#{myLabels}"; got != want {
		t.Errorf("Copy's myLabelList without evaluateExpressions = %q, want %q", got, want)
	}
}
