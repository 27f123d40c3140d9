package datapipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"

	"github.com/culvert/culvert/internal/pipeline"
)

// Hand-written JSON for definitions, the one large payload of the API.
// encoding/json spent most of PutPipelineDefinition's time on reflection
// and per-string allocations; this file decodes the two definition inputs
// and encodes stored definitions directly, on the token reader and string
// writer in codec_json.go. Each function produces exactly what
// encoding/json would, and the differential tests in codec_test.go and
// codec_fuzz_test.go hold it to that.

// UnmarshalAWSJSON decodes b as json.Unmarshal would; see
// [awsjson.Unmarshaler].
func (in *PutPipelineDefinitionInput) UnmarshalAWSJSON(b []byte) error {
	err := decodeDefinitionInput(b, "PutPipelineDefinitionInput", in)
	if err == errFallback {
		*in = PutPipelineDefinitionInput{}
		return json.Unmarshal(b, in)
	}
	return err
}

// UnmarshalAWSJSON decodes b as json.Unmarshal would; see
// [awsjson.Unmarshaler].
func (in *ValidatePipelineDefinitionInput) UnmarshalAWSJSON(b []byte) error {
	// The two inputs have the same members, so the conversion is allowed.
	err := decodeDefinitionInput(b, "ValidatePipelineDefinitionInput", (*PutPipelineDefinitionInput)(in))
	if err == errFallback {
		*in = ValidatePipelineDefinitionInput{}
		return json.Unmarshal(b, in)
	}
	return err
}

// errFallback reports input the decoder leaves to encoding/json: anything
// the awsjson scanner would have rejected (malformed JSON, a top level that
// is not an object), and nesting deeper than maxSkipDepth. Falling back is
// always correct, only slower, so the decoder never has to reproduce
// encoding/json's syntax errors.
var errFallback = errors.New("datapipeline: input left to encoding/json")

// maxSkipDepth bounds the recursion of skipping unknown members; the
// scanner allows 64 levels by default.
const maxSkipDepth = 512

// Member names per struct, in the order of the decoder's switches.
var (
	inputNames      = []string{"pipelineId", "pipelineObjects", "parameterObjects", "parameterValues"}
	objectNames     = []string{"id", "name", "fields"}
	fieldNames      = []string{"key", "stringValue", "refValue"}
	paramObjNames   = []string{"id", "attributes"}
	paramAttrNames  = []string{"key", "stringValue"}
	paramValueNames = []string{"id", "stringValue"}
)

// Go types named in type errors, as encoding/json names them.
var (
	typeString       = reflect.TypeFor[string]()
	typeObjects      = reflect.TypeFor[[]PipelineObject]()
	typeObject       = reflect.TypeFor[PipelineObject]()
	typeFields       = reflect.TypeFor[[]Field]()
	typeField        = reflect.TypeFor[Field]()
	typeParamObjects = reflect.TypeFor[[]ParameterObject]()
	typeParamObject  = reflect.TypeFor[ParameterObject]()
	typeParamAttrs   = reflect.TypeFor[[]ParameterAttribute]()
	typeParamAttr    = reflect.TypeFor[ParameterAttribute]()
	typeParamValues  = reflect.TypeFor[[]ParameterValue]()
	typeParamValue   = reflect.TypeFor[ParameterValue]()
)

// decoder decodes one definition input. Strings without escapes are
// substrings of one copy of the whole body, and the fields of all objects
// and the targets of all *string values are carved from shared slabs, so a
// definition costs a handful of allocations rather than several per field.
// The copy keeps the body alive as long as any decoded string is, which is
// the request: inputs are not retained (PutPipelineDefinition stores its
// own encoding).
type decoder struct {
	data    []byte
	i       int
	body    string // string(data), made on first use
	top     string // name of the input struct type, for errors
	bad     bool   // malformed input: fall back
	err     *json.UnmarshalTypeError
	buf     []byte   // scratch for unescaping
	strs    []string // slab for *string targets
	fields  []Field  // slab for Field lists
	nfields int      // guess of the number of fields, +1; 0 until needed
}

// fieldGuess estimates how many fields the body holds: each is an object.
func (d *decoder) fieldGuess() int {
	if d.nfields == 0 {
		d.nfields = guess(d.data, '{') + 1
	}
	return d.nfields - 1
}

// guess estimates how many values of a kind the body holds by counting a
// byte each of them has, so that the slices decoded into start at about
// the right size: a wrong guess costs only a regrown slice. The count is
// an upper bound unless the body is strange; the cap keeps one that
// repeats the byte inside strings from making the decoder allocate far
// beyond its size.
func guess(data []byte, c byte) int {
	return min(bytes.Count(data, []byte{c}), 4096)
}

func decodeDefinitionInput(b []byte, top string, in *PutPipelineDefinitionInput) error {
	d := decoder{data: b, top: top}
	d.ws()
	if d.peek() != '{' {
		return errFallback
	}
	for more := d.enterObject(); more; more = d.next('}') {
		switch d.member(inputNames) {
		case 0:
			d.str(&in.PipelineID, top, "pipelineId")
		case 1:
			in.PipelineObjects = d.objects()
		case 2:
			in.ParameterObjects = d.paramObjects()
		case 3:
			in.ParameterValues = d.paramValues()
		default:
			d.skip(1)
		}
	}
	d.ws()
	if d.bad || d.i != len(d.data) {
		return errFallback
	}
	if d.err != nil {
		return d.err
	}
	return nil
}

func (d *decoder) objects() []PipelineObject {
	if !d.enterArray(d.top, "pipelineObjects", typeObjects) {
		return nil
	}
	if d.emptyArray() {
		return []PipelineObject{}
	}
	objs := make([]PipelineObject, 0, max(guess(d.data, '['), 8)) // each object has a fields array
	for more := true; more; more = d.next(']') {
		objs = append(objs, PipelineObject{})
		if !d.enterElem(d.top, "pipelineObjects", typeObject) {
			continue
		}
		o := &objs[len(objs)-1]
		for more := d.enterObject(); more; more = d.next('}') {
			switch d.member(objectNames) {
			case 0:
				d.str(&o.ID, "Object", "pipelineObjects.id")
			case 1:
				d.str(&o.Name, "Object", "pipelineObjects.name")
			case 2:
				o.Fields = d.fieldList()
			default:
				d.skip(3)
			}
		}
	}
	return objs
}

func (d *decoder) fieldList() []Field {
	if !d.enterArray("Object", "pipelineObjects.fields", typeFields) {
		return nil
	}
	if d.emptyArray() {
		return []Field{}
	}
	start := len(d.fields)
	for more := true; more; more = d.next(']') {
		if len(d.fields) == cap(d.fields) {
			// A new slab; the lists already carved keep the old one.
			grown := make([]Field, len(d.fields)-start, max(2*cap(d.fields), d.fieldGuess(), 16))
			copy(grown, d.fields[start:])
			d.fields, start = grown, 0
		}
		d.fields = d.fields[:len(d.fields)+1] // slab memory is zero and not yet used
		if !d.enterElem("Object", "pipelineObjects.fields", typeField) {
			continue
		}
		f := &d.fields[len(d.fields)-1]
		for more := d.enterObject(); more; more = d.next('}') {
			switch d.member(fieldNames) {
			case 0:
				d.str(&f.Key, "Field", "pipelineObjects.fields.key")
			case 1:
				f.StringValue = d.strPtr("Field", "pipelineObjects.fields.stringValue")
			case 2:
				f.RefValue = d.strPtr("Field", "pipelineObjects.fields.refValue")
			default:
				d.skip(5)
			}
		}
	}
	return d.fields[start:len(d.fields):len(d.fields)]
}

func (d *decoder) paramObjects() []ParameterObject {
	if !d.enterArray(d.top, "parameterObjects", typeParamObjects) {
		return nil
	}
	if d.emptyArray() {
		return []ParameterObject{}
	}
	var objs []ParameterObject
	for more := true; more; more = d.next(']') {
		objs = append(objs, ParameterObject{})
		if !d.enterElem(d.top, "parameterObjects", typeParamObject) {
			continue
		}
		o := &objs[len(objs)-1]
		for more := d.enterObject(); more; more = d.next('}') {
			switch d.member(paramObjNames) {
			case 0:
				d.str(&o.ID, "ParameterObject", "parameterObjects.id")
			case 1:
				o.Attributes = d.paramAttrs()
			default:
				d.skip(3)
			}
		}
	}
	return objs
}

func (d *decoder) paramAttrs() []ParameterAttribute {
	const path = "parameterObjects.attributes"
	if !d.enterArray("ParameterObject", path, typeParamAttrs) {
		return nil
	}
	if d.emptyArray() {
		return []ParameterAttribute{}
	}
	var attrs []ParameterAttribute
	for more := true; more; more = d.next(']') {
		attrs = append(attrs, ParameterAttribute{})
		if !d.enterElem("ParameterObject", path, typeParamAttr) {
			continue
		}
		a := &attrs[len(attrs)-1]
		for more := d.enterObject(); more; more = d.next('}') {
			switch d.member(paramAttrNames) {
			case 0:
				d.str(&a.Key, "ParameterAttribute", path+".key")
			case 1:
				d.str(&a.StringValue, "ParameterAttribute", path+".stringValue")
			default:
				d.skip(5)
			}
		}
	}
	return attrs
}

func (d *decoder) paramValues() []ParameterValue {
	if !d.enterArray(d.top, "parameterValues", typeParamValues) {
		return nil
	}
	if d.emptyArray() {
		return []ParameterValue{}
	}
	var vals []ParameterValue
	for more := true; more; more = d.next(']') {
		vals = append(vals, ParameterValue{})
		if !d.enterElem(d.top, "parameterValues", typeParamValue) {
			continue
		}
		v := &vals[len(vals)-1]
		for more := d.enterObject(); more; more = d.next('}') {
			switch d.member(paramValueNames) {
			case 0:
				d.str(&v.ID, "ParameterValue", "parameterValues.id")
			case 1:
				d.str(&v.StringValue, "ParameterValue", "parameterValues.stringValue")
			default:
				d.skip(3)
			}
		}
	}
	return vals
}

// Encoding. appendDefinition and appendObject write exactly what
// encoding/json writes with SetEscapeHTML(false) and without the trailing
// newline: the stored document must not change with the encoder.

// appendDefinition appends the JSON encoding of d.
func appendDefinition(dst []byte, d *pipeline.Definition) []byte {
	dst = slices.Grow(dst, definitionSize(d))
	dst = append(dst, `{"pipelineObjects":`...)
	if d.Objects == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range d.Objects {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendObjectJSON(dst, &d.Objects[i])
		}
		dst = append(dst, ']')
	}
	if len(d.ParameterObjects) > 0 {
		dst = append(dst, `,"parameterObjects":[`...)
		for i, p := range d.ParameterObjects {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"id":`...)
			dst = appendString(dst, p.ID)
			dst = append(dst, `,"attributes":`...)
			if p.Attributes == nil {
				dst = append(dst, "null"...)
			} else {
				dst = append(dst, '[')
				for j, a := range p.Attributes {
					if j > 0 {
						dst = append(dst, ',')
					}
					dst = append(dst, `{"key":`...)
					dst = appendString(dst, a.Key)
					dst = append(dst, `,"stringValue":`...)
					dst = appendString(dst, a.StringValue)
					dst = append(dst, '}')
				}
				dst = append(dst, ']')
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if len(d.ParameterValues) > 0 {
		dst = append(dst, `,"parameterValues":[`...)
		for i, v := range d.ParameterValues {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"id":`...)
			dst = appendString(dst, v.ID)
			dst = append(dst, `,"stringValue":`...)
			dst = appendString(dst, v.StringValue)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// appendObject appends the JSON encoding of o.
func appendObject(dst []byte, o *pipeline.Object) []byte {
	return appendObjectJSON(slices.Grow(dst, objectSize(o)), o)
}

func appendObjectJSON(dst []byte, o *pipeline.Object) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, o.ID)
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, o.Name)
	dst = append(dst, `,"fields":`...)
	if o.Fields == nil {
		return append(dst, "null}"...)
	}
	dst = append(dst, '[')
	for i := range o.Fields {
		f := &o.Fields[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"key":`...)
		dst = appendString(dst, f.Key)
		if f.StringValue != nil {
			dst = append(dst, `,"stringValue":`...)
			dst = appendString(dst, *f.StringValue)
		}
		if f.RefValue != nil {
			dst = append(dst, `,"refValue":`...)
			dst = appendString(dst, *f.RefValue)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// definitionSize is the encoded size of d if no string needs escaping,
// so that encoding it allocates once.
func definitionSize(d *pipeline.Definition) int {
	n := len(`{"pipelineObjects":[]}`)
	for i := range d.Objects {
		n += objectSize(&d.Objects[i]) + 1
	}
	for _, p := range d.ParameterObjects {
		n += len(`,"parameterObjects":[{"id":"","attributes":[]}]`) + len(p.ID)
		for _, a := range p.Attributes {
			n += len(`{"key":"","stringValue":""},`) + len(a.Key) + len(a.StringValue)
		}
	}
	for _, v := range d.ParameterValues {
		n += len(`,"parameterValues":[{"id":"","stringValue":""}]`) + len(v.ID) + len(v.StringValue)
	}
	return n
}

func objectSize(o *pipeline.Object) int {
	n := len(`{"id":"","name":"","fields":[]}`) + len(o.ID) + len(o.Name)
	for i := range o.Fields {
		f := &o.Fields[i]
		n += len(`{"key":""},`) + len(f.Key)
		if f.StringValue != nil {
			n += len(`,"stringValue":""`) + len(*f.StringValue)
		}
		if f.RefValue != nil {
			n += len(`,"refValue":""`) + len(*f.RefValue)
		}
	}
	return n
}
