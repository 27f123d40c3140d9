package datapipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/scheduler"
	"github.com/culvert/culvert/internal/store"
)

// emptyDefinition is served for a version that does not exist yet, so that
// clients which read pipelineObjects unconditionally (the aws CLI's
// get-pipeline-definition does) still work.
var emptyDefinition = []byte(`{"pipelineObjects":[]}`)

// PutPipelineDefinition validates a definition and, unless it has fatal
// errors, stores it as the pipeline's latest version, replacing the previous
// one entirely.
func (s *Service) PutPipelineDefinition(ctx context.Context, in *PutPipelineDefinitionInput) (*PutPipelineDefinitionOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	def := &pipeline.Definition{Objects: in.PipelineObjects, ParameterObjects: in.ParameterObjects, ParameterValues: in.ParameterValues}
	// Fatal problems never depend on the stored pipeline, so they are
	// reported before it is looked up, as AWS does.
	res := pipeline.Validate(def, pipeline.Options{Limits: s.cfg.Limits, Now: s.now()})
	if len(res.Fatal) > 0 {
		return nil, invalidRequest("%s", res.FatalMessage())
	}
	// The one encoding of this version: it is what is stored and what every
	// GetPipelineDefinition of it returns. Like the response encoder (and
	// AWS), it does not escape <, > and &, so a shell command with &&
	// round-trips as sent.
	doc := appendDefinition(nil, def)
	_, err = s.store.PipelineUpdate(ctx, who.AccountID, in.PipelineID, func(p *store.Pipeline) error {
		if p.State == pipeline.StateFinished {
			return invalidRequest("Pipeline %s is FINISHED; its definition cannot be changed.", p.ID)
		}
		if p.Active != nil {
			// Edits of an activated pipeline are judged against its
			// active definition (§7.4), read in this transaction.
			r, err := s.validate(p, def)
			if err != nil {
				return err
			}
			res = r
		}
		p.Latest = &store.Definition{Doc: doc, Errored: res.Errored(), PutAt: s.now()}
		return nil
	})
	if err != nil {
		return nil, pipelineError(err, in.PipelineID)
	}
	return &PutPipelineDefinitionOutput{
		ValidationErrors: nonNil(res.Errors), ValidationWarnings: nonNil(res.Warnings), Errored: res.Errored(),
	}, nil
}

// validate judges def as the next definition of pipeline p: against the
// service's limits and clock, and against p's active definition if it has
// been activated.
func (s *Service) validate(p *store.Pipeline, def *pipeline.Definition) (*pipeline.Result, error) {
	opt := pipeline.Options{Limits: s.cfg.Limits, Now: s.now()}
	if p.Active != nil {
		active, err := decoded(p.ID, p.Active)
		if err != nil {
			return nil, err
		}
		opt.Active = active
	}
	return pipeline.Validate(def, opt), nil
}

// summarize renders at most n of res's errors, for a message that must stay
// short.
func summarize(res *pipeline.Result, n int) string {
	var b strings.Builder
	total := 0
	for _, e := range res.Errors {
		for _, msg := range e.Errors {
			if total < n {
				fmt.Fprintf(&b, "[%s] %s ", e.ID, msg)
			}
			total++
		}
	}
	if total > n {
		fmt.Fprintf(&b, "(and %d more) ", total-n)
	}
	return strings.TrimSpace(b.String())
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ValidatePipelineDefinition reports what PutPipelineDefinition would say
// about a definition, fatal problems included, without storing anything.
func (s *Service) ValidatePipelineDefinition(ctx context.Context, in *ValidatePipelineDefinitionInput) (*ValidatePipelineDefinitionOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.store.PipelineGet(ctx, who.AccountID, in.PipelineID)
	if err != nil {
		return nil, pipelineError(err, in.PipelineID)
	}
	def := &pipeline.Definition{Objects: in.PipelineObjects, ParameterObjects: in.ParameterObjects, ParameterValues: in.ParameterValues}
	res, err := s.validate(p, def)
	if err != nil {
		return nil, err
	}
	return &ValidatePipelineDefinitionOutput{
		ValidationErrors: nonNil(res.Errors), ValidationWarnings: nonNil(res.Warnings), Errored: res.Errored(),
	}, nil
}

// GetPipelineDefinition returns the latest (default) or active definition
// exactly as it was put.
func (s *Service) GetPipelineDefinition(ctx context.Context, in *GetPipelineDefinitionInput) (*GetPipelineDefinitionOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	version := strings.ToLower(in.Version)
	if version != "" && version != "latest" && version != "active" {
		return nil, invalidRequest("version must be 'latest' or 'active', not '%s'.", in.Version)
	}
	p, err := s.store.PipelineGet(ctx, who.AccountID, in.PipelineID)
	if err != nil {
		return nil, pipelineError(err, in.PipelineID)
	}
	d := p.Latest
	if version == "active" {
		d = p.Active
	}
	if d == nil {
		return &GetPipelineDefinitionOutput{doc: emptyDefinition}, nil
	}
	return &GetPipelineDefinitionOutput{doc: d.Doc}, nil
}

// ActivatePipeline starts a pipeline on its latest definition. A definition
// with errors cannot be activated. Parameter values given here win over
// those stored with the definition and are kept with the activated version.
func (s *Service) ActivatePipeline(ctx context.Context, in *ActivatePipelineInput) (*ActivatePipelineOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	running, err := s.ondemandRunning(ctx, who.AccountID, in)
	if err != nil {
		return nil, pipelineError(err, in.PipelineID)
	}
	_, err = s.store.PipelineUpdate(ctx, who.AccountID, in.PipelineID, func(p *store.Pipeline) error {
		if p.Latest == nil {
			return invalidRequest("Pipeline %s has no definition. Put a definition before activating it.", p.ID)
		}
		def, err := decoded(p.ID, p.Latest)
		if err != nil {
			return err
		}
		// The definition is judged again with the values given here, which
		// win per parameter: a definition put without a value for a
		// required parameter is errored until activation supplies it.
		withValues := def.WithParameterValues(in.ParameterValues)
		res, err := s.validate(p, withValues)
		if err != nil {
			return err
		}
		if res.Errored() {
			return invalidRequest("Pipeline %s cannot be activated: its definition has validation errors: %s "+
				"Call ValidatePipelineDefinition to see them all, and put a corrected definition.", p.ID, summarize(res, 3))
		}
		if withValues != def {
			doc := appendDefinition(nil, withValues)
			p.Latest = &store.Definition{Doc: doc, PutAt: now}
		}
		activated := now
		if scheduler.Ondemand(withValues) {
			if p.State == pipeline.StateScheduled && !running.IsZero() {
				return invalidRequest("Pipeline %s is ondemand and its run started at %s is still in progress; "+
					"activate it again once the run is done.", p.ID, dateTime(running))
			}
			// A run's instances are named by its activation second
			// (@Comp_2026-01-01T00:00:00), so each activation gets a
			// second of its own, a later one if need be.
			if last := p.LastActivatedAt.Truncate(time.Second); !activated.Truncate(time.Second).After(last) {
				activated = last.Add(time.Second)
			}
		}
		p.Active = p.Latest
		p.State = pipeline.StateScheduled
		if p.FirstActivatedAt.IsZero() {
			p.FirstActivatedAt = activated
		}
		p.LastActivatedAt = activated
		// Intervals before startTimestamp are skipped: the scheduler
		// resumes from the time the user chose.
		p.ActivationStart = time.Time{}
		if in.StartTimestamp != nil {
			p.ActivationStart = in.StartTimestamp.Time.UTC()
		}
		return nil
	})
	if err != nil {
		return nil, pipelineError(err, in.PipelineID)
	}
	return &ActivatePipelineOutput{}, nil
}

// ondemandRunning returns, for an ondemand pipeline whose latest run is
// still in progress, when that run started; zero otherwise. An ondemand
// pipeline runs once per activation, and while a run is in progress
// another activation is refused, as AWS does, so that runs never overlap.
// It is read before the activation's update: a run the scheduler ends
// meanwhile only makes the refusal conservative. Only an ondemand
// pipeline's run is read. Returns the store's errors.
func (s *Service) ondemandRunning(ctx context.Context, account string, in *ActivatePipelineInput) (time.Time, error) {
	p, err := s.store.PipelineGet(ctx, account, in.PipelineID)
	if err != nil || p.Latest == nil {
		return time.Time{}, err
	}
	def, err := decoded(p.ID, p.Latest)
	if err != nil || !scheduler.Ondemand(def.WithParameterValues(in.ParameterValues)) {
		return time.Time{}, nil // the update reports a definition that does not decode
	}
	run, err := s.store.RunLoad(ctx, account, p.ID)
	if err != nil || !scheduler.OndemandRunning(run.Instances) {
		return time.Time{}, err
	}
	return run.Instances[len(run.Instances)-1].ScheduledStart, nil
}

// DeactivatePipeline stops a running pipeline; ActivatePipeline resumes it.
// Deactivating an inactive pipeline is a no-op.
func (s *Service) DeactivatePipeline(ctx context.Context, in *DeactivatePipelineInput) (*DeactivatePipelineOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	_, err = s.store.PipelineUpdate(ctx, who.AccountID, in.PipelineID, func(p *store.Pipeline) error {
		switch p.State {
		case pipeline.StateInactive, pipeline.StateDeactivating, pipeline.StateFinished:
			return nil
		case pipeline.StatePending:
			return invalidRequest("Pipeline %s has never been activated.", p.ID)
		}
		// The scheduler finishes the deactivation: it cancels what is
		// running, or lets it finish when cancelActive is false, and then
		// makes the pipeline INACTIVE.
		p.State = pipeline.StateDeactivating
		p.CancelActive = in.CancelActive == nil || *in.CancelActive
		p.LastDeactivatedAt = s.now()
		return nil
	})
	if err != nil {
		return nil, pipelineError(err, in.PipelineID)
	}
	return &DeactivatePipelineOutput{}, nil
}
