// Package slacknotify posts NTS-failure alerts to a Slack channel through an
// incoming webhook. Its Notifier is the handler of the Lambda function that
// the alert topic invokes: it reads each SNS record as an alert (or a
// CloudWatch alarm, which the deployment publishes to the same topic), has
// package blockkit render it, posts it with slack-go (retry.go), and keeps
// the error text Slack sends, which slack-go drops (transport.go).
//
// The webhook URL is a secret. Nothing this package logs or returns contains it.
package slacknotify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	slackapi "github.com/slack-go/slack"

	"github.com/popbill-cashbill-webhook/receiver/functions/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/slacknotify/blockkit"
)

// Notifier posts alerts and alarms to one Slack incoming webhook.
type Notifier struct {
	webhookURL string
	client     *http.Client
	retry      Retry
	log        *slog.Logger
	// sleep waits between attempts; tests replace it to run without waiting.
	sleep func(ctx context.Context, d time.Duration) error
}

// NewNotifier returns a Notifier that posts to cfg.WebhookURL with client
// (nil: one with RequestTimeout). The client's Timeout bounds each attempt.
// The Notifier uses a copy of client whose transport also keeps Slack's error
// text, which slack-go drops.
func NewNotifier(cfg Config, client *http.Client, log *slog.Logger) *Notifier {
	if client == nil {
		client = &http.Client{Timeout: RequestTimeout}
	}
	c := *client
	c.Transport = recordingTransport{base: client.Transport}
	return &Notifier{webhookURL: cfg.WebhookURL, client: &c, retry: cfg.Retry, log: log, sleep: sleep}
}

// Handle posts the alert or alarm in each SNS record to Slack, and logs one
// line per record. It returns an error when any record could not be posted,
// or could not be read, so that Lambda retries the invocation and then hands
// the event to its dead-letter queue, where it is kept rather than lost.
// (SNS invokes a function with one record at a time.)
func (n *Notifier) Handle(ctx context.Context, ev events.SNSEvent) error {
	var errs []error
	for _, rec := range ev.Records {
		if err := n.notify(ctx, rec.SNS); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Outcomes of a record, as logged.
const (
	outcomePosted      = "posted"
	outcomeRejected    = "rejected"    // Slack refused the message: retrying cannot help
	outcomeFailed      = "failed"      // Slack or the network kept failing: retrying later may help
	outcomeUndecodable = "undecodable" // the SNS message is neither an alert nor an alarm
)

func (n *Notifier) notify(ctx context.Context, sns events.SNSEntity) error {
	log := n.log.With("snsMessageId", sns.MessageID)
	c, err := decode(sns.Message)
	if err != nil {
		log.ErrorContext(ctx, "slack message not sent", "outcome", outcomeUndecodable, "attempts", 0, "error", err.Error())
		return fmt.Errorf("SNS message %s: %w", sns.MessageID, err)
	}

	log = log.With(c.logAttrs...)
	attempts, err := n.post(ctx, c.msg)
	if err == nil {
		log.InfoContext(ctx, "slack message sent", "outcome", outcomePosted, "attempts", attempts)
		return nil
	}
	outcome := outcomeFailed
	attrs := []any{"attempts", attempts, "error", err.Error()}
	var de *deliveryError
	if errors.As(err, &de) {
		if de.permanent {
			outcome = outcomeRejected
		}
		if de.status != 0 {
			attrs = append(attrs, "status", de.status)
		}
		if de.slackText != "" {
			attrs = append(attrs, "slackError", de.slackText)
		}
	}
	log.ErrorContext(ctx, "slack message not sent", append(attrs, "outcome", outcome)...)
	return fmt.Errorf("SNS message %s, %s: %w", sns.MessageID, c.about, err)
}

// content is what an SNS message says, ready for Slack.
type content struct {
	msg      *slackapi.WebhookMessage
	about    string // e.g. "itemKey 022122116191200001", for errors
	logAttrs []any
}

// decode reads an SNS message: an NTS-failure alert, or a CloudWatch alarm,
// which publishes to the same topic.
func decode(message string) (content, error) {
	f, err := alert.Decode([]byte(message))
	if err != nil {
		return content{}, fmt.Errorf("neither an NTS-failure alert nor a CloudWatch alarm: %w", err)
	}
	if f.ItemKey != "" {
		return content{blockkit.Alert(f), "itemKey " + f.ItemKey,
			[]any{"itemKey", f.ItemKey, "franchiseCorpNum", f.FranchiseCorpNum, "mid", f.MID}}, nil
	}
	var a events.CloudWatchAlarmSNSPayload
	if json.Unmarshal([]byte(message), &a) == nil && a.AlarmName != "" {
		return content{blockkit.Alarm(a), "alarm " + a.AlarmName,
			[]any{"alarmName", a.AlarmName, "alarmState", a.NewStateValue}}, nil
	}
	return content{}, errors.New("neither an NTS-failure alert (no itemKey) nor a CloudWatch alarm (no AlarmName)")
}
