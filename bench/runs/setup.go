package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

func str(key, value string) types.Field {
	return types.Field{Key: aws.String(key), StringValue: aws.String(value)}
}

func ref(key, id string) types.Field {
	return types.Field{Key: aws.String(key), RefValue: aws.String(id)}
}

func object(id string, fields ...types.Field) types.PipelineObject {
	return types.PipelineObject{Id: aws.String(id), Name: aws.String(id), Fields: fields}
}

// defaults is the Default object every definition here shares: what
// validation requires of a pipeline that runs ShellCommandActivities.
func defaults(extra ...types.Field) types.PipelineObject {
	return object("Default", append([]types.Field{
		str("pipelineLogUri", "s3://culvert-bench/logs/"),
		str("role", "DataPipelineDefaultRole"), str("resourceRole", "DataPipelineDefaultResourceRole"),
	}, extra...)...)
}

// shell is a ShellCommandActivity on workerGroup.
func shell(id, workerGroup string, extra ...types.Field) types.PipelineObject {
	return object(id, append([]types.Field{
		str("type", "ShellCommandActivity"), str("workerGroup", workerGroup), str("command", "true"),
	}, extra...)...)
}

// backfillDefinition is a cron pipeline of n independent activities on a
// 15-minute schedule that started days ago, each allowed maxActive
// instances at once: n×maxActive tasks are ready at any moment, and each
// finished one frees a slot that the next interval's instance takes.
func backfillDefinition(n, maxActive, days int, workerGroup string, now time.Time) []types.PipelineObject {
	start := now.UTC().Truncate(15*time.Minute).AddDate(0, 0, -days)
	objs := []types.PipelineObject{
		defaults(str("scheduleType", "cron"), ref("schedule", "Quarterly"), str("maxActiveInstances", fmt.Sprint(maxActive))),
		object("Quarterly", str("type", "Schedule"), str("period", "15 minutes"), str("startDateTime", start.Format("2006-01-02T15:04:05"))),
	}
	for i := range n {
		objs = append(objs, shell(fmt.Sprintf("Activity%02d", i), workerGroup))
	}
	return objs
}

// ondemandDefinition is an ondemand pipeline of one activity: each
// ActivatePipeline makes exactly one task ready.
func ondemandDefinition(workerGroup string) []types.PipelineObject {
	return []types.PipelineObject{defaults(str("scheduleType", "ondemand")), shell("Wake", workerGroup)}
}

// dailyDefinition is a cron pipeline of one activity on a daily schedule
// that started an hour ago: one instance now, the next in 23 hours, and
// the pipeline keeps running, so that SetStatus RERUN of its instance is
// applied by the scheduler at once.
func dailyDefinition(workerGroup string, now time.Time) []types.PipelineObject {
	start := now.UTC().Truncate(time.Second).Add(-time.Hour)
	return []types.PipelineObject{
		defaults(str("scheduleType", "cron"), ref("schedule", "Daily")),
		object("Daily", str("type", "Schedule"), str("period", "1 day"), str("startDateTime", start.Format("2006-01-02T15:04:05"))),
		shell("Wake", workerGroup),
	}
}

// createDefined creates a pipeline and puts objs as its definition, which
// must be free of validation errors.
func createDefined(ctx context.Context, c *datapipeline.Client, name string, objs []types.PipelineObject) (string, error) {
	cr, err := c.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String(name), UniqueId: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("CreatePipeline %s: %w", name, err)
	}
	id := aws.ToString(cr.PipelineId)
	put, err := c.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: aws.String(id), PipelineObjects: objs})
	if err != nil {
		return "", fmt.Errorf("PutPipelineDefinition %s: %w", name, err)
	}
	if put.Errored {
		var msgs []string
		for _, e := range put.ValidationErrors {
			msgs = append(msgs, aws.ToString(e.Id)+": "+strings.Join(e.Errors, "; "))
		}
		return "", fmt.Errorf("the definition of %s has validation errors: %s", name, strings.Join(msgs, " | "))
	}
	return id, nil
}

func activate(ctx context.Context, c *datapipeline.Client, id string) error {
	if _, err := c.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)}); err != nil {
		return fmt.Errorf("ActivatePipeline %s: %w", id, err)
	}
	return nil
}

func deactivate(ctx context.Context, c *datapipeline.Client, ids ...string) error {
	for _, id := range ids {
		if _, err := c.DeactivatePipeline(ctx, &datapipeline.DeactivatePipelineInput{PipelineId: aws.String(id), CancelActive: aws.Bool(true)}); err != nil {
			return fmt.Errorf("DeactivatePipeline %s: %w", id, err)
		}
	}
	return nil
}
