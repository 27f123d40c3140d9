package datapipeline

import "github.com/culvert/culvert/internal/awsjson"

// Ops returns the operation table: the whole API surface on one screen.
func (s *Service) Ops() map[string]awsjson.Op {
	return map[string]awsjson.Op{
		"ActivatePipeline":           awsjson.Handle(s.ActivatePipeline),
		"AddTags":                    awsjson.Handle(s.AddTags),
		"CreatePipeline":             awsjson.Handle(s.CreatePipeline),
		"DeactivatePipeline":         awsjson.Handle(s.DeactivatePipeline),
		"DeletePipeline":             awsjson.Handle(s.DeletePipeline),
		"DescribeObjects":            awsjson.Handle(s.DescribeObjects),
		"DescribePipelines":          awsjson.Handle(s.DescribePipelines),
		"EvaluateExpression":         awsjson.Handle(s.EvaluateExpression),
		"GetPipelineDefinition":      awsjson.Handle(s.GetPipelineDefinition),
		"ListPipelines":              awsjson.Handle(s.ListPipelines),
		"PollForTask":                awsjson.Handle(s.PollForTask),
		"PutPipelineDefinition":      awsjson.Handle(s.PutPipelineDefinition),
		"QueryObjects":               awsjson.Handle(s.QueryObjects),
		"RemoveTags":                 awsjson.Handle(s.RemoveTags),
		"ReportTaskProgress":         awsjson.Handle(s.ReportTaskProgress),
		"ReportTaskRunnerHeartbeat":  awsjson.Handle(s.ReportTaskRunnerHeartbeat),
		"SetStatus":                  awsjson.Handle(s.SetStatus),
		"SetTaskStatus":              awsjson.Handle(s.SetTaskStatus),
		"ValidatePipelineDefinition": awsjson.Handle(s.ValidatePipelineDefinition),
	}
}
