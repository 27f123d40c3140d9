// Package pipelinetest holds test and benchmark support for code that works
// with pipeline definitions: one realistic definition generator shared by
// the service benchmarks and the load generator, so both measure the same
// shape. It imports only the standard library and pipeline.
package pipelinetest

import (
	"fmt"

	"github.com/culvert/culvert/internal/pipeline"
)

// Definition returns a realistic definition of n objects (n ≥ 6), shaped
// like bench/load's: a Default, Schedules, Ec2Resources, and S3DataNodes in
// and out of ShellCommandActivities, 5–6 fields each, every reference
// resolving. Activity i reads node i and writes node i+1, which activity
// i+1 reads, and depends on activity i-1, so the work is one chain with no
// loop. It validates without errors or warnings as long as the validation
// time is before its schedules start (2024-01-01): after that, its cascade
// failure mode earns the backfill warning. At n = 100 its
// PutPipelineDefinition body is about 27 KB.
func Definition(n int) []pipeline.Object {
	schedules := max(1, n/25)
	resources := max(1, n*15/100)
	rest := n - 1 - schedules - resources
	// One node more than activities, so the last output is a node of its
	// own rather than the first input (which would close a loop).
	activities := (rest - 1) / 2
	nodes := rest - activities

	objs := make([]pipeline.Object, 0, n)
	add := func(id, name string, fields ...pipeline.Field) {
		objs = append(objs, pipeline.Object{ID: id, Name: name, Fields: fields})
	}
	str, ref := pipeline.String, pipeline.Ref
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
		fields := []pipeline.Field{
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
