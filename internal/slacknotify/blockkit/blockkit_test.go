package blockkit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	slackapi "github.com/slack-go/slack"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/alerttest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/golden"
)

// snsMessage is the Message of the one record in events/<name>, an SNS event
// that `sam local invoke SlackNotifierFunction -e` uses.
func snsMessage(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", name))
	if err != nil {
		tb.Fatal(err)
	}
	var ev events.SNSEvent
	if err := json.Unmarshal(b, &ev); err != nil || len(ev.Records) != 1 {
		tb.Fatalf("%s is not an SNS event of one record: %v", name, err)
	}
	return ev.Records[0].SNS.Message
}

// sampleFailure is the alert in events/sns-nts-failure.json: a 305 with result code TS4.
func sampleFailure(tb testing.TB) alert.Failure {
	tb.Helper()
	f, err := alert.Decode([]byte(snsMessage(tb, "sns-nts-failure.json")))
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestAlertMatchesGoldenFiles(t *testing.T) {
	tests := append(slices.Clone(alerttest.RenderCases),
		alerttest.RenderCase{Name: "mrkdwn-characters-escaped", Edit: func(f *alert.Failure) { f.MgtKey = "<!channel>&*x*" }})
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			f := sampleFailure(t)
			tc.Edit(&f)
			f = alerttest.Presentation().Stamp(f)
			// Escaped as slack-go sends it: & < > appear as \u0026 \u003c \u003e.
			got, err := json.MarshalIndent(Alert(f), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, tc.Name+".golden.json", string(got)+"\n")
		})
	}
}

// The same alarm as it fires and as it returns to OK (the template sets
// OKActions on every alarm): the second reads as resolved.
func TestAlarmMatchesGoldenFiles(t *testing.T) {
	tests := []struct {
		name string
		edit func(*events.CloudWatchAlarmSNSPayload)
	}{
		{"alarm", func(*events.CloudWatchAlarmSNSPayload) {}},
		{"alarm-ok", func(a *events.CloudWatchAlarmSNSPayload) {
			a.OldStateValue, a.NewStateValue = "ALARM", "OK"
			a.NewStateReason = "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (28/11/25 05:20:00)] was not greater than or equal to the threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition)."
			a.StateChangeTime = "2025-11-28T05:25:12.345+0000"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var alarm events.CloudWatchAlarmSNSPayload
			if err := json.Unmarshal([]byte(snsMessage(t, "sns-cloudwatch-alarm.json")), &alarm); err != nil {
				t.Fatal(err)
			}
			tc.edit(&alarm)
			got, err := json.MarshalIndent(Alarm(alarm), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, tc.name+".golden.json", string(got)+"\n")
		})
	}
}

func TestAlarmTimeIsKST(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"converts CloudWatch's UTC to KST", "2025-11-28T05:05:12.345+0000", "2025-11-28 14:05:12 KST"},
		{"crosses midnight", "2025-11-28T20:00:00.000+0000", "2025-11-29 05:00:00 KST"},
		{"shows an unknown format as it came", "yesterday", "yesterday"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := kstAlarmTime(tc.in); got != tc.want {
				t.Errorf("kstAlarmTime(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestAlertKeepsWithinSlackLimits(t *testing.T) {
	f := sampleFailure(t)
	f.FranchiseCorpNum = strings.Repeat("9", 500)
	f.MgtKey = strings.Repeat("&", 3000)
	f.NTSResultCode = strings.Repeat("오류", 2000)
	f.MID = strings.Repeat("<", 4000)

	msg := Alert(f)
	limit := func(what, text string, max int) {
		t.Helper()
		if n := utf8.RuneCountInString(text); n > max {
			t.Errorf("%s is %d characters, over Slack's %d", what, n, max)
		}
	}
	limit("text", msg.Text, textLimit)
	blocks := msg.Blocks.BlockSet
	if len(blocks) != 5 {
		t.Fatalf("got %d blocks, want header, Korean, details, next steps, context", len(blocks))
	}
	limit("header", blocks[0].(*slackapi.HeaderBlock).Text.Text, headerLimit)
	limit("Korean", blocks[1].(*slackapi.SectionBlock).Text.Text, textLimit)
	blocks = blocks[1:]
	details := blocks[1].(*slackapi.SectionBlock)
	limit("details text", details.Text.Text, textLimit)
	if len(details.Fields) == 0 || len(details.Fields) > maxFields {
		t.Errorf("details have %d fields, want 1 to %d", len(details.Fields), maxFields)
	}
	entities := strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "")
	for _, field := range details.Fields {
		limit("field", field.Text, fieldLimit)
		if rest := entities.Replace(field.Text); strings.ContainsAny(rest, "&<>") {
			t.Errorf("field has a bare or cut escape: %.40q…", rest)
		}
	}
	limit("next steps", blocks[2].(*slackapi.SectionBlock).Text.Text, textLimit)
	for _, el := range blocks[3].(*slackapi.ContextBlock).ContextElements.Elements {
		limit("context element", el.(*slackapi.TextBlockObject).Text, textLimit)
	}
}

func TestMrkdwn(t *testing.T) {
	tests := []struct {
		name, in string
		limit    int
		want     string
	}{
		{"escapes Slack's control characters", "<@U1>&x", 100, "&lt;@U1&gt;&amp;x"},
		{"keeps text that fits exactly", "abcde", 5, "abcde"},
		{"counts characters, not bytes", "영수증", 3, "영수증"},
		{"cuts with an ellipsis", "abcdef", 5, "abcd…"},
		{"never cuts inside an escape", "ab&cd", 6, "ab…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mrkdwn(tc.in, tc.limit); got != tc.want {
				t.Errorf("mrkdwn(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
			}
		})
	}
}
