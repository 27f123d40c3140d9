package pipeline

import "strings"

// Parameter attribute keys (§2.4).
const (
	ParamType          = "type"
	ParamOptional      = "optional"
	ParamAllowedValues = "allowedValues"
	ParamDefault       = "default"
	ParamIsArray       = "isArray"
	ParamDescription   = "description"
	ParamWatermark     = "watermark"
	ParamHelpText      = "helpText"
)

// Parameter types (§2.4). String is the default.
const (
	ParamTypeString      = "String"
	ParamTypeInteger     = "Integer"
	ParamTypeDouble      = "Double"
	ParamTypeS3ObjectKey = "AWS::S3::ObjectKey"
)

// Attr returns the first value of the attribute key.
func (p *ParameterObject) Attr(key string) (string, bool) {
	for _, a := range p.Attributes {
		if a.Key == key {
			return a.StringValue, true
		}
	}
	return "", false
}

// Attrs returns every value of the attribute key, in order; allowedValues
// is the attribute that repeats.
func (p *ParameterObject) Attrs(key string) []string {
	var out []string
	for _, a := range p.Attributes {
		if a.Key == key {
			out = append(out, a.StringValue)
		}
	}
	return out
}

// Type returns the parameter's declared type, String when it declares none.
func (p *ParameterObject) Type() string {
	if t, ok := p.Attr(ParamType); ok {
		return t
	}
	return ParamTypeString
}

// IsArray reports whether the parameter takes several values.
func (p *ParameterObject) IsArray() bool {
	v, _ := p.Attr(ParamIsArray)
	return strings.EqualFold(v, "true")
}

// IsOptional reports whether the parameter may go without a value.
func (p *ParameterObject) IsOptional() bool {
	v, _ := p.Attr(ParamOptional)
	return strings.EqualFold(v, "true")
}

// IsSecret reports whether the parameter's values are masked: its id starts
// with '*', as in *myPassword.
func (p *ParameterObject) IsSecret() bool { return strings.HasPrefix(p.ID, "*") }

// Parameter returns the declared parameter with the given id, or nil.
func (d *Definition) Parameter(id string) *ParameterObject {
	for i := range d.ParameterObjects {
		if d.ParameterObjects[i].ID == id {
			return &d.ParameterObjects[i]
		}
	}
	return nil
}

// ParameterValuesOf returns the values parameter id takes: the values
// supplied for it in ParameterValues, in order, or else its default (every
// default, in order, for an isArray parameter, which may give several). It
// returns nil when there is neither. Values for ids that no parameter
// declares are returned too, as they were supplied.
func (d *Definition) ParameterValuesOf(id string) []string {
	var out []string
	for _, v := range d.ParameterValues {
		if v.ID == id {
			out = append(out, v.StringValue)
		}
	}
	if out != nil {
		return out
	}
	if p := d.Parameter(id); p != nil {
		if p.IsArray() {
			return p.Attrs(ParamDefault)
		}
		if v, ok := p.Attr(ParamDefault); ok {
			return []string{v}
		}
	}
	return nil
}

// WithParameterValues returns a copy of d whose values for every id that
// override supplies are override's, and whose other values are d's. This is
// how values given to ActivatePipeline win over those put with the
// definition: per parameter, not wholesale, so a value put earlier for a
// parameter that activation does not mention is kept.
func (d *Definition) WithParameterValues(override []ParameterValue) *Definition {
	if len(override) == 0 {
		return d
	}
	given := make(map[string]bool, len(override))
	for _, v := range override {
		given[v.ID] = true
	}
	out := *d
	out.ParameterValues = make([]ParameterValue, 0, len(d.ParameterValues)+len(override))
	for _, v := range d.ParameterValues {
		if !given[v.ID] {
			out.ParameterValues = append(out.ParameterValues, v)
		}
	}
	out.ParameterValues = append(out.ParameterValues, override...)
	return &out
}
