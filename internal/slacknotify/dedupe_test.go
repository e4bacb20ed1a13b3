package slacknotify

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// withMessageID is ev's record delivered as another SNS message: what a
// second publish of the same alert looks like (its alertId stays).
func withMessageID(ev events.SNSEvent, id string) events.SNSEvent {
	rec := ev.Records[0]
	rec.SNS.MessageID = id
	return events.SNSEvent{Records: []events.SNSEventRecord{rec}}
}

// TestHandlePostsEachAlertOnce pins the deduplication: SNS delivers to
// Lambda at least once, and the webhook may publish an alert twice in the
// windows docs/reliability.md names; Slack gets it once all the same.
func TestHandlePostsEachAlertOnce(t *testing.T) {
	ok := reply{status: http.StatusOK, body: "ok"}
	alertEv := sampleEvent(t)
	alarmEv := loadEvent(t, "sns-cloudwatch-alarm.json")
	cases := []struct {
		name         string
		replies      []reply
		deliveries   []events.SNSEvent
		wantRequests int
		wantOutcomes []string
		wantErrs     []bool
	}{
		{
			name:         "SNS delivers the same message twice",
			replies:      []reply{ok},
			deliveries:   []events.SNSEvent{alertEv, alertEv},
			wantRequests: 1, wantOutcomes: []string{"posted", "duplicate"}, wantErrs: []bool{false, false},
		},
		{
			name:         "the webhook published the alert twice (same alertId, new message id)",
			replies:      []reply{ok},
			deliveries:   []events.SNSEvent{alertEv, withMessageID(alertEv, "second-publish")},
			wantRequests: 1, wantOutcomes: []string{"posted", "duplicate"}, wantErrs: []bool{false, false},
		},
		{
			name:         "one alarm transition delivered twice",
			replies:      []reply{ok},
			deliveries:   []events.SNSEvent{alarmEv, withMessageID(alarmEv, "redelivered")},
			wantRequests: 1, wantOutcomes: []string{"posted", "duplicate"}, wantErrs: []bool{false, false},
		},
		{
			name:         "a post Slack refused is released, so Lambda's retry posts it",
			replies:      []reply{{status: http.StatusServiceUnavailable}, {status: http.StatusServiceUnavailable}, {status: http.StatusServiceUnavailable}, ok},
			deliveries:   []events.SNSEvent{alertEv, alertEv},
			wantRequests: 4, wantOutcomes: []string{"failed", "posted"}, wantErrs: []bool{true, false},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			slack := newFakeSlack(t, tc.replies...)
			tn := newTestNotifier(slack.URL+webhookPath, slack.Client(), testRetry)
			for i, ev := range tc.deliveries {
				tn.logs.Reset()
				err := tn.Handle(t.Context(), ev)
				if (err != nil) != tc.wantErrs[i] {
					t.Fatalf("delivery %d: Handle error = %v, want error %v", i, err, tc.wantErrs[i])
				}
				if got := tn.logLine(t)["outcome"]; got != tc.wantOutcomes[i] {
					t.Errorf("delivery %d: outcome %v, want %s", i, got, tc.wantOutcomes[i])
				}
			}
			if n := len(slack.requests()); n != tc.wantRequests {
				t.Errorf("Slack got %d requests, want %d", n, tc.wantRequests)
			}
		})
	}
}

// TestHandleLeavesAnAlertAnotherInvocationIsPosting: the record fails, so
// that Lambda retries it after the other invocation has posted (a duplicate
// then) or crashed (its claim expired, so the retry posts).
func TestHandleLeavesAnAlertAnotherInvocationIsPosting(t *testing.T) {
	slack := newFakeSlack(t, reply{status: http.StatusOK, body: "ok"})
	tn := newTestNotifier(slack.URL+webhookPath, slack.Client(), testRetry)
	ev := sampleEvent(t)
	if _, err := tn.ledger.Claim(t.Context(), "025112715223900001/failure", "another invocation", time.Now(), PostLease); err != nil {
		t.Fatal(err)
	}

	err := tn.Handle(t.Context(), ev)

	var notPosted *NotPostedError
	if !errors.As(err, &notPosted) || !strings.Contains(err.Error(), "another invocation is posting it") {
		t.Fatalf("Handle error = %v, want a NotPostedError saying another invocation is posting it", err)
	}
	if n := len(slack.requests()); n != 0 {
		t.Errorf("Slack got %d requests, want none", n)
	}
	if got := tn.logLine(t)["outcome"]; got != "held" {
		t.Errorf("outcome %v, want held", got)
	}
}

// TestHandleFailsWithANamedErrorType: Lambda reports the returned error's
// type name as errorType, which the dead-letter queue and the error metrics
// show: it must say what happened, not name an internal type (joinError).
func TestHandleFailsWithANamedErrorType(t *testing.T) {
	slack := newFakeSlack(t, reply{status: http.StatusBadRequest, body: "invalid_payload"})
	tn := newTestNotifier(slack.URL+webhookPath, slack.Client(), testRetry)

	err := tn.Handle(t.Context(), sampleEvent(t))

	typ := reflect.TypeOf(err)
	if typ == nil || typ.Kind() != reflect.Pointer || typ.Elem().Name() != "NotPostedError" {
		t.Fatalf("Handle returned %T, want *NotPostedError", err)
	}
}
