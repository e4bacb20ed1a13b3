package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// SlackRoutesParam names the SSM SecureString parameter that routes each
// business's alerts to its own Slack channel: a JSON object from business
// number to incoming-webhook URL, with DefaultSlackRoute for every other
// business (cashbill routes writes it). Empty: every alert goes to
// SLACK_WEBHOOK_PARAM's channel.
const SlackRoutesParam = "SLACK_ROUTES_PARAM"

// DefaultSlackRoute is the routes' key for businesses without a route of
// their own. Without it, they go to SLACK_WEBHOOK_PARAM's channel.
const DefaultSlackRoute = "*"

// ReadSlackRoutes reads the routes SLACK_ROUTES_PARAM names, once per cold
// start: nil when it is not set. A parameter that does not exist yet is no
// routes, with a warning to log, so that a deploy before the first
// `cashbill routes add` still posts every alert to the default channel. Its
// errors name the parameter and the business, never a URL.
func ReadSlackRoutes(ctx context.Context, getenv func(string) string, ssmAPI SSMAPI) (routes map[string]string, warning string, err error) {
	name := strings.TrimSpace(getenv(SlackRoutesParam))
	if name == "" {
		return nil, "", nil
	}
	v, err := secureString(ctx, ssmAPI, name)
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ParameterNotFound" {
		return nil, fmt.Sprintf("%s=%s: the parameter does not exist: every alert goes to the default channel until cashbill routes adds a route", SlackRoutesParam, name), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s=%s: %w", SlackRoutesParam, name, err)
	}
	routes, err = ParseSlackRoutes(v)
	if err != nil {
		return nil, "", fmt.Errorf("SSM parameter %s (from %s): %w", name, SlackRoutesParam, err)
	}
	return routes, "", nil
}

// ParseSlackRoutes reads routes: {"6798700433": "https://hooks.slack.com/...", "*": "..."}.
// Business numbers may have dashes; they are dropped.
func ParseSlackRoutes(s string) (map[string]string, error) {
	var raw map[string]string
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		// json's error may quote the text, which holds URLs.
		return nil, errors.New(`it is not a JSON object of business numbers to Slack webhook URLs, such as {"6798700433": "https://hooks.slack.com/services/...", "*": "..."}`)
	}
	routes := make(map[string]string, len(raw))
	for k, u := range raw {
		key := strings.ReplaceAll(strings.TrimSpace(k), "-", "")
		if key != DefaultSlackRoute && !cashbill.IsBusinessNumber(key) {
			return nil, fmt.Errorf("key %q is neither a 10-digit business number nor %q (the default)", cashbill.Clip(k), DefaultSlackRoute)
		}
		if u = strings.TrimSpace(u); !isHTTPURL(u) {
			return nil, fmt.Errorf("the route of %s is not an http(s) URL", key)
		}
		routes[key] = u
	}
	return routes, nil
}
