package docscheck_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/operator"
	"github.com/popbill-cashbill-webhook/receiver/internal/systemtest/docscheck"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

func load(t *testing.T) *docscheck.Sources {
	t.Helper()
	s, err := docscheck.Load(modroot.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func doc(t *testing.T, s *docscheck.Sources, path string) string {
	t.Helper()
	d, err := s.Doc(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Each check is a function of the sources, so that the tests below can run
// it on the repository and on a copy with one thing removed, and see it fail.
type check func(s *docscheck.Sources) []string

// functionsDocumented: every Lambda of template.yaml is built by the
// Makefile's build-<LogicalId>, listed in LAMBDA_FUNCTIONS (make invoke's
// FUNCTION), named in deploy.md's resource list and in its sam build line.
func functionsDocumented(s *docscheck.Sources) []string {
	var errs []string
	deploy := s.Docs["docs/deploy.md"]
	samBuild := lineWith(deploy, "sam build  ")
	targets := s.Targets()
	for _, f := range s.Functions() {
		if !targets["build-"+f] {
			errs = append(errs, "the Makefile has no build-"+f+" target (sam build runs it)")
		}
		if !strings.Contains(lineWith(s.Makefile, "LAMBDA_FUNCTIONS :="), " "+f) {
			errs = append(errs, "the Makefile's LAMBDA_FUNCTIONS does not list "+f+" (make invoke FUNCTION=)")
		}
		if !strings.Contains(deploy, "- `"+f+"`") && !strings.Contains(deploy, "`"+f+"` with") {
			errs = append(errs, "docs/deploy.md's resource list does not name `"+f+"`")
		}
		if !strings.Contains(samBuild, "build-"+f) {
			errs = append(errs, "docs/deploy.md's sam build line does not name build-"+f+": "+samBuild)
		}
	}
	for _, target := range keysOf(targets) {
		if f, ok := strings.CutPrefix(target, "build-"); ok && !slices.Contains(s.Functions(), f) {
			errs = append(errs, "the Makefile builds "+f+", which template.yaml does not deploy")
		}
	}
	return errs
}

// alarmsDocumented: deploy.md, alerts.md and observability.md each name
// every alarm of template.yaml, and the alarm tables list exactly those.
func alarmsDocumented(s *docscheck.Sources) []string {
	alarms, err := s.Alarms()
	if err != nil {
		return []string{err.Error()}
	}
	var errs []string
	for _, path := range []string{"docs/deploy.md", "docs/alerts.md", "docs/observability.md"} {
		for _, a := range alarms {
			if !strings.Contains(s.Docs[path], "`"+a+"`") {
				errs = append(errs, path+" does not list the alarm `"+a+"`")
			}
		}
	}
	for _, path := range []string{"docs/alerts.md", "docs/observability.md"} {
		listed, err := docscheck.TableColumn(s.Docs[path], "| alarm |")
		if err != nil {
			errs = append(errs, path+": "+err.Error())
			continue
		}
		errs = append(errs, sameSet(path+"'s alarm table", listed, "template.yaml's alarms", alarms)...)
	}
	return errs
}

// parametersDocumented: the guided-deploy table of deploy.md lists every
// parameter of template.yaml and no other.
func parametersDocumented(s *docscheck.Sources) []string {
	listed, err := docscheck.TableColumn(s.Docs["docs/deploy.md"], "| parameter | meaning |")
	if err != nil {
		return []string{"docs/deploy.md: " + err.Error()}
	}
	return sameSet("docs/deploy.md's parameter table", listed, "template.yaml's parameters", s.Parameters())
}

// outputsDocumented: deploy.md names every output of template.yaml, and
// every output a doc queries (OutputKey=='...') is one.
func outputsDocumented(s *docscheck.Sources) []string {
	var errs []string
	outputs := s.Outputs()
	for _, o := range outputs {
		if !strings.Contains(s.Docs["docs/deploy.md"], "`"+o+"`") {
			errs = append(errs, "docs/deploy.md does not name the output `"+o+"`")
		}
	}
	for _, path := range keysOf(s.Docs) {
		for _, part := range strings.Split(s.Docs[path], "OutputKey=='")[1:] {
			key, _, _ := strings.Cut(part, "'")
			if !slices.Contains(outputs, key) {
				errs = append(errs, path+" queries the output "+key+", which template.yaml does not have")
			}
		}
	}
	return errs
}

// makeTargetsExist: every make command in the docs names a Makefile target,
// and every target make help lists is in the README.
func makeTargetsExist(s *docscheck.Sources) []string {
	var errs []string
	targets := s.Targets()
	for _, path := range keysOf(s.Docs) {
		for _, target := range docscheck.MakeCalls(s.Docs[path]) {
			if !targets[target] {
				errs = append(errs, path+" runs make "+target+", which the Makefile does not have")
			}
		}
	}
	readme := docscheck.MakeCalls(s.Docs["README.md"])
	for _, target := range s.HelpTargets() {
		if !slices.Contains(readme, target) {
			errs = append(errs, "README.md does not mention make "+target+", which make help lists")
		}
	}
	return errs
}

// noHistory: the user docs describe the product, not how it came to be.
func noHistory(s *docscheck.Sources) []string {
	var errs []string
	for _, path := range keysOf(s.Docs) {
		for _, line := range docscheck.History(s.Docs[path]) {
			errs = append(errs, path+": "+line)
		}
	}
	for _, line := range docscheck.History(strings.Join(helpLines(s.Makefile), "\n")) {
		errs = append(errs, "make help: "+line)
	}
	return errs
}

func TestDocsAgreeWithTheTemplateAndTheMakefile(t *testing.T) {
	s := load(t)
	for _, c := range []struct {
		name  string
		check check
	}{
		{"every function is built, invokable and in deploy.md", functionsDocumented},
		{"every alarm is in deploy.md, alerts.md and observability.md", alarmsDocumented},
		{"deploy.md's parameter table is the template's parameters", parametersDocumented},
		{"every output is in deploy.md, and the docs query only outputs that exist", outputsDocumented},
		{"every make command in the docs is a target, every make help target in the README", makeTargetsExist},
		{"the user docs carry no development history", noHistory},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, e := range c.check(s) {
				t.Error(e)
			}
		})
	}
}

// Each check fails when what it holds drifts: a function, an alarm, a
// parameter and an output added to the template, a target removed from the
// Makefile, history written into a doc.
func TestEachCheckCanFail(t *testing.T) {
	for _, c := range []struct {
		name  string
		check check
		drift func(s *docscheck.Sources)
		want  string
	}{
		{"a new function", functionsDocumented, func(s *docscheck.Sources) {
			s.Template.Resources["ArchiverFunction"] = s.Template.Resources["SweeperFunction"]
		}, "build-ArchiverFunction"},
		{"a build target of no function", functionsDocumented, func(s *docscheck.Sources) {
			s.Makefile += "\nbuild-OldFunction:\n"
		}, "builds OldFunction"},
		{"a new alarm", alarmsDocumented, func(s *docscheck.Sources) {
			r := s.Template.Resources["SweeperErrorsAlarm"]
			props := map[string]any{}
			for k, v := range r.Properties {
				props[k] = v
			}
			props["AlarmName"] = map[string]any{"Fn::Sub": "popbill-webhook-${EnvironmentName}-sweeper-throttles"}
			r.Properties = props
			s.Template.Resources["SweeperThrottlesAlarm"] = r
		}, "sweeper-throttles"},
		{"a new parameter", parametersDocumented, func(s *docscheck.Sources) {
			s.Template.Parameters["ReservedConcurrency"] = map[string]any{"Type": "Number"}
		}, "ReservedConcurrency"},
		{"a new output", outputsDocumented, func(s *docscheck.Sources) {
			s.Template.Outputs["DashboardUrl"] = map[string]any{"Value": "x"}
		}, "DashboardUrl"},
		{"a target the docs run removed", makeTargetsExist, func(s *docscheck.Sources) {
			s.Makefile = strings.Replace(s.Makefile, "\nlocal-infra-stop:", "\nlocal-infra-halt:", 1)
		}, "make local-infra-stop"},
		{"an issue number in a doc", noHistory, func(s *docscheck.Sources) {
			s.Docs["docs/performance.md"] += "\nThe figures of issue 12.\n"
		}, "issue 12"},
		{"a commit hash as a version", noHistory, func(s *docscheck.Sources) {
			s.Docs["docs/observability.md"] += "\n| bootstrap | before (7485c07) | after |\n"
		}, "7485c07"},
		{"a (new) mark", noHistory, func(s *docscheck.Sources) {
			s.Docs["README.md"] += "\n| `alerts-pending` (new) | x |\n"
		}, "(new)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := load(t)
			if errs := c.check(s); len(errs) > 0 {
				t.Fatalf("the check fails before the drift: %v", errs)
			}
			c.drift(s)
			errs := c.check(s)
			if !strings.Contains(strings.Join(errs, "\n"), c.want) {
				t.Errorf("after the drift the check says %q, want it to name %q", errs, c.want)
			}
		})
	}
}

func TestMakeCallsAreCodeNotProse(t *testing.T) {
	d := "To make sure, run `make run` or:\n\n```sh\nmake invoke EVENT=x && make local-infra-stop\n```\nand `STORE=x make run-moto`.\n"
	got := docscheck.MakeCalls(d)
	want := []string{"invoke", "local-infra-stop", "run", "run-moto"}
	if !slices.Equal(got, want) {
		t.Errorf("MakeCalls = %v, want %v", got, want)
	}
}

func TestHistoryIsFoundAndIdsAreNot(t *testing.T) {
	for line, want := range map[string]bool{
		"Performance (issue 12)":                  true,
		"the issue-12 figures":                    true,
		"| before (7485c07) |":                    true,
		"11,468,962 B at 3efc858":                 true,
		"`refused-deliveries` (new) |":            true,
		"(existed; OKActions added)":              true,
		"receipt 025112714103200001 issued":       false,
		"message 016120000002-1777d55c2c41492ab0": false,
		"the Issue event (300) of 2022-12-21":     false,
		"business (6798700433)":                   false,
		"a new delivery (replay)":                 false,
	} {
		if got := len(docscheck.History(line)) > 0; got != want {
			t.Errorf("History(%q) found %v, want %v", line, got, want)
		}
	}
}

func sameSet(what string, got []string, of string, want []string) []string {
	var errs []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			errs = append(errs, what+" lacks "+w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			errs = append(errs, what+" lists "+g+", which is not one of "+of)
		}
	}
	return errs
}

func lineWith(text, marker string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, marker) {
			return line
		}
	}
	return ""
}

func helpLines(makefile string) []string {
	var out []string
	for _, line := range strings.Split(makefile, "\n") {
		if strings.HasPrefix(line, "## ") {
			out = append(out, line)
		}
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// The README documents every exit code of the cashbill tool, and the
// tool's own help names each.
func TestEveryExitCodeOfTheToolIsDocumented(t *testing.T) {
	readme := doc(t, load(t), "README.md")
	start := strings.Index(readme, "Exit codes: `0`")
	if start < 0 {
		t.Fatal("README.md has no \"Exit codes: `0` ...\" sentence under Operating it")
	}
	sentence := readme[start:]
	sentence = sentence[:strings.Index(sentence, "\n\n")]
	var help strings.Builder
	operator.Run(context.Background(), []string{"--help"}, &help, &help, func(string) string { return "" })
	for _, code := range []int{operator.ExitOK, operator.ExitFailed, operator.ExitUsage, operator.ExitNotFound, operator.ExitBusy, operator.ExitRefused} {
		if !strings.Contains(sentence, fmt.Sprintf("`%d` ", code)) {
			t.Errorf("README.md's exit codes do not give %d", code)
		}
		if !strings.Contains(help.String(), fmt.Sprintf("%d ", code)) {
			t.Errorf("cashbill --help does not give exit code %d", code)
		}
	}
	for _, o := range operator.Outcomes {
		if !strings.Contains(sentence, "`"+o+"`") {
			t.Errorf("README.md's exit codes do not list the outcome %s among the values --outcome takes", o)
		}
	}
	if strings.Contains(sentence, "`6`") {
		t.Error("README.md documents an exit code 6 the tool does not have")
	}
}
