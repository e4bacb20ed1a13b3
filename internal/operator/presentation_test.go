package operator_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
)

// An alert the tool publishes reads as the webhook's and the sweeper's do:
// the deployment's settings build its outbox too.
func TestAResentAlertCarriesTheDeploymentsPresentation(t *testing.T) {
	env := map[string]string{
		config.EnvironmentName: "prod", config.BusinessNames: "6798700433=가나다상사",
		config.AlertRunbookURL: "https://wiki.example.com/alerts", config.AlertLogGroup: "/aws/lambda/popbill-webhook",
		"AWS_REGION": "ap-northeast-2",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	cases := []struct {
		name string
		sent bool
	}{
		{"a pending alert, claimed and published as the sweeper would", false},
		{"a sent alert, published again", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			s := openLocal(t, path)
			key := statetest.ItemKey()
			d := statetest.Delivery(key, 305, "mid-1")
			d.Alert = alert.Encode(alert.FromEvent(d.Event, d.MID, alert.KindFailure))
			if _, err := s.Apply(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			if tc.sent {
				if err := s.MarkAlertSent(context.Background(), key, "", "sns-1", d.ReceivedAt); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()

			code, _, printed := run(t, "alerts", "resend", "--local="+path, "--by", "kim", key)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, printed)
			}
			for _, want := range []string{"[prod]", "가나다상사", "https://wiki.example.com/alerts#nts-rejected",
				"https://ap-northeast-2.console.aws.amazon.com/cloudwatch/home"} {
				if !strings.Contains(printed, want) {
					t.Errorf("the printed alert lacks %q:\n%s", want, printed)
				}
			}
		})
	}
}
