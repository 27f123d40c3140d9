package datapipeline

import (
	"context"
	"errors"
	"strings"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/scheduler"
	"github.com/culvert/culvert/internal/store"
)

// PollForTask hands the caller a task of its worker group, waiting for one
// up to the configured hold time. An empty response means "poll again".
func (s *Service) PollForTask(ctx context.Context, in *PollForTaskInput) (*PollForTaskOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	owner := in.Hostname
	if owner == "" {
		owner = who.AccessKeyID
	}
	t, err := s.queue.Poll(ctx, who.AccountID, in.WorkerGroup, owner, in.Hostname)
	if err != nil && ctx.Err() != nil {
		// Shutdown or a departed client ended the poll: an empty answer
		// tells a runner that is still listening to poll again.
		return &PollForTaskOutput{}, nil
	}
	if err != nil {
		return nil, err
	}
	if t == nil {
		return &PollForTaskOutput{}, nil
	}
	return &PollForTaskOutput{TaskObject: &TaskObject{
		TaskID: t.ID, PipelineID: t.PipelineID, AttemptID: t.AttemptID, Objects: t.Objects,
	}}, nil
}

// ReportTaskProgress acknowledges a task and extends its lease. Canceled
// tells the runner to stop working on it. Of the fields reported, only
// @logLocation means something: where the attempt's logs are; any
// others are accepted and ignored.
func (s *Service) ReportTaskProgress(ctx context.Context, in *ReportTaskProgressInput) (*ReportTaskProgressOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	loc, err := reportedLogLocation(in.Fields)
	if err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	t, err := s.store.TaskProgress(ctx, &store.TaskProgressParams{
		Account: who.AccountID, ID: in.TaskID, Now: now, LeaseUntil: s.queue.ProgressDeadline(now), LogLocation: loc,
	})
	if err != nil {
		return nil, taskError(err)
	}
	return &ReportTaskProgressOutput{Canceled: t.Canceled}, nil
}

func taskError(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return taskNotFound()
	}
	return err
}

// ReportTaskRunnerHeartbeat records that a task runner is alive.
func (s *Service) ReportTaskRunnerHeartbeat(ctx context.Context, in *ReportTaskRunnerHeartbeatInput) (*ReportTaskRunnerHeartbeatOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.RunnerHeartbeat(ctx, &store.RunnerHeartbeatParams{
		Account: who.AccountID, RunnerID: in.TaskrunnerID, WorkerGroup: in.WorkerGroup, Hostname: in.Hostname, Now: s.now(),
	})
	if err != nil {
		return nil, err
	}
	return &ReportTaskRunnerHeartbeatOutput{Terminate: s.runnerDone(ctx, who.AccountID, in.WorkerGroup)}, nil
}

// runnerDone reports whether a runner of the worker group should stop: it
// serves a pipeline's resource (scheduler.ResourceWorkerGroup), as AWS's
// runners on an Ec2Resource or EmrCluster do, and that pipeline no longer
// runs: it is deleted, finished or inactive. A runner of any other worker
// group serves whoever enqueues work there, so it is never told to stop.
func (s *Service) runnerDone(ctx context.Context, account, workerGroup string) bool {
	pid, _, ok := scheduler.ParseResourceWorkerGroup(workerGroup)
	if !ok {
		return false
	}
	p, err := s.store.PipelineGet(ctx, account, pid)
	if err != nil {
		// Unknown or deleted; a store failure says nothing either way.
		return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDeleted)
	}
	return p.State == pipeline.StateFinished || p.State == pipeline.StateInactive
}

// SetTaskStatus records the outcome of a task.
func (s *Service) SetTaskStatus(ctx context.Context, in *SetTaskStatusInput) (*SetTaskStatusOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	if strings.HasPrefix(in.ErrorID, "Service_") {
		return nil, invalidRequest("errorId must not start with 'Service_', which is reserved for the service.")
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	_, err = s.store.TaskComplete(ctx, &store.TaskCompleteParams{
		Account: who.AccountID, ID: in.TaskID, Status: store.TaskStatus(in.TaskStatus),
		ErrorID: in.ErrorID, ErrorMessage: in.ErrorMessage, ErrorStack: in.ErrorStackTrace, Now: s.now(),
	})
	if err != nil {
		return nil, taskError(err)
	}
	return &SetTaskStatusOutput{}, nil
}
