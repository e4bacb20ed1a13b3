package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/ssmparam"
)

func slackHolding(value string) func(*ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error) {
	return func(in *ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error) {
		return &ssmparam.GetParameterOutput{Parameter: &ssmparam.Parameter{Name: in.Name, Value: aws.String(value)}}, nil
	}
}

func TestReadSlackWebhookURL(t *testing.T) {
	const secretURL = "https://hooks.slack.com/services/T0/B0/s3cretT0ken"
	tests := []struct {
		name      string
		env       map[string]string
		ssm       func(*ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error)
		wantURL   string
		wantParam string // the parameter read, "" for none
		wantErr   string // a part of the error, "" for none
	}{
		{
			name:    "reads the URL from the SecureString named by SLACK_WEBHOOK_PARAM",
			env:     map[string]string{config.SlackWebhookParam: "/popbill-webhook/slack-webhook-url"},
			ssm:     slackHolding(secretURL + "\n"),
			wantURL: secretURL, wantParam: "/popbill-webhook/slack-webhook-url",
		},
		{
			name:    "takes SLACK_WEBHOOK_URL as it is for local runs",
			env:     map[string]string{config.SlackWebhookURL: "http://localhost:9000/hook"},
			wantURL: "http://localhost:9000/hook",
		},
		{
			name:    "requires one of the two, naming SLACK_WEBHOOK_PARAM",
			env:     map[string]string{},
			wantErr: "SLACK_WEBHOOK_PARAM is required",
		},
		{
			name:    "refuses both",
			env:     map[string]string{config.SlackWebhookParam: "/p", config.SlackWebhookURL: secretURL},
			wantErr: "both SLACK_WEBHOOK_PARAM and SLACK_WEBHOOK_URL are set",
		},
		{
			name: "says which parameter could not be read",
			env:  map[string]string{config.SlackWebhookParam: "/missing"},
			ssm: func(*ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error) {
				return nil, &ssmparam.Error{Name: "/missing", Code: "ParameterNotFound", Status: 400}
			},
			wantParam: "/missing", wantErr: "SLACK_WEBHOOK_PARAM=/missing: read SSM parameter",
		},
		{
			name:      "refuses a parameter that holds no URL, without quoting it",
			env:       map[string]string{config.SlackWebhookParam: "/p"},
			ssm:       slackHolding("s3cretT0ken"),
			wantParam: "/p", wantErr: "SSM parameter /p (from SLACK_WEBHOOK_PARAM) does not hold an http(s) URL",
		},
		{
			name:    "refuses a URL that is not http(s)",
			env:     map[string]string{config.SlackWebhookURL: "ftp://hooks.slack.com/s3cretT0ken"},
			wantErr: "SLACK_WEBHOOK_URL does not hold an http(s) URL",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params := &fakeSSM{getParameter: tc.ssm}
			if tc.ssm == nil {
				params.getParameter = func(*ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error) {
					return nil, errors.New("SSM must not be called")
				}
			}
			getenv := func(k string) string { return tc.env[k] }

			webhookURL, err := config.ReadSlackWebhookURL(t.Context(), getenv, params)

			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ReadSlackWebhookURL error = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cretT0ken") {
					t.Errorf("the error quotes the webhook URL: %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if webhookURL != tc.wantURL {
				t.Errorf("WebhookURL = %q, want %q", webhookURL, tc.wantURL)
			}
			var got *ssmparam.GetParameterInput
			if len(params.asked) > 0 {
				got = params.asked[len(params.asked)-1]
			}
			switch {
			case tc.wantParam == "" && got != nil:
				t.Errorf("read SSM parameter %s, want no SSM call", aws.ToString(got.Name))
			case tc.wantParam != "" && got == nil:
				t.Errorf("did not read SSM parameter %s", tc.wantParam)
			case tc.wantParam != "":
				if aws.ToString(got.Name) != tc.wantParam || !aws.ToBool(got.WithDecryption) {
					t.Errorf("GetParameter(Name %q, WithDecryption %t), want %q decrypted",
						aws.ToString(got.Name), aws.ToBool(got.WithDecryption), tc.wantParam)
				}
			}
		})
	}
}
