package datapipeline

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Model constraints, checked by one plain validate method per input. The
// helpers below name members the way AWS's own validation messages do
// ('pipelineObjects.1.member.fields.2.member.key', 1-based), so a caller can
// find the offending member of a large request.
//
// Strings the model marks required must also be non-empty: the definition
// rules treat an empty value as fatal anyway, and AWS answered an empty
// parameter attribute with a 500 that we turn into a clear 400.

// Shape limits from the service model.
const (
	maxID               = 1024     // shape id
	maxString           = 1024     // shape string
	maxFieldName        = 256      // fieldNameString, attributeNameString
	maxFieldValue       = 10240    // fieldStringValue, attributeValueString
	maxLongString       = 20971520 // longString
	maxTaskID           = 2048     // taskId
	maxTagKey           = 128
	maxTagValue         = 256
	maxTags             = 10 // tagList
	maxDescribeIDs      = 25 // DescribePipelines, per the model's documentation
	maxDescribeObjectID = 100
	maxSelectors        = 10
	maxSetStatusIDs     = 1000
)

// maxReported caps how many violations one message lists.
const maxReported = 10

type checker struct {
	msgs  []string
	count int
}

func (c *checker) add(path, constraint string) {
	c.count++
	if len(c.msgs) < maxReported {
		c.msgs = append(c.msgs, "Value at '"+path+"' failed to satisfy constraint: "+constraint)
	}
}

// err returns nil or an InvalidRequestException in AWS's "N validation
// errors detected" form. Values are never echoed: they may be secrets or
// megabytes long.
func (c *checker) err() error {
	if c.count == 0 {
		return nil
	}
	noun := "error"
	if c.count > 1 {
		noun = "errors"
	}
	return invalidRequest("%d validation %s detected: %s", c.count, noun, strings.Join(c.msgs, "; "))
}

// str checks a string member against its shape: required (non-empty),
// length in characters (every minimum in this model is 0 or 1, so only the
// empty string can fall short), and the model's XML-character pattern unless
// anyChars is set (the tag shapes have no pattern).
func (c *checker) str(path, v string, required bool, min, max int, anyChars bool) {
	if strOK(v, required, min, max, anyChars) {
		return
	}
	if v == "" {
		if required {
			c.add(path, "Member must not be null or empty")
		} else if min > 0 {
			c.add(path, "Member must have length greater than or equal to "+strconv.Itoa(min))
		}
		return
	}
	if len(v) > max { // bytes ≥ characters, so only long strings need counting
		if n := utf8.RuneCountInString(v); n > max {
			c.add(path, "Member must have length less than or equal to "+strconv.Itoa(max))
		}
	}
	if !anyChars && !xmlChars(v) {
		c.add(path, `Member must satisfy regular expression pattern: [\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*`)
	}
}

// strOK reports whether str accepts v. It is str's own test, so the loops
// over long lists can check an element with it (see objectOK) and build
// member names, which allocate, only for elements with a violation.
func strOK(v string, required bool, min, max int, anyChars bool) bool {
	if v == "" {
		return !required && min == 0
	}
	if len(v) > max && utf8.RuneCountInString(v) > max {
		return false
	}
	return anyChars || xmlChars(v)
}

// xmlChars reports whether s holds only characters the model's pattern
// allows: tab, LF, CR, and U+0020 upwards except U+FFFE and U+FFFF. Lone
// surrogates cannot occur in a decoded Go string.
func xmlChars(s string) bool {
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b < 0x20 && b != '\t' && b != '\n' && b != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
	}
	return true
}

func (c *checker) required(path string, present bool) {
	if !present {
		c.add(path, "Member must not be null")
	}
}

func (c *checker) maxLen(path string, n, max int) {
	if n > max {
		c.add(path, "Member must have length less than or equal to "+strconv.Itoa(max))
	}
}

func (c *checker) enum(path, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.add(path, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

func member(path string, i int, name string) string {
	return elem(path, i) + "." + name
}

// elem names element i of a list as AWS does: 'objectIds.1.member'.
func elem(path string, i int) string {
	return path + "." + strconv.Itoa(i+1) + ".member"
}

func (c *checker) id(path, v string)      { c.str(path, v, true, 1, maxID, false) }
func (c *checker) optID(path, v string)   { c.str(path, v, false, 0, maxID, false) }
func (c *checker) optStr(path, v string)  { c.str(path, v, false, 0, maxString, false) }
func (c *checker) reqStr(path, v string)  { c.str(path, v, true, 0, maxString, false) }
func (c *checker) taskID(path, v string)  { c.str(path, v, true, 1, maxTaskID, false) }
func (c *checker) fieldName(p, v string)  { c.str(p, v, true, 1, maxFieldName, false) }
func (c *checker) fieldValue(p, v string) { c.str(p, v, true, 0, maxFieldValue, false) }

func (c *checker) idList(path string, ids []string, max int) {
	c.required(path, ids != nil)
	c.maxLen(path, len(ids), max)
	for i, id := range ids {
		if i >= max {
			break
		}
		if strOK(id, true, 1, maxID, false) { // c.id's test
			continue
		}
		c.id(elem(path, i), id)
	}
}

func (c *checker) fields(path string, fs []Field) {
	for i, f := range fs {
		if fieldOK(f) {
			continue
		}
		c.fieldName(member(path, i, "key"), f.Key)
		// An empty value is fatal for a definition; it is reported by
		// definition validation with the object's id, so only lengths and
		// characters are checked here.
		if f.StringValue != nil {
			c.str(member(path, i, "stringValue"), *f.StringValue, false, 0, maxFieldValue, false)
		}
		if f.RefValue != nil {
			c.str(member(path, i, "refValue"), *f.RefValue, false, 0, maxFieldName, false)
		}
	}
}

// fieldOK reports whether fields would find nothing wrong with f.
func fieldOK(f Field) bool {
	return strOK(f.Key, true, 1, maxFieldName, false) &&
		(f.StringValue == nil || strOK(*f.StringValue, false, 0, maxFieldValue, false)) &&
		(f.RefValue == nil || strOK(*f.RefValue, false, 0, maxFieldName, false))
}

func (c *checker) tags(path string, tags []Tag, required bool) {
	if required {
		c.required(path, tags != nil)
	}
	c.maxLen(path, len(tags), maxTags)
	for i, t := range tags {
		if i >= maxTags {
			break
		}
		c.str(member(path, i, "key"), t.Key, true, 1, maxTagKey, true)
		c.str(member(path, i, "value"), t.Value, false, 0, maxTagValue, true)
	}
}

func (c *checker) objects(path string, objs []PipelineObject) {
	c.required(path, objs != nil)
	for i, o := range objs {
		if objectOK(&o) {
			continue
		}
		// Missing ids and names are reported as the fatal definition errors
		// AWS describes, so only their lengths and characters are checked.
		c.str(member(path, i, "id"), o.ID, false, 0, maxID, false)
		c.str(member(path, i, "name"), o.Name, false, 0, maxID, false)
		c.required(member(path, i, "fields"), o.Fields != nil)
		c.fields(member(path, i, "fields"), o.Fields)
	}
}

// objectOK reports whether objects would find nothing wrong with o. Keep
// it in step with the loop body there.
func objectOK(o *PipelineObject) bool {
	if o.Fields == nil || !strOK(o.ID, false, 0, maxID, false) || !strOK(o.Name, false, 0, maxID, false) {
		return false
	}
	for _, f := range o.Fields {
		if !fieldOK(f) {
			return false
		}
	}
	return true
}

// parameterOK reports whether parameters would find nothing wrong with p.
// Keep it in step with the loop body there.
func parameterOK(p *ParameterObject) bool {
	if p.Attributes == nil || !strOK(p.ID, true, 1, maxFieldName, false) {
		return false
	}
	for _, a := range p.Attributes {
		if !strOK(a.Key, true, 1, maxFieldName, false) || !strOK(a.StringValue, true, 0, maxFieldValue, false) {
			return false
		}
	}
	return true
}

func (c *checker) parameters(objs []ParameterObject, vals []ParameterValue) {
	for i, p := range objs {
		if parameterOK(&p) {
			continue
		}
		c.fieldName(member("parameterObjects", i, "id"), p.ID)
		c.required(member("parameterObjects", i, "attributes"), p.Attributes != nil)
		for j, a := range p.Attributes {
			base := member("parameterObjects", i, "attributes")
			c.fieldName(member(base, j, "key"), a.Key)
			c.fieldValue(member(base, j, "stringValue"), a.StringValue)
		}
	}
	for i, v := range vals {
		if strOK(v.ID, true, 1, maxFieldName, false) && strOK(v.StringValue, true, 0, maxFieldValue, false) {
			continue // nothing for fieldName and fieldValue to report
		}
		c.fieldName(member("parameterValues", i, "id"), v.ID)
		c.fieldValue(member("parameterValues", i, "stringValue"), v.StringValue)
	}
}

func (in *ActivatePipelineInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	c.parameters(nil, in.ParameterValues)
	return c.err()
}

func (in *AddTagsInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	c.tags("tags", in.Tags, true)
	return c.err()
}

func (in *CreatePipelineInput) validate() error {
	var c checker
	c.id("name", in.Name)
	c.id("uniqueId", in.UniqueID)
	c.optStr("description", in.Description)
	c.tags("tags", in.Tags, false)
	return c.err()
}

func (in *DeactivatePipelineInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	return c.err()
}

func (in *DeletePipelineInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	return c.err()
}

func (in *DescribeObjectsInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	c.idList("objectIds", in.ObjectIDs, maxDescribeObjectID)
	c.optStr("marker", in.Marker)
	return c.err()
}

func (in *DescribePipelinesInput) validate() error {
	var c checker
	c.idList("pipelineIds", in.PipelineIDs, maxDescribeIDs)
	return c.err()
}

func (in *EvaluateExpressionInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	c.id("objectId", in.ObjectID)
	c.str("expression", in.Expression, true, 0, maxLongString, false)
	return c.err()
}

func (in *GetPipelineDefinitionInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	c.optStr("version", in.Version)
	return c.err()
}

func (in *ListPipelinesInput) validate() error {
	var c checker
	c.optStr("marker", in.Marker)
	return c.err()
}

func (in *PollForTaskInput) validate() error {
	var c checker
	c.reqStr("workerGroup", in.WorkerGroup)
	c.optID("hostname", in.Hostname)
	if in.InstanceIdentity != nil {
		c.optStr("instanceIdentity.document", in.InstanceIdentity.Document)
		c.optStr("instanceIdentity.signature", in.InstanceIdentity.Signature)
	}
	return c.err()
}

func (in *PutPipelineDefinitionInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	c.objects("pipelineObjects", in.PipelineObjects)
	c.parameters(in.ParameterObjects, in.ParameterValues)
	return c.err()
}

func (in *QueryObjectsInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	c.reqStr("sphere", in.Sphere)
	c.optStr("marker", in.Marker)
	if in.Query != nil {
		c.maxLen("query.selectors", len(in.Query.Selectors), maxSelectors)
		for i, s := range in.Query.Selectors {
			if i >= maxSelectors {
				break
			}
			c.optStr(member("query.selectors", i, "fieldName"), s.FieldName)
			if s.Operator == nil {
				continue
			}
			if s.Operator.Type != "" {
				c.enum(member("query.selectors", i, "operator.type"), s.Operator.Type, "EQ", "REF_EQ", "LE", "GE", "BETWEEN")
			}
			for j, v := range s.Operator.Values {
				c.optStr(elem(member("query.selectors", i, "operator.values"), j), v)
			}
		}
	}
	return c.err()
}

func (in *RemoveTagsInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	c.required("tagKeys", in.TagKeys != nil)
	for i, k := range in.TagKeys {
		c.optStr(elem("tagKeys", i), k)
	}
	return c.err()
}

func (in *ReportTaskProgressInput) validate() error {
	var c checker
	c.taskID("taskId", in.TaskID)
	c.fields("fields", in.Fields)
	// These fields are not a definition, so no definition rule reports an
	// empty reference: the model's minimum length applies here.
	for i, f := range in.Fields {
		if f.RefValue != nil && *f.RefValue == "" {
			c.add(member("fields", i, "refValue"), "Member must have length greater than or equal to 1")
		}
	}
	return c.err()
}

func (in *ReportTaskRunnerHeartbeatInput) validate() error {
	var c checker
	c.id("taskrunnerId", in.TaskrunnerID)
	c.optStr("workerGroup", in.WorkerGroup)
	c.optID("hostname", in.Hostname)
	return c.err()
}

func (in *SetStatusInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	c.idList("objectIds", in.ObjectIDs, maxSetStatusIDs)
	c.reqStr("status", in.Status)
	return c.err()
}

func (in *SetTaskStatusInput) validate() error {
	var c checker
	c.taskID("taskId", in.TaskID)
	if in.TaskStatus == "" {
		c.required("taskStatus", false)
	} else {
		c.enum("taskStatus", in.TaskStatus, "FINISHED", "FAILED", "FALSE")
	}
	c.optStr("errorId", in.ErrorID)
	c.optStr("errorStackTrace", in.ErrorStackTrace)
	return c.err()
}

func (in *ValidatePipelineDefinitionInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	c.objects("pipelineObjects", in.PipelineObjects)
	c.parameters(in.ParameterObjects, in.ParameterValues)
	return c.err()
}
