package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// TestSecretsNeverLogged drives every call that judges or evaluates a
// definition holding a '*' field and a '*' parameter, wrong and right, with
// the server logging at debug level, and checks that no secret value shows
// up in the log or in a validation message.
func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	const (
		fieldSecret = "Fld-S3cr3t-7f2a"
		paramSecret = "Prm-S3cr3t-91bc"
	)
	s := mustRunServer(t)
	c := s.devClient()
	ctx := context.Background()
	id := mustCreate(t, c, "secrets", "secrets")

	definition := func(paramType string) *datapipeline.PutPipelineDefinitionInput {
		return &datapipeline.PutPipelineDefinitionInput{
			PipelineId: aws.String(id),
			PipelineObjects: []types.PipelineObject{
				object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "cascade"),
					str("pipelineLogUri", "s3://logs/"), str("role", "DataPipelineDefaultRole"),
					str("resourceRole", "DataPipelineDefaultResourceRole")),
				object("Db", "Db", str("type", "JdbcDatabase"), str("connectionString", "jdbc:postgresql://db/x"),
					str("jdbcDriverClass", "org.postgresql.Driver"), str("username", "etl"), str("*password", fieldSecret)),
				object("Act", "Act", str("type", "ShellCommandActivity"), str("workerGroup", "wg"),
					str("command", "login --password #{*myPassword}")),
			},
			ParameterObjects: []types.ParameterObject{{Id: aws.String("*myPassword"), Attributes: []types.ParameterAttribute{
				{Key: aws.String("type"), StringValue: aws.String(paramType)},
			}}},
			ParameterValues: []types.ParameterValue{{Id: aws.String("*myPassword"), StringValue: aws.String(paramSecret)}},
		}
	}
	leaks := func(where, text string) {
		t.Helper()
		for _, secret := range []string{fieldSecret, paramSecret} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows the secret %q:\n%s", where, secret, text)
			}
		}
	}

	// An Integer parameter whose value is not a number: the error must say
	// so without repeating the value.
	bad := definition("Integer")
	v, err := c.ValidatePipelineDefinition(ctx, &datapipeline.ValidatePipelineDefinitionInput{
		PipelineId: bad.PipelineId, PipelineObjects: bad.PipelineObjects,
		ParameterObjects: bad.ParameterObjects, ParameterValues: bad.ParameterValues,
	})
	if err != nil {
		t.Fatalf("ValidatePipelineDefinition: %v", err)
	}
	if !v.Errored {
		t.Errorf("an Integer parameter with value %q validated clean", paramSecret)
	}
	for _, e := range v.ValidationErrors {
		leaks("validation error on "+aws.ToString(e.Id), strings.Join(e.Errors, "\n"))
	}
	put, err := c.PutPipelineDefinition(ctx, bad)
	if err != nil {
		t.Fatalf("PutPipelineDefinition: %v", err)
	}
	for _, e := range put.ValidationErrors {
		leaks("validation error on "+aws.ToString(e.Id), strings.Join(e.Errors, "\n"))
	}
	_, err = c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)})
	if err == nil {
		t.Fatal("ActivatePipeline of an errored definition succeeded")
	}
	leaks("ActivatePipeline's error", err.Error())

	mustPut(t, c, id, definition("String"))
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}
	for _, e := range []string{"#{*myPassword}", "#{*password}", "#{*myPassword + 1", "#{*myPassword.nope}"} {
		// The results are the owner's to see; only the log must not show them.
		c.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{
			PipelineId: aws.String(id), ObjectId: aws.String("Act"), Expression: aws.String(e),
		})
	}
	if _, err := c.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{
		PipelineId: aws.String(id), ObjectIds: []string{"Db", "Act"}, EvaluateExpressions: true,
	}); err != nil {
		t.Errorf("DescribeObjects: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	leaks("the server log", s.Log.String())
}
