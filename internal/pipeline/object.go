package pipeline

// Field is one key/value slot of an object. Exactly one of StringValue and
// RefValue is set; a key may repeat to form a list.
type Field struct {
	Key         string  `json:"key"`
	StringValue *string `json:"stringValue,omitempty"`
	RefValue    *string `json:"refValue,omitempty"`
}

// String returns a Field holding a string value.
func String(key, value string) Field { return Field{Key: key, StringValue: &value} }

// Ref returns a Field holding a reference to the object with id ref.
func Ref(key, ref string) Field { return Field{Key: key, RefValue: &ref} }

// IsRef reports whether the field is a reference.
func (f Field) IsRef() bool { return f.RefValue != nil }

// Value returns the string or reference value, whichever is set.
func (f Field) Value() string {
	switch {
	case f.StringValue != nil:
		return *f.StringValue
	case f.RefValue != nil:
		return *f.RefValue
	}
	return ""
}

// Object is a pipeline object: a component of a definition, or an instance or
// attempt made from one.
type Object struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Fields []Field `json:"fields"`
}

// Get returns the first value of key, and whether the object has it.
func (o *Object) Get(key string) (Field, bool) {
	for _, f := range o.Fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// ParameterAttribute is one attribute of a parameter object, such as its
// type, default or description.
type ParameterAttribute struct {
	Key         string `json:"key"`
	StringValue string `json:"stringValue"`
}

// ParameterObject declares a parameter that objects reference as #{myName}.
type ParameterObject struct {
	ID         string               `json:"id"`
	Attributes []ParameterAttribute `json:"attributes"`
}

// ParameterValue supplies a value for a parameter; repeating an id gives an
// array parameter several values.
type ParameterValue struct {
	ID          string `json:"id"`
	StringValue string `json:"stringValue"`
}

// Definition is a whole pipeline definition as a user supplied it. Its JSON
// encoding is exactly the GetPipelineDefinition response.
type Definition struct {
	Objects          []Object          `json:"pipelineObjects"`
	ParameterObjects []ParameterObject `json:"parameterObjects,omitempty"`
	ParameterValues  []ParameterValue  `json:"parameterValues,omitempty"`
}

// Object returns the object with the given id, or nil.
func (d *Definition) Object(id string) *Object {
	for i := range d.Objects {
		if d.Objects[i].ID == id {
			return &d.Objects[i]
		}
	}
	return nil
}

// Tag is a key/value label on a pipeline.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}
