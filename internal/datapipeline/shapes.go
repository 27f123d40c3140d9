package datapipeline

import (
	"encoding/json"
	"strconv"

	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/pipeline"
)

// Shapes shared with the domain. The definition is stored in exactly its
// wire form, so these are the same types under their model names.
type (
	Field              = pipeline.Field
	PipelineObject     = pipeline.Object
	ParameterObject    = pipeline.ParameterObject
	ParameterAttribute = pipeline.ParameterAttribute
	ParameterValue     = pipeline.ParameterValue
	Tag                = pipeline.Tag
	ValidationError    = pipeline.ValidationError
	ValidationWarning  = pipeline.ValidationWarning
)

// ActivatePipelineInput is the input of ActivatePipeline.
type ActivatePipelineInput struct {
	PipelineID      string           `json:"pipelineId"`
	ParameterValues []ParameterValue `json:"parameterValues,omitempty"`
	StartTimestamp  *awsjson.Time    `json:"startTimestamp,omitempty"`
}

// ActivatePipelineOutput is the output of ActivatePipeline.
type ActivatePipelineOutput struct{}

// AddTagsInput is the input of AddTags.
type AddTagsInput struct {
	PipelineID string `json:"pipelineId"`
	Tags       []Tag  `json:"tags"`
}

// AddTagsOutput is the output of AddTags.
type AddTagsOutput struct{}

// CreatePipelineInput is the input of CreatePipeline.
type CreatePipelineInput struct {
	Name        string `json:"name"`
	UniqueID    string `json:"uniqueId"`
	Description string `json:"description,omitempty"`
	Tags        []Tag  `json:"tags,omitempty"`
}

// CreatePipelineOutput is the output of CreatePipeline.
type CreatePipelineOutput struct {
	PipelineID string `json:"pipelineId"`
}

// DeactivatePipelineInput is the input of DeactivatePipeline.
type DeactivatePipelineInput struct {
	PipelineID string `json:"pipelineId"`
	// CancelActive has no default in the model; the documentation says true.
	CancelActive *bool `json:"cancelActive,omitempty"`
}

// DeactivatePipelineOutput is the output of DeactivatePipeline.
type DeactivatePipelineOutput struct{}

// DeletePipelineInput is the input of DeletePipeline.
type DeletePipelineInput struct {
	PipelineID string `json:"pipelineId"`
}

// DeletePipelineOutput does not exist in the model: the operation answers
// with an empty body.
type DeletePipelineOutput struct{}

// DescribeObjectsInput is the input of DescribeObjects.
type DescribeObjectsInput struct {
	PipelineID          string   `json:"pipelineId"`
	ObjectIDs           []string `json:"objectIds"`
	EvaluateExpressions bool     `json:"evaluateExpressions,omitempty"`
	Marker              string   `json:"marker,omitempty"`
}

// DescribeObjectsOutput is the output of DescribeObjects. Its objects are
// pre-encoded JSON built by the service.
type DescribeObjectsOutput struct {
	PipelineObjects []json.RawMessage `json:"pipelineObjects"`
	Marker          string            `json:"marker,omitempty"`
	HasMoreResults  bool              `json:"hasMoreResults"`

	raw []byte // the whole response, when the service built it in one piece
}

// RawJSON returns the response body. encoding/json would re-validate every
// json.RawMessage byte by byte; these come from the service's own encoder,
// so joining them is enough.
func (o *DescribeObjectsOutput) RawJSON() []byte {
	if o.raw != nil {
		return o.raw
	}
	n := 64 + len(o.Marker)
	for _, obj := range o.PipelineObjects {
		n += len(obj) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"pipelineObjects":[`...)
	for i, obj := range o.PipelineObjects {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, obj...)
	}
	b = append(b, `],"hasMoreResults":`...)
	b = strconv.AppendBool(b, o.HasMoreResults)
	if o.Marker != "" {
		b = append(b, `,"marker":`...)
		b = strconv.AppendQuote(b, o.Marker) // markers are base64url: no escaping surprises
	}
	return append(b, '}')
}

// DescribePipelinesInput is the input of DescribePipelines.
type DescribePipelinesInput struct {
	PipelineIDs []string `json:"pipelineIds"`
}

// DescribePipelinesOutput is the output of DescribePipelines.
type DescribePipelinesOutput struct {
	PipelineDescriptionList []PipelineDescription `json:"pipelineDescriptionList"`

	raw []byte // the whole response, assembled from cached encodings
}

// RawJSON returns the response body the service assembled, or nil to have
// the output encoded normally.
func (o *DescribePipelinesOutput) RawJSON() []byte { return o.raw }

// PipelineDescription is the model shape of the same name.
type PipelineDescription struct {
	PipelineID  string  `json:"pipelineId"`
	Name        string  `json:"name"`
	Fields      []Field `json:"fields"`
	Description string  `json:"description,omitempty"`
	Tags        []Tag   `json:"tags"`
}

// EvaluateExpressionInput is the input of EvaluateExpression.
type EvaluateExpressionInput struct {
	PipelineID string `json:"pipelineId"`
	ObjectID   string `json:"objectId"`
	Expression string `json:"expression"`
}

// EvaluateExpressionOutput is the output of EvaluateExpression.
type EvaluateExpressionOutput struct {
	EvaluatedExpression string `json:"evaluatedExpression"`
}

// GetPipelineDefinitionInput is the input of GetPipelineDefinition.
type GetPipelineDefinitionInput struct {
	PipelineID string `json:"pipelineId"`
	Version    string `json:"version,omitempty"`
}

// GetPipelineDefinitionOutput is served from the stored document, which
// already has the output's shape, so it is never re-encoded.
type GetPipelineDefinitionOutput struct {
	doc []byte
}

// RawJSON returns the pre-encoded response body.
func (o *GetPipelineDefinitionOutput) RawJSON() []byte { return o.doc }

// ListPipelinesInput is the input of ListPipelines.
type ListPipelinesInput struct {
	Marker string `json:"marker,omitempty"`
}

// ListPipelinesOutput is the output of ListPipelines.
type ListPipelinesOutput struct {
	PipelineIDList []PipelineIDName `json:"pipelineIdList"`
	Marker         string           `json:"marker,omitempty"`
	HasMoreResults bool             `json:"hasMoreResults"`
}

// PipelineIDName is the model shape of the same name.
type PipelineIDName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// InstanceIdentity is the model shape of the same name.
type InstanceIdentity struct {
	Document  string `json:"document,omitempty"`
	Signature string `json:"signature,omitempty"`
}

// PollForTaskInput is the input of PollForTask.
type PollForTaskInput struct {
	WorkerGroup      string            `json:"workerGroup"`
	Hostname         string            `json:"hostname,omitempty"`
	InstanceIdentity *InstanceIdentity `json:"instanceIdentity,omitempty"`
}

// PollForTaskOutput is the output of PollForTask.
type PollForTaskOutput struct {
	TaskObject *TaskObject `json:"taskObject,omitempty"`
}

// RawJSON returns the response body. A task's objects are the scheduler's
// compact encoding, which encoding/json would scan and copy byte by byte
// to compact it again (a few percent of the server's CPU per task in
// bench/runs). Objects that are not compact (never the scheduler's)
// return nil: encoding/json encodes them as before.
func (o *PollForTaskOutput) RawJSON() []byte {
	t := o.TaskObject
	if t == nil {
		return []byte(`{}`)
	}
	if !compactJSON(t.Objects) {
		return nil
	}
	b := make([]byte, 0, 96+len(t.TaskID)+len(t.PipelineID)+len(t.AttemptID)+len(t.Objects)) // 70 bytes of names and punctuation
	b = append(b, `{"taskObject":{"taskId":`...)
	b = appendString(b, t.TaskID)
	b = append(b, `,"pipelineId":`...)
	b = appendString(b, t.PipelineID)
	b = append(b, `,"attemptId":`...)
	b = appendString(b, t.AttemptID)
	b = append(b, `,"objects":`...)
	b = append(b, t.Objects...)
	return append(b, "}}"...)
}

// compactJSON reports whether b is a JSON object with no whitespace
// outside its strings: what encoding/json, compacting a json.RawMessage
// without HTML escaping, would copy unchanged. It trusts b to be valid.
func compactJSON(b []byte) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	in, esc := false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case in:
			switch c {
			case '\\':
				esc = true
			case '"':
				in = false
			}
		case c == '"':
			in = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return false
		}
	}
	return !in
}

// TaskObject is the model shape of the same name.
type TaskObject struct {
	TaskID     string          `json:"taskId"`
	PipelineID string          `json:"pipelineId"`
	AttemptID  string          `json:"attemptId"`
	Objects    json.RawMessage `json:"objects"`
}

// PutPipelineDefinitionInput is the input of PutPipelineDefinition.
type PutPipelineDefinitionInput struct {
	PipelineID       string            `json:"pipelineId"`
	PipelineObjects  []PipelineObject  `json:"pipelineObjects"`
	ParameterObjects []ParameterObject `json:"parameterObjects,omitempty"`
	ParameterValues  []ParameterValue  `json:"parameterValues,omitempty"`
}

// PutPipelineDefinitionOutput is the output of PutPipelineDefinition.
type PutPipelineDefinitionOutput struct {
	ValidationErrors   []ValidationError   `json:"validationErrors"`
	ValidationWarnings []ValidationWarning `json:"validationWarnings"`
	Errored            bool                `json:"errored"`
}

// Operator is the model shape of the same name.
type Operator struct {
	Type   string   `json:"type,omitempty"`
	Values []string `json:"values,omitempty"`
}

// Selector is the model shape of the same name.
type Selector struct {
	FieldName string    `json:"fieldName,omitempty"`
	Operator  *Operator `json:"operator,omitempty"`
}

// Query is the model shape of the same name.
type Query struct {
	Selectors []Selector `json:"selectors,omitempty"`
}

// QueryObjectsInput is the input of QueryObjects.
type QueryObjectsInput struct {
	PipelineID string `json:"pipelineId"`
	Query      *Query `json:"query,omitempty"`
	Sphere     string `json:"sphere"`
	Marker     string `json:"marker,omitempty"`
	Limit      *int64 `json:"limit,omitempty"`
}

// QueryObjectsOutput is the output of QueryObjects.
type QueryObjectsOutput struct {
	IDs            []string `json:"ids"`
	Marker         string   `json:"marker,omitempty"`
	HasMoreResults bool     `json:"hasMoreResults"`
}

// RemoveTagsInput is the input of RemoveTags.
type RemoveTagsInput struct {
	PipelineID string   `json:"pipelineId"`
	TagKeys    []string `json:"tagKeys"`
}

// RemoveTagsOutput is the output of RemoveTags.
type RemoveTagsOutput struct{}

// ReportTaskProgressInput is the input of ReportTaskProgress.
type ReportTaskProgressInput struct {
	TaskID string  `json:"taskId"`
	Fields []Field `json:"fields,omitempty"`
}

// ReportTaskProgressOutput is the output of ReportTaskProgress.
type ReportTaskProgressOutput struct {
	Canceled bool `json:"canceled"`
}

// ReportTaskRunnerHeartbeatInput is the input of ReportTaskRunnerHeartbeat.
type ReportTaskRunnerHeartbeatInput struct {
	TaskrunnerID string `json:"taskrunnerId"`
	WorkerGroup  string `json:"workerGroup,omitempty"`
	Hostname     string `json:"hostname,omitempty"`
}

// ReportTaskRunnerHeartbeatOutput is the output of ReportTaskRunnerHeartbeat.
type ReportTaskRunnerHeartbeatOutput struct {
	Terminate bool `json:"terminate"`
}

// SetStatusInput is the input of SetStatus.
type SetStatusInput struct {
	PipelineID string   `json:"pipelineId"`
	ObjectIDs  []string `json:"objectIds"`
	Status     string   `json:"status"`
}

// SetStatusOutput does not exist in the model: the operation answers with
// an empty body.
type SetStatusOutput struct{}

// SetTaskStatusInput is the input of SetTaskStatus.
type SetTaskStatusInput struct {
	TaskID          string `json:"taskId"`
	TaskStatus      string `json:"taskStatus"`
	ErrorID         string `json:"errorId,omitempty"`
	ErrorMessage    string `json:"errorMessage,omitempty"`
	ErrorStackTrace string `json:"errorStackTrace,omitempty"`
}

// SetTaskStatusOutput is the output of SetTaskStatus.
type SetTaskStatusOutput struct{}

// ValidatePipelineDefinitionInput is the input of ValidatePipelineDefinition.
type ValidatePipelineDefinitionInput struct {
	PipelineID       string            `json:"pipelineId"`
	PipelineObjects  []PipelineObject  `json:"pipelineObjects"`
	ParameterObjects []ParameterObject `json:"parameterObjects,omitempty"`
	ParameterValues  []ParameterValue  `json:"parameterValues,omitempty"`
}

// ValidatePipelineDefinitionOutput is the output of ValidatePipelineDefinition.
type ValidatePipelineDefinitionOutput struct {
	ValidationErrors   []ValidationError   `json:"validationErrors"`
	ValidationWarnings []ValidationWarning `json:"validationWarnings"`
	Errored            bool                `json:"errored"`
}
