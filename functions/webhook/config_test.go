//go:build integration

package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/rietest"
)

// TestBootstrapFailsClosedOnMissingOrInconsistentConfiguration starts the built
// bootstrap with a broken environment: it must exit at init, before serving
// anything, with a log line that names the variable to fix.
func TestBootstrapFailsClosedOnMissingOrInconsistentConfiguration(t *testing.T) {
	bootstrap := rietest.Build(t, "WebhookFunction")
	base := map[string]string{
		"STATE_TABLE": "t", "ALERT_TOPIC_ARN": "arn:aws:sns:ap-northeast-2:123456789012:a",
		"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:secret-value",
		"AWS_REGION": mototest.Region, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_LAMBDA_LOG_FORMAT": "JSON",
	}
	cases := []struct {
		name   string
		change map[string]string
		want   string
	}{
		{"no table", map[string]string{"STATE_TABLE": ""}, "STATE_TABLE"},
		{"no topic", map[string]string{"ALERT_TOPIC_ARN": ""}, "ALERT_TOPIC_ARN"},
		{"no auth mode", map[string]string{"AUTH_MODE": ""}, "AUTH_MODE"},
		{"unknown auth mode", map[string]string{"AUTH_MODE": "hmac"}, "AUTH_MODE"},
		{"basic without a credential", map[string]string{"AUTH_CREDENTIAL": ""}, "AUTH_CREDENTIAL_PARAM"},
		{"credential set twice", map[string]string{"AUTH_CREDENTIAL_PARAM": "/x"}, "AUTH_CREDENTIAL_PARAM"},
		{"none with a credential", map[string]string{"AUTH_MODE": "none"}, "AUTH_MODE"},
		{"bad allowlist", map[string]string{"ALLOWED_SOURCE_IPS": "popbill.com"}, "ALLOWED_SOURCE_IPS"},
		{"an AWS metrics namespace", map[string]string{"METRICS_NAMESPACE": "AWS/Lambda"}, "METRICS_NAMESPACE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bootstrap)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
			for k, v := range base {
				if c, ok := tc.change[k]; ok {
					v = c
				}
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			for k, v := range tc.change {
				if _, ok := base[k]; !ok {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
			}
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("bootstrap started with a broken configuration:\n%s", out)
			}
			if !strings.Contains(string(out), `"configuration"`) || !strings.Contains(string(out), tc.want) {
				t.Errorf("exit without a configuration error naming %s:\n%s", tc.want, out)
			}
			if strings.Contains(string(out), "secret-value") {
				t.Errorf("the credential appears in the output:\n%s", out)
			}
		})
	}
}

// TestBootstrapReadsTheCredentialFromSSM is the production path: the
// credential lives in an SSM SecureString named by AUTH_CREDENTIAL_PARAM.
func TestBootstrapReadsTheCredentialFromSSM(t *testing.T) {
	cfg := mototest.Config(t)
	param := "/popbill-webhook/" + mototest.Name(t, "credential")
	if _, err := ssm.NewFromConfig(cfg).PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(param), Type: ssmtypes.ParameterTypeSecureString, Value: aws.String("popbill:local-secret"),
	}); err != nil {
		t.Fatal(err)
	}
	_, table := mototest.Table(t, dynamostore.KeyAttribute)
	sub := mototest.Topic(t)
	em := rietest.Start(t, rietest.Build(t, "WebhookFunction"), []string{
		"STATE_TABLE=" + table, "ALERT_TOPIC_ARN=" + sub.TopicARN,
		"AUTH_MODE=basic", "AUTH_CREDENTIAL_PARAM=" + param,
		"AWS_ENDPOINT_URL=" + mototest.Endpoint(t), "AWS_REGION=" + mototest.Region,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_LAMBDA_LOG_FORMAT=JSON",
	})
	for _, tc := range []struct {
		file   string
		status int
	}{
		{"01-issue-300.json", 200},
		{"06-wrong-credentials.json", 401},
	} {
		raw, err := os.ReadFile(filepath.Join(modroot.Dir(t), "events", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(em.Invoke(t, raw), &resp); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %q, want %d", tc.file, resp.StatusCode, resp.Body, tc.status)
		}
	}
}
