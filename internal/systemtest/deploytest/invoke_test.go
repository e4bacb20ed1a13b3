//go:build integration

package deploytest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/rietest"
)

// invokeScript runs infra/invoke.sh as `make invoke` does, against the test's
// moto_server, and returns what it printed.
func invokeScript(t *testing.T, extraEnv []string, args ...string) (string, error) {
	t.Helper()
	endpoint := mototest.Endpoint(t)
	cmd := exec.Command("infra/invoke.sh", args...)
	cmd.Dir = modroot.Dir(t)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+endpoint, "GO="+rietest.GoTool(t),
		"AUTH_MODE=basic", "AUTH_CREDENTIAL=popbill:local-secret")
	cmd.Env = append(cmd.Env, extraEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestMakeInvokeAllGivesEveryExpectedAnswer runs `make invoke-all`'s script,
// the documented local path (INVOKE_WITH=sam differs only in the runner), and
// checks that every event of events/expected.json gets its status and outcome.
func TestMakeInvokeAllGivesEveryExpectedAnswer(t *testing.T) {
	out, err := invokeScript(t, nil, "--all")
	if err != nil {
		t.Fatalf("infra/invoke.sh --all: %v\n%s", err, out)
	}
	var expected map[string]any
	raw, err := os.ReadFile(filepath.Join(modroot.Dir(t), "events", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	for name := range expected {
		if !strings.Contains(out, "ok   "+name) {
			t.Errorf("%s was not checked ok:\n%s", name, out)
		}
	}
}

// TestMakeInvokeSlackNotifierPrintsThePost runs the Slack notifier locally
// with no Slack URL given: the stand-in prints what would have been posted.
func TestMakeInvokeSlackNotifierPrintsThePost(t *testing.T) {
	out, err := invokeScript(t, []string{"FUNCTION=SlackNotifierFunction", "SLACK_WEBHOOK_URL="}, "events/sns-nts-failure.json")
	if err != nil {
		t.Fatalf("infra/invoke.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"== posted to Slack", `"blocks"`, "20251127-0002", `"outcome":"posted"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestEnvJSONNamesTheLocalInfrastructure keeps events/env.json, which the
// plain `sam local invoke -e ...` and `sam local start-api` of the README read
// through samconfig.toml, naming the table, topic and moto that `make
// local-infra` creates.
func TestEnvJSONNamesTheLocalInfrastructure(t *testing.T) {
	cmd := exec.Command("infra/local-infra.sh")
	cmd.Dir = modroot.Dir(t)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+mototest.Endpoint(t), "GO="+rietest.GoTool(t), "LOCAL_STACK=popbill-webhook-local", "LOCAL_INFRA_ENV="+filepath.Join(t.TempDir(), "infra.env"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("infra/local-infra.sh: %v", err)
	}
	made := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		made[k] = strings.Trim(v, "'")
	}
	var envs map[string]map[string]string
	raw, err := os.ReadFile(filepath.Join(modroot.Dir(t), "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &envs); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"STATE_TABLE", "ALERT_TOPIC_ARN"} {
		if got, want := envs["WebhookFunction"][name], made[name]; got != want {
			t.Errorf("events/env.json %s = %q, make local-infra makes %q", name, got, want)
		}
	}
	// sam local runs the function on Docker's bridge: it reaches make local-infra's
	// moto (default port 5055) as host.docker.internal (samconfig.toml's add_host).
	for fn, vars := range envs {
		if got := vars["AWS_ENDPOINT_URL"]; got != "http://host.docker.internal:5055" {
			t.Errorf("events/env.json %s AWS_ENDPOINT_URL = %q, want make local-infra's moto as the container reaches it, http://host.docker.internal:5055", fn, got)
		}
	}
}

// TestMakeInvokeSweeperRunsOnce runs the sweeper's bootstrap once with the
// sample schedule event, as EventBridge invokes it every five minutes.
func TestMakeInvokeSweeperRunsOnce(t *testing.T) {
	out, err := invokeScript(t, []string{"FUNCTION=SweeperFunction"}, "events/sweeper-schedule.json")
	if err != nil {
		t.Fatalf("infra/invoke.sh: %v\n%s", err, out)
	}
	for _, want := range []string{`"published": 0`, `"failed": 0`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestMakeInvokeEventForwarderPutsTheIncreases runs the forwarder's bootstrap
// once with the sample stream batch: an issue, its NTS result and an alert
// marked sent put two events on make local-infra's bus, and fail no record.
func TestMakeInvokeEventForwarderPutsTheIncreases(t *testing.T) {
	out, err := invokeScript(t, []string{"FUNCTION=EventForwarderFunction"}, "events/stream-state-changes.json")
	if err != nil {
		t.Fatalf("infra/invoke.sh: %v\n%s", err, out)
	}
	for _, want := range []string{`"published":2`, `"skipped":1`, `"batchItemFailures"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "failedAt") {
		t.Errorf("a record failed:\n%s", out)
	}
}
