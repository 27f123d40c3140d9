package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	wire "github.com/culvert/culvert/internal/datapipeline"
	"github.com/culvert/culvert/internal/pipeline"
)

// describePipelinesBatch is how many ids one DescribePipelines takes (the
// model's documented limit, which culvert enforces).
const describePipelinesBatch = 25

// pairsFlag collects a repeatable KEY=VALUE flag, in order.
type pairsFlag [][2]string

func (p *pairsFlag) String() string {
	var b strings.Builder
	for i, kv := range *p {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv[0] + "=" + kv[1])
	}
	return b.String()
}

func (p *pairsFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	*p = append(*p, [2]string{k, v})
	return nil
}

func (c *clientCommand) create(ctx context.Context, args []string) error {
	fs := c.flagSet("NAME [--unique-id ID] [--description TEXT] [--tag KEY=VALUE ...]",
		"Creates a pipeline and prints its id. Creating again with the same name and unique id\n"+
			"gives the same pipeline instead of a second one, as AWS promises; the unique id is\n"+
			"the name unless given, so repeating a create is safe.")
	uniqueID := fs.String("unique-id", "", "the `ID` that makes the creation idempotent; default NAME")
	description := fs.String("description", "", "the pipeline's `TEXT`")
	var tags pairsFlag
	fs.Var(&tags, "tag", "a tag, `KEY=VALUE` (repeatable)")
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return err
	}
	in := &datapipeline.CreatePipelineInput{Name: aws.String(pos[0]), UniqueId: aws.String(pos[0])}
	if *uniqueID != "" {
		in.UniqueId = uniqueID
	}
	if *description != "" {
		in.Description = description
	}
	for _, kv := range tags {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	dp, err := c.connect(ctx)
	if err != nil {
		return err
	}
	out, err := dp.CreatePipeline(ctx, in)
	if err != nil {
		return apiError(err)
	}
	if c.json {
		return writeJSON(c.main.Stdout, wire.CreatePipelineOutput{PipelineID: aws.ToString(out.PipelineId)})
	}
	_, err = fmt.Fprintln(c.main.Stdout, aws.ToString(out.PipelineId))
	return err
}

func (c *clientCommand) putDefinition(ctx context.Context, args []string) error {
	fs := c.flagSet("PIPELINE_ID FILE",
		"Puts a definition file (the aws CLI's format; - for standard input) on a pipeline and\n"+
			"prints the validation errors and warnings as FILE: OBJECT: error|warning: MESSAGE.\n"+
			"A definition with errors is saved but cannot be activated; the exit status is then 1.")
	pos, err := c.parse(fs, args, 2)
	if err != nil {
		return err
	}
	id, file := pos[0], pos[1]
	r, err := openInput(file)
	if err != nil {
		return err
	}
	def, err := pipeline.ParseFile(r)
	r.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	dp, err := c.connect(ctx)
	if err != nil {
		return err
	}
	out, err := dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{
		PipelineId:       aws.String(id),
		PipelineObjects:  sdkObjects(def.Objects),
		ParameterObjects: sdkParameterObjects(def.ParameterObjects),
		ParameterValues:  sdkParameterValues(def.ParameterValues),
	})
	if err != nil {
		return apiError(err)
	}
	res := wire.PutPipelineDefinitionOutput{
		ValidationErrors:   make([]pipeline.ValidationError, 0, len(out.ValidationErrors)),
		ValidationWarnings: make([]pipeline.ValidationWarning, 0, len(out.ValidationWarnings)),
		Errored:            out.Errored,
	}
	for _, e := range out.ValidationErrors {
		res.ValidationErrors = append(res.ValidationErrors, pipeline.ValidationError{ID: aws.ToString(e.Id), Errors: e.Errors})
	}
	for _, w := range out.ValidationWarnings {
		res.ValidationWarnings = append(res.ValidationWarnings, pipeline.ValidationWarning{ID: aws.ToString(w.Id), Warnings: w.Warnings})
	}
	if c.json {
		err = writeJSON(c.main.Stdout, res)
	} else {
		err = printValidation(c.main.Stdout, id, file, &res)
	}
	if err != nil {
		return err
	}
	if res.Errored {
		return errInvalid
	}
	return nil
}

// printValidation prints a PutPipelineDefinition result in the format of
// culvert validate, then one line saying what became of the definition.
func printValidation(w io.Writer, id, file string, res *wire.PutPipelineDefinitionOutput) error {
	var b strings.Builder
	errs, warns := 0, 0
	for _, e := range res.ValidationErrors {
		for _, msg := range e.Errors {
			fmt.Fprintf(&b, "%s: %s: error: %s\n", file, e.ID, msg)
			errs++
		}
	}
	for _, v := range res.ValidationWarnings {
		for _, msg := range v.Warnings {
			fmt.Fprintf(&b, "%s: %s: warning: %s\n", file, v.ID, msg)
			warns++
		}
	}
	switch {
	case res.Errored && errs == 0:
		fmt.Fprintf(&b, "%s: definition saved with errors, so it cannot be activated\n", id)
	case res.Errored:
		fmt.Fprintf(&b, "%s: definition saved with %s, so it cannot be activated\n", id, counted(errs, "error", warns, "warning"))
	case warns > 0:
		fmt.Fprintf(&b, "%s: definition saved with %s\n", id, counted(warns, "warning", 0, ""))
	default:
		fmt.Fprintf(&b, "%s: definition saved\n", id)
	}
	_, err := w.Write([]byte(b.String()))
	return err
}

// counted says "1 error", "2 errors and 1 warning" and so on; a zero
// second count is left out.
func counted(n int, noun string, m int, noun2 string) string {
	s := plural(n, noun)
	if m > 0 {
		s += " and " + plural(m, noun2)
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func sdkObjects(objs []pipeline.Object) []types.PipelineObject {
	out := make([]types.PipelineObject, 0, len(objs))
	for _, o := range objs {
		fields := make([]types.Field, 0, len(o.Fields))
		for _, f := range o.Fields {
			fields = append(fields, types.Field{Key: aws.String(f.Key), StringValue: f.StringValue, RefValue: f.RefValue})
		}
		out = append(out, types.PipelineObject{Id: aws.String(o.ID), Name: aws.String(o.Name), Fields: fields})
	}
	return out
}

func sdkParameterObjects(objs []pipeline.ParameterObject) []types.ParameterObject {
	var out []types.ParameterObject
	for _, o := range objs {
		attrs := make([]types.ParameterAttribute, 0, len(o.Attributes))
		for _, a := range o.Attributes {
			attrs = append(attrs, types.ParameterAttribute{Key: aws.String(a.Key), StringValue: aws.String(a.StringValue)})
		}
		out = append(out, types.ParameterObject{Id: aws.String(o.ID), Attributes: attrs})
	}
	return out
}

func sdkParameterValues(vals []pipeline.ParameterValue) []types.ParameterValue {
	var out []types.ParameterValue
	for _, v := range vals {
		out = append(out, types.ParameterValue{Id: aws.String(v.ID), StringValue: aws.String(v.StringValue)})
	}
	return out
}

// parseTime reads a time given on the command line: RFC 3339, or a Data
// Pipeline DateTime (YYYY-MM-DDTHH:MM:SS), which is UTC as everywhere in
// the service.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(dateTimeLayout, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want RFC 3339 (2006-01-02T15:04:05Z) or YYYY-MM-DDTHH:MM:SS in UTC", s)
}

// dateTimeLayout is Data Pipeline's DateTime, always UTC.
const dateTimeLayout = "2006-01-02T15:04:05"

func (c *clientCommand) activate(ctx context.Context, args []string) error {
	fs := c.flagSet("PIPELINE_ID [--start-time TIME] [--parameter-value ID=VALUE ...]",
		"Activates a pipeline: its runs are scheduled from its latest definition.")
	startTime := fs.String("start-time", "", "schedule runs from `TIME` (RFC 3339, or YYYY-MM-DDTHH:MM:SS in UTC); earlier ones are skipped")
	var params pairsFlag
	fs.Var(&params, "parameter-value", "a parameter value, `ID=VALUE` (repeatable; repeat an ID for a list)")
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return err
	}
	in := &datapipeline.ActivatePipelineInput{PipelineId: aws.String(pos[0])}
	if *startTime != "" {
		t, err := parseTime(*startTime)
		if err != nil {
			return fmt.Errorf("activate: --start-time: %w", err)
		}
		in.StartTimestamp = &t
	}
	for _, kv := range params {
		in.ParameterValues = append(in.ParameterValues, types.ParameterValue{Id: aws.String(kv[0]), StringValue: aws.String(kv[1])})
	}
	dp, err := c.connect(ctx)
	if err != nil {
		return err
	}
	if _, err := dp.ActivatePipeline(ctx, in); err != nil {
		return apiError(err)
	}
	if c.json {
		return writeJSON(c.main.Stdout, wire.ActivatePipelineOutput{})
	}
	_, err = fmt.Fprintf(c.main.Stdout, "%s: activated\n", pos[0])
	return err
}

func (c *clientCommand) deactivate(ctx context.Context, args []string) error {
	fs := c.flagSet("PIPELINE_ID [--cancel-active=false]",
		"Deactivates a pipeline: no new runs start; activate resumes it.")
	cancel := fs.Bool("cancel-active", true, "cancel the attempts running now (AWS's default); false lets them finish first")
	fs.BoolFunc("no-cancel-active", "the same as --cancel-active=false (the aws CLI's spelling)", func(string) error {
		*cancel = false
		return nil
	})
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return err
	}
	dp, err := c.connect(ctx)
	if err != nil {
		return err
	}
	if _, err := dp.DeactivatePipeline(ctx, &datapipeline.DeactivatePipelineInput{PipelineId: aws.String(pos[0]), CancelActive: cancel}); err != nil {
		return apiError(err)
	}
	if c.json {
		return writeJSON(c.main.Stdout, wire.DeactivatePipelineOutput{})
	}
	how := "running attempts are canceled"
	if !*cancel {
		how = "running attempts finish first"
	}
	_, err = fmt.Fprintf(c.main.Stdout, "%s: deactivating; %s\n", pos[0], how)
	return err
}

func (c *clientCommand) list(ctx context.Context, args []string) error {
	fs := c.flagSet("", "Lists the account's pipelines with their state, health, and latest and next scheduled runs.")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	dp, err := c.connect(ctx)
	if err != nil {
		return err
	}
	var ids []string
	pages := datapipeline.NewListPipelinesPaginator(dp, &datapipeline.ListPipelinesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return apiError(err)
		}
		for _, p := range page.PipelineIdList {
			ids = append(ids, aws.ToString(p.Id))
		}
	}
	descs := make([]wire.PipelineDescription, 0, len(ids))
	for batch := range slices.Chunk(ids, describePipelinesBatch) {
		out, err := dp.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: batch})
		if err != nil {
			return apiError(err)
		}
		for _, d := range out.PipelineDescriptionList {
			descs = append(descs, wireDescription(d))
		}
	}
	if c.json {
		return writeJSON(c.main.Stdout, wire.DescribePipelinesOutput{PipelineDescriptionList: descs})
	}
	if len(descs) == 0 {
		fmt.Fprintln(c.main.Stderr, "no pipelines")
		return nil
	}
	tw := tabwriter.NewWriter(c.main.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tHEALTH\tLATEST RUN\tNEXT RUN")
	for _, d := range descs {
		f := fieldMap(d.Fields)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cell(d.PipelineID), cell(d.Name), cell(f["@pipelineState"]),
			cell(f["@healthStatus"]), cell(f["@latestRunTime"]), cell(f["@nextRunTime"]))
	}
	return tw.Flush()
}

func wireDescription(d types.PipelineDescription) wire.PipelineDescription {
	w := wire.PipelineDescription{
		PipelineID:  aws.ToString(d.PipelineId),
		Name:        aws.ToString(d.Name),
		Fields:      wireFields(d.Fields),
		Description: aws.ToString(d.Description),
		Tags:        make([]pipeline.Tag, 0, len(d.Tags)),
	}
	for _, t := range d.Tags {
		w.Tags = append(w.Tags, pipeline.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
	}
	return w
}

func wireFields(fs []types.Field) []pipeline.Field {
	out := make([]pipeline.Field, 0, len(fs))
	for _, f := range fs {
		out = append(out, pipeline.Field{Key: aws.ToString(f.Key), StringValue: f.StringValue, RefValue: f.RefValue})
	}
	return out
}

// fieldMap returns each key's value, string or reference; of a repeated
// key the last wins, as in the aws CLI's list-runs.
func fieldMap(fs []pipeline.Field) map[string]string {
	m := make(map[string]string, len(fs))
	for _, f := range fs {
		m[f.Key] = f.Value()
	}
	return m
}
