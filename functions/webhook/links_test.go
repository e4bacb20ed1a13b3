package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTheWebhookLinksOnlyTheClientsItCalls pins what the webhook's cold start
// pays for: each AWS service package linked into the bootstrap costs its
// package initialisation (a few hundred µs for the larger ones) before the
// first answer. The archive is the request line, which Lambda ships, so the
// webhook links no CloudWatch Logs client; it calls DynamoDB and SNS, and
// SSM for a credential kept there.
func TestTheWebhookLinksOnlyTheClientsItCalls(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const prefix = "github.com/aws/aws-sdk-go-v2/service/"
	linked := map[string]bool{}
	for _, pkg := range strings.Fields(string(out)) {
		if rest, ok := strings.CutPrefix(pkg, prefix); ok {
			linked[strings.SplitN(rest, "/", 2)[0]] = true
		}
	}
	// sso, ssooidc, sts and signin come with the SDK's default credential
	// chain, dynamodbstreams' types with feature/dynamodb/attributevalue.
	allowed := map[string]bool{"dynamodb": true, "sns": true, "ssm": true, "internal": true,
		"sso": true, "ssooidc": true, "sts": true, "signin": true, "dynamodbstreams": true}
	for svc := range linked {
		if !allowed[svc] {
			t.Errorf("the webhook links service/%s, which it never calls", svc)
		}
	}
	for _, svc := range []string{"dynamodb", "sns"} {
		if !linked[svc] {
			t.Errorf("the webhook does not link service/%s; the test's list is out of date", svc)
		}
	}
}
