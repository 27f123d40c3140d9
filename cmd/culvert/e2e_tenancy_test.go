package main

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/google/go-cmp/cmp"
)

// Two accounts of one server, from a --credentials file.
const (
	keyA, secretA, accountA = "AKIDALICE00000000001", "alice/Secret+Key0000000000000000000000000", "111111111111"
	keyB, secretB, accountB = "AKIDBOB0000000000002", "bob/Secret+Key00000000000000000000000000", "222222222222"
)

const twoAccounts = "# culvert test keys\n" +
	keyA + " " + secretA + " " + accountA + "\n" +
	"\n" +
	keyB + "\t" + secretB + "\t" + accountB + "  # second account\n"

// TestTenancy checks over the wire that an account sees nothing of another:
// every operation on another account's pipeline is PipelineNotFound, as if
// it did not exist, and the owner's pipeline is untouched by the attempts.
func TestTenancy(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t, "--credentials", writeFile(t, "credentials", twoAccounts))
	a, b := s.client(keyA, secretA), s.client(keyB, secretB)
	ctx := context.Background()

	idA := mustCreate(t, a, "shared-name", "shared-token")
	mustPut(t, a, idA, sampleDefinition())
	if got := field(t, describe(t, a, idA).Fields, "@accountId"); got != accountA {
		t.Errorf("@accountId of A's pipeline = %s, want %s", got, accountA)
	}

	list, err := b.ListPipelines(ctx, &datapipeline.ListPipelinesInput{})
	if err != nil {
		t.Fatalf("ListPipelines as B: %v", err)
	}
	if len(list.PipelineIdList) != 0 {
		t.Errorf("ListPipelines as B = %d pipelines, want none", len(list.PipelineIdList))
	}

	attempts := map[string]func() error{
		"DescribePipelines": func() error {
			_, err := b.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: []string{idA}})
			return err
		},
		"GetPipelineDefinition": func() error {
			_, err := b.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(idA)})
			return err
		},
		"PutPipelineDefinition": func() error {
			in := sampleDefinition()
			in.PipelineId = aws.String(idA)
			in.PipelineObjects = in.PipelineObjects[:1]
			_, err := b.PutPipelineDefinition(ctx, in)
			return err
		},
		"ValidatePipelineDefinition": func() error {
			_, err := b.ValidatePipelineDefinition(ctx, &datapipeline.ValidatePipelineDefinitionInput{PipelineId: aws.String(idA), PipelineObjects: sampleDefinition().PipelineObjects})
			return err
		},
		"ActivatePipeline": func() error {
			_, err := b.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(idA)})
			return err
		},
		"DeactivatePipeline": func() error {
			_, err := b.DeactivatePipeline(ctx, &datapipeline.DeactivatePipelineInput{PipelineId: aws.String(idA)})
			return err
		},
		"AddTags": func() error {
			_, err := b.AddTags(ctx, &datapipeline.AddTagsInput{PipelineId: aws.String(idA), Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("bob")}}})
			return err
		},
		"RemoveTags": func() error {
			_, err := b.RemoveTags(ctx, &datapipeline.RemoveTagsInput{PipelineId: aws.String(idA), TagKeys: []string{"owner"}})
			return err
		},
		"DescribeObjects": func() error {
			_, err := b.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(idA), ObjectIds: []string{"Default"}})
			return err
		},
		"QueryObjects": func() error {
			_, err := b.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: aws.String(idA), Sphere: aws.String("COMPONENT")})
			return err
		},
		"EvaluateExpression": func() error {
			_, err := b.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{PipelineId: aws.String(idA), ObjectId: aws.String("Default"), Expression: aws.String("x")})
			return err
		},
		"SetStatus": func() error {
			_, err := b.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: aws.String(idA), ObjectIds: []string{"Copy"}, Status: aws.String("PAUSE")})
			return err
		},
		"DeletePipeline": func() error {
			_, err := b.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: aws.String(idA)})
			return err
		},
	}
	for op, call := range attempts {
		if err := call(); !isA[*types.PipelineNotFoundException](err) {
			t.Errorf("%s as B on A's pipeline: error %v, want PipelineNotFoundException", op, err)
		}
	}

	// A's pipeline is exactly as A left it.
	d := describe(t, a, idA)
	if got := field(t, d.Fields, "@pipelineState"); got != "PENDING" {
		t.Errorf("A's pipeline state after B's attempts = %s, want PENDING", got)
	}
	if len(d.Tags) != 0 {
		t.Errorf("A's pipeline tags after B's attempts = %v, want none", tagMap(d.Tags))
	}
	def, err := a.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(idA)})
	if err != nil {
		t.Fatalf("GetPipelineDefinition as A: %v", err)
	}
	if diff := cmp.Diff(sampleDefinition().PipelineObjects, def.PipelineObjects, sdkCmp); diff != "" {
		t.Errorf("A's definition after B's attempts mismatch (-want +got):\n%s", diff)
	}
	objs, err := a.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: aws.String(idA), ObjectIds: []string{"Copy"}})
	if err != nil || len(objs.PipelineObjects) != 1 {
		t.Fatalf("DescribeObjects as A: %v", err)
	}
	if got := field(t, objs.PipelineObjects[0].Fields, "@status"); got == "PAUSED" {
		t.Errorf("B paused A's component")
	}

	// The same name and uniqueId in B is B's own, new pipeline.
	idB := mustCreate(t, b, "shared-name", "shared-token")
	if idB == idA {
		t.Fatalf("CreatePipeline as B with A's name and uniqueId returned A's pipeline %s", idA)
	}
	if got := field(t, describe(t, b, idB).Fields, "@accountId"); got != accountB {
		t.Errorf("@accountId of B's pipeline = %s, want %s", got, accountB)
	}
	for who, c := range map[string]*datapipeline.Client{"A": a, "B": b} {
		want := map[string]string{"A": idA, "B": idB}[who]
		list, err := c.ListPipelines(ctx, &datapipeline.ListPipelinesInput{})
		if err != nil {
			t.Fatalf("ListPipelines as %s: %v", who, err)
		}
		if len(list.PipelineIdList) != 1 || aws.ToString(list.PipelineIdList[0].Id) != want {
			t.Errorf("ListPipelines as %s = %v, want only %s", who, list.PipelineIdList, want)
		}
	}
	// A cannot see B's either, even knowing its id.
	if _, err := a.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: []string{idA, idB}}); !isA[*types.PipelineNotFoundException](err) {
		t.Errorf("DescribePipelines as A including B's pipeline: error %v, want PipelineNotFoundException", err)
	}
}

// TestAuthenticationErrors checks the SigV4 failures a client can meet, as
// the SDK reports them.
func TestAuthenticationErrors(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t, "--credentials", writeFile(t, "credentials", twoAccounts))
	tests := []struct {
		name         string
		akid, secret string
		wantCode     string
	}{
		{name: "unknown key", akid: "AKIDNOBODY0000000000", secret: secretA, wantCode: "UnrecognizedClientException"},
		{name: "dev key not in file", akid: devAccessKeyID, secret: devSecret, wantCode: "UnrecognizedClientException"},
		{name: "wrong secret", akid: keyA, secret: secretB, wantCode: "InvalidSignatureException"},
		{name: "right secret", akid: keyB, secret: secretB, wantCode: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.client(tc.akid, tc.secret).ListPipelines(context.Background(), &datapipeline.ListPipelinesInput{})
			if got := errorCode(err); got != tc.wantCode {
				t.Errorf("ListPipelines error code = %q (%v), want %q", got, err, tc.wantCode)
			}
		})
	}
}
