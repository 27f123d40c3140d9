package datapipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/store"
)

// CreatePipeline creates an empty pipeline, or returns the existing one
// with the same name and uniqueId in the caller's account.
func (s *Service) CreatePipeline(ctx context.Context, in *CreatePipelineInput) (*CreatePipelineOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if s.cfg.MaxPipelines > 0 {
		// Counting then creating can overshoot by the number of concurrent
		// creates; a soft cap is what a capacity limit needs.
		list, _, err := s.store.PipelineList(ctx, who.AccountID, 0, s.cfg.MaxPipelines+1)
		if err != nil {
			return nil, err
		}
		if len(list) >= s.cfg.MaxPipelines {
			// A retried create of an existing pipeline is not a new one:
			// answer it as PipelineCreate would, even at the limit.
			for _, sum := range list {
				if sum.Name != in.Name {
					continue
				}
				if p, err := s.store.PipelineGet(ctx, who.AccountID, sum.ID); err == nil && p.UniqueID == in.UniqueID {
					return &CreatePipelineOutput{PipelineID: p.ID}, nil
				}
			}
			return nil, invalidRequest("Account %s already has %d pipelines, the most this server allows.", who.AccountID, s.cfg.MaxPipelines)
		}
	}
	for range 3 { // a fresh id collides with probability ~1e-29; retry anyway rather than fail
		p, _, err := s.store.PipelineCreate(ctx, &store.PipelineCreateParams{
			Account: who.AccountID, ID: pipeline.NewPipelineID(), Name: in.Name, UniqueID: in.UniqueID,
			Description: in.Description, Creator: who.AccountID, Tags: mergeTags(nil, in.Tags), Now: s.now(),
		})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &CreatePipelineOutput{PipelineID: p.ID}, nil
	}
	return nil, errors.New("datapipeline: could not allocate a pipeline id")
}

// mergeTags applies add to tags: a key already present takes the new value,
// as AddTags documents ("adds or modifies tags").
func mergeTags(tags, add []Tag) []Tag {
	out := append([]Tag(nil), tags...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, replaced = t.Value, true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

// DeletePipeline deletes a pipeline, its definitions and its tasks.
func (s *Service) DeletePipeline(ctx context.Context, in *DeletePipelineInput) (*DeletePipelineOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	defer s.descriptions.Delete(in.PipelineID)
	if err := s.store.PipelineDelete(ctx, who.AccountID, in.PipelineID, s.now()); err != nil {
		// The model does not list PipelineDeletedException for this
		// operation: a second delete reports the pipeline as not found.
		if errors.Is(err, store.ErrDeleted) {
			return nil, pipelineNotFound(in.PipelineID)
		}
		return nil, pipelineError(err, in.PipelineID)
	}
	return nil, nil
}

// DescribePipelines returns the metadata of up to 25 pipelines. One unknown
// id fails the whole call, as on AWS.
func (s *Service) DescribePipelines(ctx context.Context, in *DescribePipelinesInput) (*DescribePipelinesOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &DescribePipelinesOutput{PipelineDescriptionList: make([]PipelineDescription, 0, len(in.PipelineIDs))}
	encoded := make([][]byte, 0, len(in.PipelineIDs))
	size := 32
	for _, id := range in.PipelineIDs {
		p, err := s.store.PipelineGet(ctx, who.AccountID, id)
		if err != nil {
			return nil, pipelineError(err, id)
		}
		d, err := s.described(p)
		if err != nil {
			return nil, err
		}
		out.PipelineDescriptionList = append(out.PipelineDescriptionList, d.desc)
		encoded = append(encoded, d.json)
		size += len(d.json) + 1
	}
	b := append(make([]byte, 0, size), `{"pipelineDescriptionList":[`...)
	for i, e := range encoded {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	out.raw = append(b, "]}"...)
	return out, nil
}

// description is a pipeline's DescribePipelines entry, built and encoded
// once per snapshot of the pipeline.
type description struct {
	snap *store.Pipeline
	desc PipelineDescription
	json []byte
}

// described returns the cached description of snapshot p, building it if
// the cache holds none or one of an older snapshot. A snapshot never
// changes, so pointer identity is the cache key; a backend that returns a
// fresh snapshot on every read only loses the cache, never correctness.
func (s *Service) described(p *store.Pipeline) (*description, error) {
	if v, ok := s.descriptions.Load(p.ID); ok {
		if d := v.(*description); d.snap == p {
			return d, nil
		}
	}
	d := &description{snap: p, desc: describePipeline(p)}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as every other response: AWS does not escape <, > and &
	if err := enc.Encode(&d.desc); err != nil {
		return nil, fmt.Errorf("encode pipeline description: %w", err)
	}
	d.json = bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
	s.descriptions.Store(p.ID, d)
	return d, nil
}

func describePipeline(p *store.Pipeline) PipelineDescription {
	fields := make([]Field, 0, 14)
	add := func(k, v string) { fields = append(fields, pipeline.String(k, v)) }
	add("@pipelineState", string(p.State))
	if p.Description != "" {
		add("description", p.Description)
	}
	add("name", p.Name)
	add("@creationTime", dateTime(p.CreatedAt))
	add("@id", p.ID)
	add("@sphere", string(pipeline.SpherePipeline))
	if v := currentVersion(p); v != nil {
		add("@version", strconv.FormatInt(v.Version, 10))
	}
	add("@userId", p.Account)
	add("@accountId", p.Account)
	add("uniqueId", p.UniqueID)
	add("pipelineCreator", p.Creator)
	if !p.FirstActivatedAt.IsZero() {
		add("@firstActivationTime", dateTime(p.FirstActivatedAt))
		add("@lastActivationTime", dateTime(p.LastActivatedAt))
	}
	if !p.LastDeactivatedAt.IsZero() {
		add("@lastDeactivatedTime", dateTime(p.LastDeactivatedAt))
	}
	if p.Summary != nil {
		fields = append(fields, p.Summary.Pipeline().Fields()...)
	}
	tags := p.Tags
	if tags == nil {
		tags = []Tag{}
	}
	return PipelineDescription{PipelineID: p.ID, Name: p.Name, Fields: fields, Description: p.Description, Tags: tags}
}

// currentVersion is the version that is running if there is one, else the
// latest one put.
func currentVersion(p *store.Pipeline) *store.Definition {
	if p.Active != nil {
		return p.Active
	}
	return p.Latest
}

// ListPipelines lists the caller's pipelines in creation order, 25 a page.
func (s *Service) ListPipelines(ctx context.Context, in *ListPipelinesInput) (*ListPipelinesOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	after, err := decodeMarker("p", in.Marker)
	if err != nil {
		return nil, err
	}
	list, more, err := s.store.PipelineList(ctx, who.AccountID, after, s.cfg.ListPageSize)
	if err != nil {
		return nil, err
	}
	out := &ListPipelinesOutput{PipelineIDList: make([]PipelineIDName, len(list))}
	for i, p := range list {
		out.PipelineIDList[i] = PipelineIDName{ID: p.ID, Name: p.Name}
	}
	if more {
		// botocore stops paginating when hasMoreResults is false, whatever
		// the marker says, so the two always travel together.
		out.Marker, out.HasMoreResults = encodeMarker("p", list[len(list)-1].Seq), true
	}
	return out, nil
}

// AddTags adds tags to a pipeline or changes the values of existing keys.
// A pipeline has at most 10 tags.
func (s *Service) AddTags(ctx context.Context, in *AddTagsInput) (*AddTagsOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	return &AddTagsOutput{}, s.updateTags(ctx, in.PipelineID, func(tags []Tag) []Tag { return mergeTags(tags, in.Tags) })
}

// RemoveTags removes tags by key; absent keys are ignored.
func (s *Service) RemoveTags(ctx context.Context, in *RemoveTagsInput) (*RemoveTagsOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	return &RemoveTagsOutput{}, s.updateTags(ctx, in.PipelineID, func(tags []Tag) []Tag {
		var out []Tag
		for _, t := range tags {
			keep := true
			for _, k := range in.TagKeys {
				if t.Key == k {
					keep = false
					break
				}
			}
			if keep {
				out = append(out, t)
			}
		}
		return out
	})
}

func (s *Service) updateTags(ctx context.Context, id string, fn func([]Tag) []Tag) error {
	who, err := caller(ctx)
	if err != nil {
		return err
	}
	_, err = s.store.PipelineUpdate(ctx, who.AccountID, id, func(p *store.Pipeline) error {
		tags := fn(p.Tags)
		if len(tags) > maxTags {
			return invalidRequest("A pipeline can have at most %d tags; this change would leave %d.", maxTags, len(tags))
		}
		p.Tags = tags
		return nil
	})
	return pipelineError(err, id)
}
