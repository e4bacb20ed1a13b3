package slack

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

	"github.com/popbill-cashbill-webhook/receiver/functions/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/alert/alerttest"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/golden"
)

// eventsDir holds the SNS events that `sam local invoke SlackNotifierFunction -e` uses.
const eventsDir = "../../../events"

func loadEvent(tb testing.TB, name string) events.SNSEvent {
	tb.Helper()
	path := filepath.Join(eventsDir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var ev events.SNSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		tb.Fatalf("%s is not an SNS event: %v", path, err)
	}
	if len(ev.Records) != 1 {
		tb.Fatalf("%s has %d records, want 1 as SNS sends", path, len(ev.Records))
	}
	return ev
}

// sampleEvent is SNS delivering the alert that events/05-nts-305-failure.json raises.
func sampleEvent(tb testing.TB) events.SNSEvent {
	tb.Helper()
	return loadEvent(tb, "sns-nts-failure.json")
}

// sampleFailure is the alert in the sample event: a 305 with result code TS4.
func sampleFailure(tb testing.TB) alert.Failure {
	tb.Helper()
	f, err := alert.Decode([]byte(sampleEvent(tb).Records[0].SNS.Message))
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestMessageMatchesGoldenFiles(t *testing.T) {
	tests := append(slices.Clone(alerttest.RenderCases),
		alerttest.RenderCase{Name: "mrkdwn-characters-escaped", Edit: func(f *alert.Failure) { f.MgtKey = "<!channel>&*x*" }})
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			f := sampleFailure(t)
			tc.Edit(&f)
			// Escaped as slack-go sends it: & < > appear as \u0026 \u003c \u003e.
			got, err := json.MarshalIndent(Message(f), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, tc.Name+".golden.json", string(got)+"\n")
		})
	}
}

func TestAlarmMessageMatchesGoldenFile(t *testing.T) {
	var alarm events.CloudWatchAlarmSNSPayload
	if err := json.Unmarshal([]byte(loadEvent(t, "sns-cloudwatch-alarm.json").Records[0].SNS.Message), &alarm); err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(AlarmMessage(alarm), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "alarm.golden.json", string(got)+"\n")
}

func TestMessageKeepsWithinSlackLimits(t *testing.T) {
	f := sampleFailure(t)
	f.FranchiseCorpNum = strings.Repeat("9", 500)
	f.MgtKey = strings.Repeat("&", 3000)
	f.NTSResultCode = strings.Repeat("오류", 2000)
	f.MID = strings.Repeat("<", 4000)

	msg := Message(f)
	limit := func(what, text string, max int) {
		t.Helper()
		if n := utf8.RuneCountInString(text); n > max {
			t.Errorf("%s is %d characters, over Slack's %d", what, n, max)
		}
	}
	limit("text", msg.Text, textLimit)
	blocks := msg.Blocks.BlockSet
	if len(blocks) != 4 {
		t.Fatalf("got %d blocks, want header, details, next steps, context", len(blocks))
	}
	limit("header", blocks[0].(*slackapi.HeaderBlock).Text.Text, headerLimit)
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
