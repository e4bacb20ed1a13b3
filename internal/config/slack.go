package config

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// The environment variables ReadSlackWebhookURL reads. Exactly one must be set.
const (
	// SlackWebhookParam names the SSM SecureString parameter that holds the
	// webhook URL: the deployed function's setting, so that the URL is not
	// visible in the Lambda console.
	SlackWebhookParam = "SLACK_WEBHOOK_PARAM"
	// SlackWebhookURL is the webhook URL itself, for local runs.
	SlackWebhookURL = "SLACK_WEBHOOK_URL"
	// SlackLedgerTable names the DynamoDB table where the notifier records
	// the alerts it posted, so that it posts each once. Empty (local runs):
	// the record is kept in the process's memory.
	SlackLedgerTable = "SLACK_LEDGER_TABLE"
)

// ReadSlackLedgerTable returns the notifier's ledger table, or "" for a
// ledger in memory.
func ReadSlackLedgerTable(getenv func(string) string) string {
	return strings.TrimSpace(getenv(SlackLedgerTable))
}

// ReadSlackWebhookURL reads the Slack notifier's webhook URL from
// SLACK_WEBHOOK_PARAM (through ssmAPI, decrypted) or SLACK_WEBHOOK_URL, and
// checks that it is an http(s) URL.
// Call it once per cold start. Its errors name the variable to fix and never
// contain the URL.
func ReadSlackWebhookURL(ctx context.Context, getenv func(string) string, ssmAPI SSMAPI) (string, error) {
	name, direct := getenv(SlackWebhookParam), getenv(SlackWebhookURL)
	var webhookURL, source string
	switch {
	case name != "" && direct != "":
		return "", fmt.Errorf("both %s and %s are set: set only one (%s for a deployed function, %s for local runs)",
			SlackWebhookParam, SlackWebhookURL, SlackWebhookParam, SlackWebhookURL)
	case direct != "":
		webhookURL, source = direct, SlackWebhookURL
	case name != "":
		v, err := secureString(ctx, ssmAPI, name)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", SlackWebhookParam, name, err)
		}
		webhookURL, source = v, fmt.Sprintf("SSM parameter %s (from %s)", name, SlackWebhookParam)
	default:
		return "", fmt.Errorf("%s is required: the name of the SSM SecureString parameter that holds "+
			"the Slack incoming webhook URL (for local runs set %s to the URL instead)", SlackWebhookParam, SlackWebhookURL)
	}
	webhookURL = strings.TrimSpace(webhookURL)
	if !isHTTPURL(webhookURL) {
		return "", fmt.Errorf("%s does not hold an http(s) URL: a Slack incoming webhook looks like https://hooks.slack.com/services/T000/B000/XXXX", source)
	}
	return webhookURL, nil
}

// isHTTPURL is deliberately silent on why: url.Parse's error quotes the URL.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
