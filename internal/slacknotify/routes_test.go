package slacknotify

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
)

// snsRecord is SNS delivering f as the webhook publishes it, with its message attributes.
func snsRecord(messageID string, f alert.Failure) events.SNSEvent {
	attrs := map[string]any{}
	for k, v := range snsalert.Attributes(f) {
		attrs[k] = map[string]any{"Type": "String", "Value": v}
	}
	return events.SNSEvent{Records: []events.SNSEventRecord{{SNS: events.SNSEntity{
		MessageID: messageID, Message: string(alert.Encode(f)), MessageAttributes: attrs}}}}
}

func failureOf(corp, itemKey string) alert.Failure {
	return alert.Clean(alert.Failure{ItemKey: itemKey, FranchiseCorpNum: corp, StateCode: 305, NTSResultCode: "TS4",
		EventType: "NTS", EventDT: "20221222100033", Kind: alert.KindFailure, AlertID: alert.ID(itemKey, alert.KindFailure)})
}

func TestEachBusinessAlertGoesToItsOwnChannelAndTheRestToTheDefault(t *testing.T) {
	const (
		corpA, corpB, corpC = "6798700433", "2208162517", "1234567890"
	)
	slackA, slackB, slackDefault := newFakeSlack(t, reply{status: 200, body: "ok"}), newFakeSlack(t, reply{status: 200, body: "ok"}), newFakeSlack(t, reply{status: 200, body: "ok"})
	cases := []struct {
		name string
		// routes: the "*" route, or none (the notifier's one webhook is the default).
		routes map[string]string
		url    string
	}{
		{"with a * route", map[string]string{corpA: slackA.URL + webhookPath, corpB: slackB.URL + webhookPath, "*": slackDefault.URL + webhookPath}, "http://127.0.0.1:1/unused"},
		{"with the notifier's webhook as the default", map[string]string{corpA: slackA.URL + webhookPath, corpB: slackB.URL + webhookPath}, slackDefault.URL + webhookPath},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, s := range []*fakeSlack{slackA, slackB, slackDefault} {
				s.mu.Lock()
				s.bodies = nil
				s.mu.Unlock()
			}
			var logs strings.Builder
			n := NewNotifier(Config{WebhookURL: c.url, Routes: c.routes, Retry: DefaultRetry()}, &http.Client{Timeout: time.Second}, NewMemoryLedger(),
				slog.New(slog.NewJSONHandler(&logs, nil)))
			digest := alert.NewDigest(corpB, "storm/"+corpB+"/202612010900", alert.Digest{
				WindowStart: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), WindowEnd: time.Date(2026, 12, 1, 0, 10, 0, 0, time.UTC),
				SentIndividually: 5, Entries: []alert.DigestEntry{{ItemKey: "022122116191200099", Code: "TS4"}}})
			alarm, _ := json.Marshal(events.CloudWatchAlarmSNSPayload{AlarmName: "popbill-webhook-prod-api-5xx", NewStateValue: "ALARM", StateChangeTime: "2026-12-01T00:00:00Z"})
			records := []events.SNSEvent{
				snsRecord("m-a1", failureOf(corpA, "022122116191200001")),
				snsRecord("m-b1", failureOf(corpB, "022122116191200002")),
				snsRecord("m-c1", failureOf(corpC, "022122116191200003")),
				snsRecord("m-a2", failureOf(corpA, "022122116191200001")), // SNS again: the ledger drops it
				snsRecord("m-bd", digest),
				{Records: []events.SNSEventRecord{{SNS: events.SNSEntity{MessageID: "m-alarm", Message: string(alarm)}}}},
			}
			for _, ev := range records {
				if err := n.Handle(context.Background(), ev); err != nil {
					t.Fatalf("Handle(%s): %v", ev.Records[0].SNS.MessageID, err)
				}
			}
			for _, w := range []struct {
				name  string
				slack *fakeSlack
				want  []string // a text each post carries, in order
			}{
				{"business A's channel", slackA, []string{"022122116191200001"}},
				{"business B's channel", slackB, []string{"022122116191200002", "022122116191200099"}},
				{"the default channel", slackDefault, []string{"022122116191200003", "popbill-webhook-prod-api-5xx"}},
			} {
				got := w.slack.requests()
				if len(got) != len(w.want) {
					t.Errorf("%s got %d posts, want %d", w.name, len(got), len(w.want))
					continue
				}
				for i, text := range w.want {
					if !strings.Contains(string(got[i]), text) {
						t.Errorf("%s post %d does not carry %s: %s", w.name, i, text, got[i])
					}
				}
			}
			if strings.Contains(logs.String(), webhookPath) {
				t.Error("a log line holds a webhook URL")
			}
			if !strings.Contains(logs.String(), `"slackRoute":"business"`) || !strings.Contains(logs.String(), `"slackRoute":"default"`) {
				t.Errorf("the log lines do not say which route each took:\n%s", logs.String())
			}
		})
	}
}
