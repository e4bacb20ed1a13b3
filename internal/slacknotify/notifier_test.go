package slacknotify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/alerttest"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify/blockkit"
)

// webhookPath is the secret part of a webhook URL: no log line or error may contain it.
const webhookPath = "/services/T0000000/B0000000/s3cretT0kenXyz"

// reply is one answer of the fake Slack.
type reply struct {
	status     int
	retryAfter string
	body       string
}

// fakeSlack stands in for Slack's webhook endpoint: it answers with replies in
// order, repeating the last, and keeps every request body.
type fakeSlack struct {
	*httptest.Server
	mu      sync.Mutex
	replies []reply
	bodies  [][]byte
}

func newFakeSlack(t *testing.T, replies ...reply) *fakeSlack {
	t.Helper()
	s := &fakeSlack{replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, body)
		rep := s.replies[min(len(s.bodies), len(s.replies))-1]
		s.mu.Unlock()
		if r.URL.Path != webhookPath {
			rep = reply{status: http.StatusNotFound, body: "no_service"}
		}
		if rep.retryAfter != "" {
			w.Header().Set("Retry-After", rep.retryAfter)
		}
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, rep.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeSlack) requests() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bodies
}

// loadEvent reads an SNS event from events/, where the samples for
// `sam local invoke SlackNotifierFunction -e` are.
func loadEvent(tb testing.TB, name string) events.SNSEvent {
	tb.Helper()
	path := filepath.Join("..", "..", "events", name)
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

// testNotifier is a Notifier whose waits are recorded instead of slept and
// whose log lines are kept.
type testNotifier struct {
	*Notifier
	logs   bytes.Buffer
	sleeps []time.Duration
}

func newTestNotifier(webhookURL string, client *http.Client, retry Retry) *testNotifier {
	tn := &testNotifier{}
	tn.Notifier = NewNotifier(Config{WebhookURL: webhookURL, Retry: retry}, client, NewMemoryLedger(),
		slog.New(slog.NewJSONHandler(&tn.logs, nil)))
	tn.sleep = func(_ context.Context, d time.Duration) error {
		tn.sleeps = append(tn.sleeps, d)
		return nil
	}
	return tn
}

// logLine is the one line logged for the only record, decoded.
func (tn *testNotifier) logLine(t *testing.T) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(tn.logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("logged %d lines, want one per record:\n%s", len(lines), tn.logs.String())
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	return line
}

var testRetry = Retry{MaxAttempts: 3, MaxElapsed: 30 * time.Second, BaseDelay: time.Second, MaxDelay: 8 * time.Second}

func TestHandleDeliversOrGivesUp(t *testing.T) {
	ok := reply{status: http.StatusOK, body: "ok"}
	tests := []struct {
		name           string
		replies        []reply
		wantRequests   int
		wantSleeps     []time.Duration
		wantErr        bool
		wantOutcome    string
		wantSlackError string
	}{
		{
			name:         "posts once when Slack accepts",
			replies:      []reply{ok},
			wantRequests: 1, wantOutcome: "posted",
		},
		{
			name:         "waits as long as Retry-After says after a 429, then posts",
			replies:      []reply{{status: http.StatusTooManyRequests, retryAfter: "7", body: "rate_limited"}, ok},
			wantRequests: 2, wantSleeps: []time.Duration{7 * time.Second}, wantOutcome: "posted",
		},
		{
			name:         "backs off after a 429 without Retry-After, then posts",
			replies:      []reply{{status: http.StatusTooManyRequests, body: "rate_limited"}, ok},
			wantRequests: 2, wantSleeps: []time.Duration{time.Second}, wantOutcome: "posted",
		},
		{
			name:         "backs off after a 429 with a Retry-After date, then posts",
			replies:      []reply{{status: http.StatusTooManyRequests, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT"}, ok},
			wantRequests: 2, wantSleeps: []time.Duration{time.Second}, wantOutcome: "posted",
		},
		{
			name:         "backs off after a 500, then posts",
			replies:      []reply{{status: http.StatusInternalServerError, body: "rollup_error"}, ok},
			wantRequests: 2, wantSleeps: []time.Duration{time.Second}, wantOutcome: "posted",
		},
		{
			name:         "does not retry a 400 and logs Slack's error text",
			replies:      []reply{{status: http.StatusBadRequest, body: "invalid_payload"}},
			wantRequests: 1, wantErr: true, wantOutcome: "rejected", wantSlackError: "invalid_payload",
		},
		{
			name:         "does not retry a revoked webhook",
			replies:      []reply{{status: http.StatusNotFound, body: "no_service"}},
			wantRequests: 1, wantErr: true, wantOutcome: "rejected", wantSlackError: "no_service",
		},
		{
			name:         "gives up after MaxAttempts 5xx, doubling the backoff",
			replies:      []reply{{status: http.StatusServiceUnavailable, body: "<html>\n  <p>Service Unavailable</p>\n</html>"}},
			wantRequests: 3, wantSleeps: []time.Duration{time.Second, 2 * time.Second}, wantErr: true,
			wantOutcome: "failed", wantSlackError: "<html> <p>Service Unavailable</p> </html>",
		},
		{
			name:         "gives up rather than wait a Retry-After beyond MaxElapsed",
			replies:      []reply{{status: http.StatusTooManyRequests, retryAfter: "120", body: "rate_limited"}},
			wantRequests: 1, wantErr: true, wantOutcome: "failed", wantSlackError: "rate_limited",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slack := newFakeSlack(t, tc.replies...)
			tn := newTestNotifier(slack.URL+webhookPath, slack.Client(), testRetry)
			ev := sampleEvent(t)

			err := tn.Handle(t.Context(), ev)

			if (err != nil) != tc.wantErr {
				t.Fatalf("Handle error = %v, want error: %t", err, tc.wantErr)
			}
			got := slack.requests()
			if len(got) != tc.wantRequests {
				t.Errorf("Slack got %d requests, want %d", len(got), tc.wantRequests)
			}
			want, _ := json.Marshal(blockkit.Alert(sampleFailure(t)))
			for i, body := range got {
				if !bytes.Equal(body, want) {
					t.Errorf("request %d posted\n%s\nwant blockkit.Alert of the alert\n%s", i+1, body, want)
				}
			}
			if !slices.Equal(tn.sleeps, tc.wantSleeps) {
				t.Errorf("waited %v, want %v", tn.sleeps, tc.wantSleeps)
			}

			line := tn.logLine(t)
			wantLog := map[string]any{
				"itemKey":          "025112715223900001",
				"franchiseCorpNum": "6798700433",
				"snsMessageId":     ev.Records[0].SNS.MessageID,
				"outcome":          tc.wantOutcome,
				"attempts":         float64(tc.wantRequests),
			}
			if tc.wantSlackError != "" {
				wantLog["slackError"] = tc.wantSlackError
			}
			for k, v := range wantLog {
				if line[k] != v {
					t.Errorf("log %s = %v, want %v", k, line[k], v)
				}
			}
			if tc.wantSlackError != "" && !strings.Contains(err.Error(), tc.wantSlackError) {
				t.Errorf("error %q does not say what Slack said, %q", err, tc.wantSlackError)
			}
			assertNoSecret(t, tn, err)
		})
	}
}

func TestHandleRetriesTimeoutsThenFails(t *testing.T) {
	var requests int
	var mu sync.Mutex
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client hang up
		mu.Lock()
		requests++
		mu.Unlock()
		select { // answer too late: the client gives up first
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	client := slack.Client()
	client.Timeout = 50 * time.Millisecond
	tn := newTestNotifier(slack.URL+webhookPath, client, testRetry)

	err := tn.Handle(t.Context(), sampleEvent(t))
	slack.Close() // waits for the handlers, so requests is final

	if err == nil {
		t.Fatal("Handle returned nil after every attempt timed out")
	}
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("error %q is not a timeout", err)
	}
	if requests != testRetry.MaxAttempts {
		t.Errorf("Slack got %d requests, want %d", requests, testRetry.MaxAttempts)
	}
	if want := []time.Duration{time.Second, 2 * time.Second}; !slices.Equal(tn.sleeps, want) {
		t.Errorf("waited %v, want %v", tn.sleeps, want)
	}
	line := tn.logLine(t)
	if line["outcome"] != "failed" || line["attempts"] != float64(testRetry.MaxAttempts) {
		t.Errorf("logged outcome %v after %v attempts, want failed after %d", line["outcome"], line["attempts"], testRetry.MaxAttempts)
	}
	assertNoSecret(t, tn, err)
}

func TestHandleStopsWhenTheInvocationIsCancelled(t *testing.T) {
	slack := newFakeSlack(t, reply{status: http.StatusInternalServerError})
	tn := newTestNotifier(slack.URL+webhookPath, slack.Client(), testRetry)
	ctx, cancel := context.WithCancel(t.Context())
	tn.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}

	err := tn.Handle(ctx, sampleEvent(t))

	if !errors.Is(err, context.Canceled) {
		t.Errorf("Handle error = %v, want it to say the invocation was cancelled", err)
	}
	if n := len(slack.requests()); n != 1 {
		t.Errorf("Slack got %d requests, want 1", n)
	}
}

func TestHandleRejectsAMessageThatIsNeitherAlertNorAlarm(t *testing.T) {
	tests := []struct{ name, message string }{
		{"not JSON", "Hello from SNS!"},
		{"JSON without an itemKey", `{"stateCode":305}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slack := newFakeSlack(t, reply{status: http.StatusOK, body: "ok"})
			tn := newTestNotifier(slack.URL+webhookPath, slack.Client(), testRetry)
			ev := events.SNSEvent{Records: []events.SNSEventRecord{{SNS: events.SNSEntity{MessageID: "m-1", Message: tc.message}}}}

			if err := tn.Handle(t.Context(), ev); err == nil {
				t.Error("Handle returned nil for a message that is neither an alert nor an alarm")
			}
			if n := len(slack.requests()); n != 0 {
				t.Errorf("Slack got %d requests, want none", n)
			}
			if line := tn.logLine(t); line["outcome"] != "undecodable" || line["snsMessageId"] != "m-1" {
				t.Errorf("logged %v, want outcome undecodable for snsMessageId m-1", line)
			}
		})
	}
}

// The sample for `sam local invoke` must stay what SNS would deliver for an
// alert that the publisher sends: a 305 whose Message, Subject and attributes
// are exactly the publisher's.
func TestSampleAlertEventIsWhatThePublisherSends(t *testing.T) {
	sns := sampleEvent(t).Records[0].SNS
	f := sampleFailure(t)
	if f.StateCode != 305 || f.ItemKey == "" {
		t.Errorf("sample alert is stateCode %d, itemKey %q: want a 305 with an itemKey", f.StateCode, f.ItemKey)
	}
	if got := string(alert.Encode(f)); sns.Message != got {
		t.Errorf("sample Message is not what the publisher sends:\n got %s\nwant %s", sns.Message, got)
	}
	if got := alert.Subject(f); sns.Subject != got {
		t.Errorf("sample Subject = %q, the publisher sends %q", sns.Subject, got)
	}
	for k, v := range snsalert.Attributes(f) {
		attr, _ := sns.MessageAttributes[k].(map[string]any)
		if attr["Type"] != "String" || attr["Value"] != v {
			t.Errorf("sample attribute %s = %v, want String %q", k, sns.MessageAttributes[k], v)
		}
	}
}

func TestHandlePostsEachSampleEvent(t *testing.T) {
	tests := []struct {
		file    string
		logKey  string
		logWant string
	}{
		{"sns-nts-failure.json", "itemKey", "025112715223900001"},
		{"sns-cloudwatch-alarm.json", "alarmName", "popbill-webhook-dev-api-5xx"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ev := loadEvent(t, tc.file)
			slack := newFakeSlack(t, reply{status: http.StatusOK, body: "ok"})
			tn := newTestNotifier(slack.URL+webhookPath, slack.Client(), DefaultRetry())

			if err := tn.Handle(t.Context(), ev); err != nil {
				t.Fatal(err)
			}

			got := slack.requests()
			if len(got) != 1 {
				t.Fatalf("Slack got %d requests, want 1", len(got))
			}
			var posted struct {
				Text   string            `json:"text"`
				Blocks []json.RawMessage `json:"blocks"`
			}
			if err := json.Unmarshal(got[0], &posted); err != nil || posted.Text == "" || len(posted.Blocks) == 0 {
				t.Errorf("posted %s: want a message with text and blocks (%v)", got[0], err)
			}
			line := tn.logLine(t)
			if line["outcome"] != "posted" || line[tc.logKey] != tc.logWant {
				t.Errorf("logged %v, want outcome posted and %s %s", line, tc.logKey, tc.logWant)
			}
		})
	}
}

// A digest has no itemKey: it is posted, once however often SNS delivers
// it, under the window's alert id.
func TestHandlePostsADigestOnce(t *testing.T) {
	f := alerttest.Digest(37)
	msg := string(alert.Encode(f))
	slack := newFakeSlack(t, reply{status: http.StatusOK, body: "ok"})
	tn := newTestNotifier(slack.URL+webhookPath, slack.Client(), testRetry)
	ev := events.SNSEvent{Records: []events.SNSEventRecord{
		{SNS: events.SNSEntity{MessageID: "m-1", Message: msg}},
		{SNS: events.SNSEntity{MessageID: "m-2", Message: msg}},
	}}

	if err := tn.Handle(t.Context(), ev); err != nil {
		t.Fatal(err)
	}

	got := slack.requests()
	if len(got) != 1 {
		t.Fatalf("Slack got %d requests for one digest delivered twice, want 1", len(got))
	}
	if !strings.Contains(string(got[0]), "37 more NTS rejections") {
		t.Errorf("posted %s: want the digest", got[0])
	}
	if !strings.Contains(tn.logs.String(), `"alertId":"`+alert.IDOf(f)+`"`) {
		t.Errorf("logged %s: want alertId %s", tn.logs.String(), alert.IDOf(f))
	}
}

func assertNoSecret(t *testing.T, tn *testNotifier, err error) {
	t.Helper()
	secret := webhookPath[strings.LastIndex(webhookPath, "/")+1:]
	if strings.Contains(tn.logs.String(), secret) {
		t.Errorf("the log contains the webhook URL:\n%s", tn.logs.String())
	}
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("the error contains the webhook URL: %v", err)
	}
}
