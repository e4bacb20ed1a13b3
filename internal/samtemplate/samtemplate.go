// Package samtemplate reads template.yaml, the SAM template that deploys the
// receiver, so that tests and local tooling take names, key schemas and
// permissions from the template itself rather than from a copy that can drift.
//
// CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, !If, ...) are turned
// into their long form ({"Ref": x}, {"Fn::GetAtt": [r, a]}, {"Fn::Sub": s}),
// so callers see one representation whichever form the template uses. Values
// are plain Go values: map[string]any, []any, string, int, float64, bool, nil.
// Nothing is evaluated: conditions and intrinsic functions stay as written.
package samtemplate

import (
	"bytes"
	"fmt"
	"os"
	"sort"

	"go.yaml.in/yaml/v3"
)

// Template is the part of a parsed SAM template that tests and local tooling
// read: Globals and the resources by logical ID.
type Template struct {
	Globals   map[string]any
	Resources map[string]Resource
	// Parameters and Outputs by name, as written.
	Parameters, Outputs map[string]any
}

// Resource is one entry of the Resources section.
type Resource struct {
	Type       string
	Condition  string
	Properties map[string]any
	Metadata   map[string]any
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template in YAML (or JSON, which is YAML).
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	v, err := value(&doc)
	if err != nil {
		return nil, err
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template is a %T, not a mapping", v)
	}
	return fromMap(top)
}

func fromMap(top map[string]any) (*Template, error) {
	t := &Template{Resources: map[string]Resource{}}
	var err error
	if t.Globals, err = section(top, "Globals"); err != nil {
		return nil, err
	}
	if t.Parameters, err = section(top, "Parameters"); err != nil {
		return nil, err
	}
	if t.Outputs, err = section(top, "Outputs"); err != nil {
		return nil, err
	}
	resources, err := section(top, "Resources")
	if err != nil {
		return nil, err
	}
	for id, raw := range resources {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resource %s is a %T, not a mapping", id, raw)
		}
		var r Resource
		if r.Type, ok = m["Type"].(string); !ok {
			return nil, fmt.Errorf("resource %s has no Type", id)
		}
		if c, ok := m["Condition"]; ok {
			if r.Condition, ok = c.(string); !ok {
				return nil, fmt.Errorf("resource %s: Condition is a %T, not a name", id, c)
			}
		}
		if r.Properties, err = section(m, "Properties"); err != nil {
			return nil, fmt.Errorf("resource %s: %w", id, err)
		}
		if r.Metadata, err = section(m, "Metadata"); err != nil {
			return nil, fmt.Errorf("resource %s: %w", id, err)
		}
		t.Resources[id] = r
	}
	return t, nil
}

func section(m map[string]any, key string) (map[string]any, error) {
	switch v := m[key].(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return v, nil
	default:
		return nil, fmt.Errorf("%s is a %T, not a mapping", key, v)
	}
}

// Resource returns the resource with the logical ID id, checking its type.
func (t *Template) Resource(id, typ string) (Resource, error) {
	r, ok := t.Resources[id]
	if !ok {
		return Resource{}, fmt.Errorf("template has no resource %s", id)
	}
	if r.Type != typ {
		return Resource{}, fmt.Errorf("resource %s is a %s, not a %s", id, r.Type, typ)
	}
	return r, nil
}

// ResourcesOfType returns the logical IDs of every resource of type typ, sorted.
func (t *Template) ResourcesOfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// FunctionType is the SAM function resource type.
const FunctionType = "AWS::Serverless::Function"

// Environment returns the environment variables of the SAM function id as
// written (values may be intrinsic functions). Variables set in
// Globals.Function are included unless the function overrides them.
func (t *Template) Environment(id string) (map[string]any, error) {
	r, err := t.Resource(id, FunctionType)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{}
	global, _ := t.Globals["Function"].(map[string]any)
	for _, props := range []map[string]any{global, r.Properties} {
		env, _ := props["Environment"].(map[string]any)
		vs, _ := env["Variables"].(map[string]any)
		for k, v := range vs {
			vars[k] = v
		}
	}
	return vars, nil
}

// FunctionProperty returns the property name of the SAM function id, falling
// back to Globals.Function as SAM does.
func (t *Template) FunctionProperty(id, name string) (any, bool) {
	if r, ok := t.Resources[id]; ok {
		if v, ok := r.Properties[name]; ok {
			return v, true
		}
	}
	global, _ := t.Globals["Function"].(map[string]any)
	v, ok := global[name]
	return v, ok
}

// Ref returns the name in {"Ref": name}.
func Ref(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	s, ok := m["Ref"].(string)
	return s, ok
}
