// Package runner is culvert's task runner: it polls a worker group for
// tasks, runs each with the [Executor] registered for its type, and
// reports the outcome, the way AWS's Task Runner does (spec §9.3).
//
// It talks to the service only through the public Data Pipeline API with
// aws-sdk-go-v2 ([API], [NewClient]), so it runs against culvert and AWS
// alike, on any machine that can reach the endpoint. It must not import
// culvert's server packages (store, queue, scheduler, datapipeline); a
// test enforces that.
//
// The protocol lives in runner.go and task_run.go: slots long-poll
// PollForTask, acknowledge a task at once with ReportTaskProgress (saying
// where its logs will be) and again every ProgressInterval, stop work
// whose report says canceled, heartbeat, retry failed calls (call.go) and
// shut down with a grace period. The task object's typed view is task.go.
// Executors are one per file: shell.go (with stage.go), sql.go, copy.go
// (with copy_sql.go), precondition.go and unsupported.go; they reach S3
// and local files through [Files] (objstore), databases through sqlconn
// and records through dataformat. redact.go keeps secret field values out
// of reports and logs. Choices AWS leaves open are written down in
// docs/assumptions/0019-task-runner.md and 0021-activities.md.
package runner
