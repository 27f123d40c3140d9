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
// PollForTask, acknowledge a task at once with ReportTaskProgress and again
// every ProgressInterval, stop work whose report says canceled, heartbeat,
// retry failed calls (call.go) and shut down with a grace period. The task
// object's typed view is task.go; executors are one per file (shell.go,
// unsupported.go). Choices AWS leaves open are written down in
// docs/assumptions/0019-task-runner.md.
package runner
