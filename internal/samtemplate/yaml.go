package samtemplate

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// value turns a YAML node into plain Go values, rewriting CloudFormation's
// short-form tags into their long form.
func value(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, fmt.Errorf("line %d: empty document", n.Line)
		}
		return value(n.Content[0])
	case yaml.AliasNode:
		return value(n.Alias)
	}
	if tag := n.Tag; strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		return shortForm(n, tag[1:])
	}
	switch n.Kind {
	case yaml.MappingNode:
		return mapping(n)
	case yaml.SequenceNode:
		return sequence(n)
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
}

func mapping(n *yaml.Node) (map[string]any, error) {
	m := make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
		}
		if _, dup := m[k.Value]; dup {
			// CloudFormation rejects duplicate keys; YAML parsers silently keep one.
			return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
		}
		x, err := value(v)
		if err != nil {
			return nil, err
		}
		m[k.Value] = x
	}
	return m, nil
}

func sequence(n *yaml.Node) ([]any, error) {
	s := make([]any, 0, len(n.Content))
	for _, c := range n.Content {
		x, err := value(c)
		if err != nil {
			return nil, err
		}
		s = append(s, x)
	}
	return s, nil
}

func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!int", "!!float", "!!bool", "!!null":
		var x any
		if err := n.Decode(&x); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return x, nil
	default:
		// Strings, and timestamps such as an unquoted 2010-09-09, which
		// CloudFormation reads as text.
		return n.Value, nil
	}
}

// shortForm rewrites !Name arg into its long form.
func shortForm(n *yaml.Node, name string) (any, error) {
	plain := *n
	plain.Tag = ""
	if n.Kind == yaml.ScalarNode {
		plain.Tag = "!!str"
	}
	arg, err := value(&plain)
	if err != nil {
		return nil, err
	}
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: arg}, nil
	case "GetAtt":
		// !GetAtt Resource.Attribute; the attribute may itself contain dots
		// (Outputs.Name), the resource never does.
		if s, ok := arg.(string); ok {
			res, att, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, s)
			}
			arg = []any{res, att}
		}
		return map[string]any{"Fn::GetAtt": arg}, nil
	default:
		return map[string]any{"Fn::" + name: arg}, nil
	}
}
