package slack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// The environment variables LoadConfig reads. Exactly one must be set.
const (
	// EnvWebhookParam names the SSM SecureString parameter that holds the
	// webhook URL: the deployed function's setting, so that the URL is not
	// visible in the Lambda console.
	EnvWebhookParam = "SLACK_WEBHOOK_PARAM"
	// EnvWebhookURL is the webhook URL itself, for local runs.
	EnvWebhookURL = "SLACK_WEBHOOK_URL"
)

// RequestTimeout bounds one POST to Slack, which answers a webhook in well
// under a second when it is well.
const RequestTimeout = 5 * time.Second

// Config is what the notifier needs to run.
type Config struct {
	// WebhookURL is the Slack incoming webhook. It is a secret: anyone who has
	// it can post to the channel. Never log it.
	WebhookURL string
	Retry      Retry
}

// Retry bounds the attempts to deliver one message within one invocation.
// What still fails after that is returned to Lambda, which retries the
// invocation and in the end sends the event to the dead-letter queue.
type Retry struct {
	// MaxAttempts counts every POST of one message, the first included.
	MaxAttempts int
	// MaxElapsed is how long after the first attempt a retry may still start;
	// a wait that would end later is not begun. The invocation's own deadline
	// is respected as well.
	MaxElapsed time.Duration
	// BaseDelay is the wait after the first 5xx or network failure; it
	// doubles after each further one, up to MaxDelay. A 429 waits for as long
	// as Slack's Retry-After says instead.
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// DefaultRetry tries a message four times within 30 seconds, waiting 1, 2
// and 4 seconds between failures: enough to ride out a blip at Slack,
// short enough to leave the rest to Lambda's own retries.
func DefaultRetry() Retry {
	return Retry{MaxAttempts: 4, MaxElapsed: 30 * time.Second, BaseDelay: time.Second, MaxDelay: 8 * time.Second}
}

// GetParameterAPI is the one SSM call LoadConfig makes; *ssm.Client has it.
type GetParameterAPI interface {
	GetParameter(ctx context.Context, params *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

var _ GetParameterAPI = (*ssm.Client)(nil)

// LoadConfig reads the webhook URL from SLACK_WEBHOOK_PARAM (through params,
// decrypted) or SLACK_WEBHOOK_URL, and checks that it is an http(s) URL.
// Call it once per cold start. Its errors name the variable to fix and never
// contain the URL.
func LoadConfig(ctx context.Context, getenv func(string) string, params GetParameterAPI) (Config, error) {
	name, direct := getenv(EnvWebhookParam), getenv(EnvWebhookURL)
	var webhookURL, source string
	switch {
	case name != "" && direct != "":
		return Config{}, fmt.Errorf("both %s and %s are set: set only one (%s for a deployed function, %s for local runs)",
			EnvWebhookParam, EnvWebhookURL, EnvWebhookParam, EnvWebhookURL)
	case direct != "":
		webhookURL, source = direct, EnvWebhookURL
	case name != "":
		v, err := readParameter(ctx, params, name)
		if err != nil {
			return Config{}, fmt.Errorf("%s=%s: %w", EnvWebhookParam, name, err)
		}
		webhookURL, source = v, fmt.Sprintf("SSM parameter %s (from %s)", name, EnvWebhookParam)
	default:
		return Config{}, fmt.Errorf("%s is required: the name of the SSM SecureString parameter that holds "+
			"the Slack incoming webhook URL (for local runs set %s to the URL instead)", EnvWebhookParam, EnvWebhookURL)
	}
	webhookURL = strings.TrimSpace(webhookURL)
	if !isHTTPURL(webhookURL) {
		return Config{}, fmt.Errorf("%s does not hold an http(s) URL such as https://hooks.slack.com/services/...", source)
	}
	return Config{WebhookURL: webhookURL, Retry: DefaultRetry()}, nil
}

func readParameter(ctx context.Context, params GetParameterAPI, name string) (string, error) {
	if params == nil {
		return "", errors.New("no SSM client to read it with")
	}
	out, err := params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("read SSM parameter: %w", err)
	}
	if out.Parameter == nil || aws.ToString(out.Parameter.Value) == "" {
		return "", errors.New("the SSM parameter is empty")
	}
	return aws.ToString(out.Parameter.Value), nil
}

// isHTTPURL is deliberately silent on why: url.Parse's error quotes the URL.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
