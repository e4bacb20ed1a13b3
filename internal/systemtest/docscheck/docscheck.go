// Package docscheck holds the docs to what they describe: the lists of
// functions, alarms, parameters, outputs and Make targets in README.md and
// docs/ against template.yaml and the Makefile, and the user docs against
// development history. Its tests are the checks; this file reads the
// sources they compare.
package docscheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
)

// Sources is what the docs are checked against.
type Sources struct {
	Template *samtemplate.Template
	// Makefile is the Makefile's text.
	Makefile string
	// Docs are the user docs' texts by path from the module root.
	Docs map[string]string
}

// Load reads the template, the Makefile and the user docs under root.
func Load(root string) (*Sources, error) {
	t, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		return nil, err
	}
	s := &Sources{Template: t, Makefile: string(mk), Docs: map[string]string{}}
	paths, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	paths = append(paths, filepath.Join(root, "README.md"), filepath.Join(root, "events", "README.md"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(root, p)
		s.Docs[rel] = string(b)
	}
	return s, nil
}

// Doc is the text of the doc at path, or an error naming it.
func (s *Sources) Doc(path string) (string, error) {
	d, ok := s.Docs[path]
	if !ok {
		return "", fmt.Errorf("no doc %s", path)
	}
	return d, nil
}

// Functions are the template's Lambda functions, sorted.
func (s *Sources) Functions() []string {
	return s.Template.ResourcesOfType(samtemplate.FunctionType)
}

// Alarms are the template's alarms by the name after
// popbill-webhook-<EnvironmentName>-, sorted.
func (s *Sources) Alarms() ([]string, error) {
	var names []string
	for _, id := range s.Template.ResourcesOfType("AWS::CloudWatch::Alarm") {
		sub, _ := s.Template.Resources[id].Properties["AlarmName"].(map[string]any)
		name, ok := sub["Fn::Sub"].(string)
		short, cut := strings.CutPrefix(name, "popbill-webhook-${EnvironmentName}-")
		if !ok || !cut {
			return nil, fmt.Errorf("alarm %s: AlarmName is not !Sub popbill-webhook-${EnvironmentName}-NAME", id)
		}
		names = append(names, short)
	}
	sort.Strings(names)
	return names, nil
}

// Parameters are the template's parameters, sorted.
func (s *Sources) Parameters() []string { return keys(s.Template.Parameters) }

// Outputs are the template's outputs, sorted.
func (s *Sources) Outputs() []string { return keys(s.Template.Outputs) }

var makeRule = regexp.MustCompile(`(?m)^([A-Za-z][A-Za-z0-9_-]*):`)

// Targets are the Makefile's rules.
func (s *Sources) Targets() map[string]bool {
	out := map[string]bool{}
	for _, m := range makeRule.FindAllStringSubmatch(s.Makefile, -1) {
		out[m[1]] = true
	}
	return out
}

var helpLine = regexp.MustCompile(`(?m)^## ([a-z][a-z0-9-]*):`)

// HelpTargets are the targets make help lists (a "## name:" line above them).
func (s *Sources) HelpTargets() []string {
	var out []string
	for _, m := range helpLine.FindAllStringSubmatch(s.Makefile, -1) {
		out = append(out, m[1])
	}
	return out
}

var (
	fence    = regexp.MustCompile("(?s)```[^\n]*\n(.*?)```")
	span     = regexp.MustCompile("`([^`\n]+)`")
	makeCall = regexp.MustCompile(`(?:^|[\s;&|(])make ([a-z][A-Za-z0-9_-]*)(<?)`)
)

// MakeCalls are the targets a doc runs with make, in its code blocks and
// code spans (prose such as "make sure" is not a call).
func MakeCalls(doc string) []string {
	var code []string
	for _, m := range fence.FindAllStringSubmatch(doc, -1) {
		code = append(code, m[1])
	}
	for _, m := range span.FindAllStringSubmatch(fence.ReplaceAllString(doc, ""), -1) {
		code = append(code, m[1])
	}
	seen := map[string]bool{}
	var out []string
	for _, c := range code {
		for _, m := range makeCall.FindAllStringSubmatch(c, -1) {
			if m[2] == "" && !seen[m[1]] { // build-<LogicalId> is a pattern, not a call
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	sort.Strings(out)
	return out
}

// TableColumn is the first column of the Markdown table whose header row
// starts with header (such as "| parameter |"), without backticks.
func TableColumn(doc, header string) ([]string, error) {
	start := strings.Index(doc, header)
	if start < 0 {
		return nil, fmt.Errorf("no table headed %q", header)
	}
	lines := strings.Split(doc[start:], "\n")
	var out []string
	for _, line := range lines[2:] { // the header and the |---| row
		if !strings.HasPrefix(line, "|") {
			break
		}
		cell := strings.TrimSpace(strings.Split(line, "|")[1])
		out = append(out, strings.Trim(cell, "`"))
	}
	return out, nil
}

// History finds development history in a user doc: issue numbers, "(new)",
// commit hashes given as versions. Each finding is the line it is on.
func History(doc string) []string {
	var out []string
	for _, line := range strings.Split(doc, "\n") {
		found := false
		for _, re := range history {
			found = found || re.MatchString(line)
		}
		for _, m := range commit.FindAllStringSubmatch(line, -1) {
			h := m[1] + m[2]
			found = found || strings.ContainsAny(h, "abcdef") && strings.ContainsAny(h, "0123456789")
		}
		if found {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

var (
	history = []*regexp.Regexp{
		// issue 12, issue-12, issue 12c; not the Issue event 300 nor 01-issue-300.json
		regexp.MustCompile(`(?i)(?:^|[^-\w])issue[ -]?\d{1,2}[a-z]?\b`),
		regexp.MustCompile(`(?i)\bissues? merged\b|\bthe issue's\b`),
		regexp.MustCompile(`\((?:new|existed)[;)]`),
	}
	// a commit hash as a version: (7485c07), at 3efc858, since 09e0c3c
	commit = regexp.MustCompile(`\(([0-9a-f]{7,12})\)|\b(?:at|since|before|after|commit) ([0-9a-f]{7,12})\b`)
)

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
