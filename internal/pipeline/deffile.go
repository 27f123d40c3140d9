package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// The definition file is the format of `aws datapipeline
// put-pipeline-definition --pipeline-definition file://…`:
//
//	{"objects":    [{"id": "…", "name": "…", "<field>": "v" | {"ref": "id"} | ["v", {"ref": "id"}, …]}],
//	 "parameters": [{"id": "myP", "<attribute>": "v" | ["v", …]}],
//	 "values":     {"myP": "v" | ["v", …]}}
//
// ParseFile and FormatFile convert between it and the API's objects exactly
// as the aws CLI does, so a file gives culvert the same definition the CLI
// would send. The file does not carry field order: like the CLI, ParseFile
// emits an object's fields sorted by key (a repeated key keeps the order of
// its list), and FormatFile gathers a repeated key into one list.

// FileError is a problem with a definition file, in the CLI's words where
// the CLI has them.
type FileError struct{ Msg string }

func (e *FileError) Error() string { return "Error in pipeline definition: " + e.Msg }

func fileErr(format string, args ...any) error { return &FileError{Msg: fmt.Sprintf(format, args...)} }

// ParseFile reads a definition file.
func ParseFile(r io.Reader) (*Definition, error) {
	var file struct {
		Objects    []orderedObject `json:"objects"`
		Parameters []orderedObject `json:"parameters"`
		Values     orderedObject   `json:"values"`
	}
	dec := json.NewDecoder(r)
	if err := dec.Decode(&file); err != nil {
		return nil, fileErr("not a JSON definition file: %v", err)
	}
	if file.Objects == nil {
		return nil, fileErr(`Missing "objects" key`)
	}
	def := &Definition{Objects: make([]Object, 0, len(file.Objects))}
	for i, o := range file.Objects {
		id, ok := o.take("id")
		if !ok {
			return nil, fileErr(`Missing "id" key of element %d`, i+1)
		}
		obj := Object{ID: id}
		if obj.Name, ok = o.take("name"); !ok {
			obj.Name = id
		}
		obj.Fields = []Field{}
		for _, m := range o.sorted() {
			fields, err := m.fields(id)
			if err != nil {
				return nil, err
			}
			obj.Fields = append(obj.Fields, fields...)
		}
		def.Objects = append(def.Objects, obj)
	}
	for i, p := range file.Parameters {
		id, ok := p.take("id")
		if !ok {
			return nil, fileErr(`Missing "id" key of parameter %d`, i+1)
		}
		po := ParameterObject{ID: id, Attributes: []ParameterAttribute{}}
		for _, m := range p.sorted() {
			vals, err := m.strings("parameter " + id)
			if err != nil {
				return nil, err
			}
			for _, v := range vals {
				po.Attributes = append(po.Attributes, ParameterAttribute{Key: m.key, StringValue: v})
			}
		}
		def.ParameterObjects = append(def.ParameterObjects, po)
	}
	// Values keep the file's order, as the CLI iterates its dict in order.
	for _, m := range file.Values.members {
		vals, err := m.strings("values")
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			def.ParameterValues = append(def.ParameterValues, ParameterValue{ID: m.key, StringValue: v})
		}
	}
	return def, nil
}

// orderedObject is a JSON object with its members in file order.
type orderedObject struct{ members []member }

type member struct {
	key   string
	value json.RawMessage
}

func (o *orderedObject) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("expected an object, found %s", b)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		o.members = append(o.members, member{key: tok.(string), value: raw})
	}
	return nil
}

// take removes the string member key and returns its value.
func (o *orderedObject) take(key string) (string, bool) {
	for i, m := range o.members {
		if m.key == key {
			var s string
			if json.Unmarshal(m.value, &s) != nil {
				return "", false
			}
			o.members = append(o.members[:i:i], o.members[i+1:]...)
			return s, true
		}
	}
	return "", false
}

// sorted returns the members sorted by key, as the CLI iterates them.
func (o *orderedObject) sorted() []member {
	ms := append([]member(nil), o.members...)
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].key < ms[j].key })
	return ms
}

// fields converts one member of object id into fields: a string, a
// {"ref": id}, or a list of those.
func (m member) fields(id string) ([]Field, error) {
	var list []json.RawMessage
	if json.Unmarshal(m.value, &list) != nil {
		list = []json.RawMessage{m.value}
	}
	out := make([]Field, 0, len(list))
	for _, v := range list {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out = append(out, String(m.key, s))
			continue
		}
		var ref map[string]json.RawMessage
		if json.Unmarshal(v, &ref) == nil && len(ref) == 1 {
			if raw, ok := ref["ref"]; ok && json.Unmarshal(raw, &s) == nil {
				out = append(out, Ref(m.key, s))
				continue
			}
		}
		return nil, fileErr(`field %q of object %q must be a string, a {"ref": "id"} or a list of those, not %s`, m.key, id, v)
	}
	return out, nil
}

// strings converts a member holding a string or a list of strings.
func (m member) strings(where string) ([]string, error) {
	var list []string
	if json.Unmarshal(m.value, &list) == nil {
		return list, nil
	}
	var s string
	if json.Unmarshal(m.value, &s) == nil {
		return []string{s}, nil
	}
	return nil, fileErr("%q of %s must be a string or a list of strings, not %s", m.key, where, m.value)
}

// FormatFile writes def as a definition file, indented as the CLI prints
// it. A field named id or name cannot be represented, because the file
// uses those keys for the object itself.
func FormatFile(w io.Writer, def *Definition) error {
	var b bytes.Buffer
	b.WriteString("{\n")
	b.WriteString(`  "objects": [`)
	for i, o := range def.Objects {
		sep(&b, i)
		members := []fileMember{{"id", []json.RawMessage{quote(o.ID)}}, {"name", []json.RawMessage{quote(o.Name)}}}
		for _, f := range o.Fields {
			if f.Key == "id" || f.Key == "name" {
				return fileErr("object %q has a field named %q, which a definition file cannot hold", o.ID, f.Key)
			}
			v := quote(f.Value())
			if f.IsRef() {
				v = append(append([]byte(`{"ref": `), v...), '}')
			}
			members = addMember(members, f.Key, v)
		}
		writeObject(&b, members)
	}
	b.WriteString("\n  ]")
	if len(def.ParameterObjects) > 0 {
		b.WriteString(",\n  \"parameters\": [")
		for i, p := range def.ParameterObjects {
			sep(&b, i)
			members := []fileMember{{"id", []json.RawMessage{quote(p.ID)}}}
			for _, a := range p.Attributes {
				if a.Key == "id" {
					return fileErr("parameter %q has an attribute named \"id\", which a definition file cannot hold", p.ID)
				}
				members = addMember(members, a.Key, quote(a.StringValue))
			}
			writeObject(&b, members)
		}
		b.WriteString("\n  ]")
	}
	if len(def.ParameterValues) > 0 {
		var members []fileMember
		for _, v := range def.ParameterValues {
			members = addMember(members, v.ID, quote(v.StringValue))
		}
		b.WriteString(",\n  \"values\": ")
		writeMembers(&b, members, "  ")
	}
	b.WriteString("\n}\n")
	_, err := w.Write(b.Bytes())
	return err
}

type fileMember struct {
	key    string
	values []json.RawMessage
}

// addMember appends v under key, gathering a repeated key into one list.
func addMember(ms []fileMember, key string, v json.RawMessage) []fileMember {
	for i := range ms {
		if ms[i].key == key {
			ms[i].values = append(ms[i].values, v)
			return ms
		}
	}
	return append(ms, fileMember{key, []json.RawMessage{v}})
}

func sep(b *bytes.Buffer, i int) {
	if i > 0 {
		b.WriteByte(',')
	}
	b.WriteString("\n    ")
}

func writeObject(b *bytes.Buffer, ms []fileMember) { writeMembers(b, ms, "    ") }

func writeMembers(b *bytes.Buffer, ms []fileMember, indent string) {
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n" + indent + "  ")
		b.Write(quote(m.key))
		b.WriteString(": ")
		if len(m.values) == 1 {
			b.Write(m.values[0])
			continue
		}
		b.WriteByte('[')
		for j, v := range m.values {
			if j > 0 {
				b.WriteString(", ")
			}
			b.Write(v)
		}
		b.WriteByte(']')
	}
	b.WriteString("\n" + indent + "}")
}

// quote encodes s as a JSON string without HTML escaping, so shell
// commands with & < > stay readable.
func quote(s string) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}
