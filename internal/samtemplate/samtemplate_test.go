package samtemplate

import (
	"reflect"
	"strings"
	"testing"
)

func TestShortFormTagsBecomeLongForm(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       any
	}{
		{"Ref", `!Ref StateTable`, map[string]any{"Ref": "StateTable"}},
		{"GetAtt dotted", `!GetAtt StateTable.Arn`, map[string]any{"Fn::GetAtt": []any{"StateTable", "Arn"}}},
		{"GetAtt attribute with dots", `!GetAtt Stack.Outputs.Url`, map[string]any{"Fn::GetAtt": []any{"Stack", "Outputs.Url"}}},
		{"GetAtt list", `!GetAtt [StateTable, Arn]`, map[string]any{"Fn::GetAtt": []any{"StateTable", "Arn"}}},
		{"Sub", `!Sub arn:${AWS::Partition}:ssm`, map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ssm"}},
		{"Condition", `!Condition HasSlack`, map[string]any{"Condition": "HasSlack"}},
		{"nested", `!If [UsesCredential, !Ref AuthCredentialParam, ""]`,
			map[string]any{"Fn::If": []any{"UsesCredential", map[string]any{"Ref": "AuthCredentialParam"}, ""}}},
		{"Not Equals Join", `!Not [!Equals [!Join ["", !Ref AlertEmail], ""]]`,
			map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{
				map[string]any{"Fn::Join": []any{"", map[string]any{"Ref": "AlertEmail"}}}, ""}}}}},
		{"Select on mapping arg", "!Select\n  - 0\n  - !Ref List", map[string]any{"Fn::Select": []any{0, map[string]any{"Ref": "List"}}}},
		{"long form untouched", `{"Fn::GetAtt": [A, B]}`, map[string]any{"Fn::GetAtt": []any{"A", "B"}}},
		{"quoted number stays a string", `"2.0"`, "2.0"},
		{"bare version date stays a string", `2010-09-09`, "2010-09-09"},
		{"int", `10`, 10},
		{"bool", `true`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse([]byte("Resources:\n  R:\n    Type: T\n    Properties:\n      P: " + indent(tt.yaml) + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if got := tmpl.Resources["R"].Properties["P"]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n        ") }

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"duplicate key", "Resources:\n  A: {Type: T}\n  A: {Type: U}\n", "duplicate key"},
		{"GetAtt without attribute", "Resources:\n  A:\n    Type: T\n    Properties: {P: !GetAtt Table}\n", "not Resource.Attribute"},
		{"resource without type", "Resources:\n  A:\n    Properties: {}\n", "no Type"},
		{"not a mapping", "- a\n- b\n", "not a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

const sample = `
Globals:
  Function:
    Runtime: provided.al2023
    Environment:
      Variables: {SHARED: one, OVERRIDDEN: global}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Condition: Enabled
    Metadata: {BuildMethod: makefile}
    Properties:
      Environment:
        Variables: {OWN: !Ref Mode, OVERRIDDEN: local}
`

func TestTemplateSections(t *testing.T) {
	tmpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tmpl.Resource("Fn", FunctionType)
	if err != nil {
		t.Fatal(err)
	}
	if fn.Condition != "Enabled" || fn.Metadata["BuildMethod"] != "makefile" {
		t.Errorf("resource = %+v", fn)
	}
	if _, err := tmpl.Resource("Fn", "AWS::Lambda::Function"); err == nil {
		t.Error("Resource accepted the wrong type")
	}
	env, err := tmpl.Environment("Fn")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"SHARED": "one", "OVERRIDDEN": "local", "OWN": map[string]any{"Ref": "Mode"}}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("Environment = %v, want %v", env, want)
	}
	if v, ok := tmpl.FunctionProperty("Fn", "Runtime"); !ok || v != "provided.al2023" {
		t.Errorf("Runtime from Globals = %v, %v", v, ok)
	}
}

func TestRef(t *testing.T) {
	if r, ok := Ref(map[string]any{"Ref": "X"}); !ok || r != "X" {
		t.Errorf("Ref = %q, %v", r, ok)
	}
	if _, ok := Ref(map[string]any{"Ref": "X", "Other": 1}); ok {
		t.Error("Ref accepted a two-key mapping")
	}
}
