package config_test

import (
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/ssmparam"
)

func TestReadSlackRoutes(t *testing.T) {
	const secret = "s3cretT0ken"
	notFound := func(*ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error) {
		return nil, &ssmparam.Error{Name: "/routes", Code: "ParameterNotFound", Status: 400}
	}
	denied := func(*ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error) {
		return nil, &ssmparam.Error{Name: "/routes", Code: "AccessDeniedException", Status: 400}
	}
	cases := []struct {
		name    string
		env     map[string]string
		ssm     func(*ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error)
		want    map[string]string
		warning string
		wantErr string
	}{
		{name: "not set: no routes", env: map[string]string{}},
		{name: "a business's route and the default, dashes dropped",
			env:  map[string]string{config.SlackRoutesParam: "/routes"},
			ssm:  slackHolding(`{"679-87-00433": "https://hooks.slack.com/services/T/A/` + secret + `", "*": "https://hooks.slack.com/services/T/D/x"}`),
			want: map[string]string{"6798700433": "https://hooks.slack.com/services/T/A/" + secret, "*": "https://hooks.slack.com/services/T/D/x"}},
		{name: "a parameter not yet created: no routes and a warning",
			env: map[string]string{config.SlackRoutesParam: "/routes"}, ssm: notFound, warning: "does not exist"},
		{name: "an unreadable parameter is an error naming it",
			env: map[string]string{config.SlackRoutesParam: "/routes"}, ssm: denied, wantErr: "SLACK_ROUTES_PARAM=/routes"},
		{name: "not JSON, without quoting it",
			env: map[string]string{config.SlackRoutesParam: "/routes"}, ssm: slackHolding(`{"6798700433": https://x/` + secret), wantErr: "not a JSON object"},
		{name: "a key that is no business number",
			env: map[string]string{config.SlackRoutesParam: "/routes"}, ssm: slackHolding(`{"shop": "https://hooks.slack.com/` + secret + `"}`), wantErr: `key "shop"`},
		{name: "a route that is no URL, without quoting it",
			env: map[string]string{config.SlackRoutesParam: "/routes"}, ssm: slackHolding(`{"6798700433": "` + secret + `"}`), wantErr: "the route of 6798700433 is not an http(s) URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			params := &fakeSSM{getParameter: c.ssm}
			routes, warning, err := config.ReadSlackRoutes(t.Context(), func(k string) string { return c.env[k] }, params)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || strings.Contains(err.Error(), secret) {
					t.Fatalf("error %v, want one containing %q and no URL", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(warning, c.warning) || (c.warning == "") != (warning == "") {
				t.Errorf("warning %q, want %q", warning, c.warning)
			}
			if len(routes) != len(c.want) {
				t.Fatalf("routes %v, want %v", routes, c.want)
			}
			for k, v := range c.want {
				if routes[k] != v {
					t.Errorf("route %s = %q, want %q", k, routes[k], v)
				}
			}
		})
	}
}
