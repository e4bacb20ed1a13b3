//go:build integration

package deploytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

// The cases the translator runs beyond samconfig.toml's environments: the
// optional Slack notifier and e-mail subscription on, which the environments
// leave off. The Makefile's validate target runs the same.
const slackAndEmail = "slack-and-email:SlackWebhookParam=/popbill-webhook/slack-webhook-url AlertEmail=tax@example.co.kr"

// rotation is a credential rotation under way: the next credential's parameter set.
const rotation = "rotation:AuthCredentialNextParam=/popbill-webhook/credential-next"

// samValidate runs infra/sam_validate.py: the SAM translator, the code sam
// validate and sam deploy run, on template for every samconfig.toml
// environment with its parameter_overrides.
func samValidate(t *testing.T, template string) (string, error) {
	t.Helper()
	if err := exec.Command("python3", "-c", "import samtranslator").Run(); err != nil {
		t.Fatal("the SAM translator (python package samtranslator) is missing: run `make test`, which installs it with cfn-lint")
	}
	cmd := exec.Command("python3", "infra/sam_validate.py", "--template", template, "--case", slackAndEmail, "--case", rotation)
	cmd.Dir = modroot.Dir(t)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSAMTranslatorAcceptsTheTemplate is `sam validate` for every
// environment: a template the translator refuses cannot be deployed, and SAM
// CLI refuses it before it builds.
func TestSAMTranslatorAcceptsTheTemplate(t *testing.T) {
	out, err := samValidate(t, "template.yaml")
	if err != nil {
		t.Fatalf("the SAM translator refused template.yaml: %v\n%s", err, out)
	}
	for _, env := range []string{"default", "prod", "slack-and-email", "rotation"} {
		if !strings.Contains(out, "ok   "+env+":") {
			t.Errorf("no translation of %s in:\n%s", env, out)
		}
	}
}

// TestSAMTranslatorRefusesLanguageExtensions shows the check can fail: an
// Fn::ForEach, which only AWS::LanguageExtensions expands (and SAM CLI only
// with --language-extensions in some releases), is what broke sam build.
func TestSAMTranslatorRefusesLanguageExtensions(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(modroot.Dir(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	loop := `
  Fn::ForEach::AlertEmailSubscriptions:
    - Email
    - [a@example.com, b@example.com]
    - AlertEmailSubscription&{Email}:
        Type: AWS::SNS::Subscription
        Properties:
          TopicArn: !Ref AlertTopic
          Protocol: email
          Endpoint: !Ref Email
`
	broken := strings.Replace(string(raw), "\nResources:\n", "\nResources:"+loop, 1)
	if broken == string(raw) {
		t.Fatal("template.yaml has no Resources: line to add the loop under")
	}
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := samValidate(t, path)
	if err == nil || !strings.Contains(out, "FAIL default") {
		t.Fatalf("the translator accepted a template with Fn::ForEach:\n%s", out)
	}
}

// make validate reports what each case deploys: the resources whose
// Condition holds with its parameters. Slack and e-mail add theirs; the
// environments without them deploy fewer.
func TestValidateCountsTheResourcesEachCaseDeploys(t *testing.T) {
	out, err := samValidate(t, "template.yaml")
	if err != nil {
		t.Fatalf("the SAM translator refused template.yaml: %v\n%s", err, out)
	}
	count := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		var name string
		var n int
		if _, err := fmt.Sscanf(line, "ok   %s %d CloudFormation resources", &name, &n); err == nil {
			count[strings.TrimSuffix(name, ":")] = n
		}
	}
	if count["default"] == 0 || count["slack-and-email"] <= count["default"] {
		t.Errorf("resource counts %v: want slack-and-email to deploy more than default\n%s", count, out)
	}
}
