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
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	slackapi "github.com/slack-go/slack"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify/blockkit"
)

// Notifier posts alerts and alarms to one Slack incoming webhook, each once.
type Notifier struct {
	webhookURL string
	// routes sends a business's alerts to its own channel (routes.go).
	routes map[string]string
	client *http.Client
	retry  Retry
	ledger Ledger
	log    *slog.Logger
	now    func() time.Time
	// sleep waits between attempts; tests replace it to run without waiting.
	sleep func(ctx context.Context, d time.Duration) error
}

// NewNotifier returns a Notifier that posts to cfg.WebhookURL with client
// (nil: one with RequestTimeout) and records what it posted in ledger. The
// client's Timeout bounds each attempt. The Notifier uses a copy of client
// whose transport also keeps Slack's error text, which slack-go drops.
func NewNotifier(cfg Config, client *http.Client, ledger Ledger, log *slog.Logger) *Notifier {
	if ledger == nil || log == nil {
		panic("slacknotify.NewNotifier: ledger and log are required")
	}
	if client == nil {
		client = &http.Client{Timeout: RequestTimeout}
	}
	c := *client
	c.Transport = recordingTransport{base: client.Transport}
	return &Notifier{webhookURL: cfg.WebhookURL, routes: cfg.Routes, client: &c, retry: cfg.Retry, ledger: ledger, log: log, sleep: sleep, now: time.Now}
}

// NotPostedError is what Handle returns when a record was not posted. Lambda
// reports its type name, NotPostedError, as the invocation's errorType, which
// the dead-letter queue's messages and the error metrics show.
type NotPostedError struct {
	// Records says, per record, what was not posted and why.
	Records []error
}

func (e *NotPostedError) Error() string {
	reasons := make([]string, len(e.Records))
	for i, err := range e.Records {
		reasons[i] = err.Error()
	}
	return "not posted to Slack: " + strings.Join(reasons, "; ")
}

// Unwrap lets errors.Is and errors.As see each record's error.
func (e *NotPostedError) Unwrap() []error { return e.Records }

// Handle posts the alert or alarm in each SNS record to Slack, and logs one
// line per record. It returns an error when any record could not be posted,
// or could not be read, so that Lambda retries the invocation and then hands
// the event to its dead-letter queue, where it is kept rather than lost.
// (SNS invokes a function with one record at a time.)
func (n *Notifier) Handle(ctx context.Context, ev events.SNSEvent) error {
	var failed NotPostedError
	for _, rec := range ev.Records {
		if err := n.notify(ctx, rec.SNS); err != nil {
			failed.Records = append(failed.Records, err)
		}
	}
	if len(failed.Records) > 0 {
		return &failed
	}
	return nil
}

// Outcomes of a record, as logged.
const (
	outcomePosted      = "posted"
	outcomeRejected    = "rejected"    // Slack refused the message: retrying cannot help
	outcomeFailed      = "failed"      // Slack or the network kept failing: retrying later may help
	outcomeUndecodable = "undecodable" // the SNS message is neither an alert nor an alarm
	outcomeDuplicate   = "duplicate"   // posted before (an SNS redelivery, or a second publish of the alert)
	outcomeHeld        = "held"        // another invocation is posting it now; Lambda retries this one
)

func (n *Notifier) notify(ctx context.Context, sns events.SNSEntity) error {
	log := n.log.With("snsMessageId", sns.MessageID)
	c, err := decode(sns.Message)
	if err != nil {
		log.ErrorContext(ctx, "slack message not sent", "outcome", outcomeUndecodable, "attempts", 0, "error", err.Error())
		return fmt.Errorf("SNS message %s: %w", sns.MessageID, err)
	}

	id := alertID(sns, c)
	log = log.With(append(c.logAttrs, "alertId", id)...)
	owner := sns.MessageID + "/" + randomID()
	claim, err := n.ledger.Claim(ctx, id, owner, n.now(), PostLease)
	switch {
	case err != nil:
		log.ErrorContext(ctx, "slack message not sent", "outcome", outcomeFailed, "attempts", 0, "error", "the post ledger could not be read")
		return fmt.Errorf("SNS message %s, %s: post ledger: %w", sns.MessageID, c.about, err)
	case claim.Posted:
		log.InfoContext(ctx, "slack message not sent", "outcome", outcomeDuplicate, "attempts", 0)
		return nil
	case !claim.Claimed:
		log.WarnContext(ctx, "slack message not sent", "outcome", outcomeHeld, "attempts", 0, "heldUntil", claim.HeldUntil.UTC().Format(time.RFC3339))
		return fmt.Errorf("SNS message %s, %s: another invocation is posting it until %s", sns.MessageID, c.about, claim.HeldUntil.UTC().Format(time.RFC3339))
	}
	target, route := n.route(c.corp)
	log = log.With("slackRoute", route)
	attempts, err := n.post(ctx, target, c.msg)
	if err == nil {
		outcome := outcomePosted
		if err := n.ledger.MarkPosted(context.WithoutCancel(ctx), id, owner, n.now()); err != nil {
			// Posted but not recorded: a redelivery after the lease could post
			// it again. Nothing to retry now: the message is in the channel.
			outcome = "posted-unrecorded"
		}
		log.InfoContext(ctx, "slack message sent", "outcome", outcome, "attempts", attempts)
		return nil
	}
	_ = n.ledger.Release(context.WithoutCancel(ctx), id, owner)
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
	// id is the alert's stable id when the message itself gives one.
	id string
	// corp is the alert's business, whose route it takes; "" for an alarm.
	corp string
}

// alertID is the stable id that the ledger knows an alert by: the alertId
// message attribute the webhook sets (itemKey/kind), the same for every
// publish of the alert; for an alarm, its name, new state and time, the same
// for every delivery of one transition; else the SNS message id, which
// deduplicates SNS's own redeliveries only.
func alertID(sns events.SNSEntity, c content) string {
	if attr, ok := sns.MessageAttributes["alertId"].(map[string]any); ok {
		if v, ok := attr["Value"].(string); ok && v != "" {
			return v
		}
	}
	if c.id != "" {
		return c.id
	}
	return "sns/" + sns.MessageID
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// decode reads an SNS message: an NTS-failure alert, or a CloudWatch alarm,
// which publishes to the same topic.
func decode(message string) (content, error) {
	f, err := alert.Decode([]byte(message))
	if err != nil {
		return content{}, fmt.Errorf("neither an NTS-failure alert nor a CloudWatch alarm: %w", err)
	}
	if alert.IsDigest(f) {
		return content{blockkit.Alert(f), "digest " + alert.IDOf(f),
			[]any{"franchiseCorpNum", f.FranchiseCorpNum, "digestEntries", len(f.Digest.Entries)}, alert.IDOf(f), f.FranchiseCorpNum}, nil
	}
	if f.ItemKey != "" {
		return content{blockkit.Alert(f), "itemKey " + f.ItemKey,
			[]any{"itemKey", f.ItemKey, "franchiseCorpNum", f.FranchiseCorpNum, "mid", f.MID}, "", f.FranchiseCorpNum}, nil
	}
	var a events.CloudWatchAlarmSNSPayload
	if json.Unmarshal([]byte(message), &a) == nil && a.AlarmName != "" {
		return content{blockkit.Alarm(a), "alarm " + a.AlarmName,
			[]any{"alarmName", a.AlarmName, "alarmState", a.NewStateValue},
			"alarm/" + a.AlarmName + "/" + a.NewStateValue + "/" + a.StateChangeTime, ""}, nil
	}
	return content{}, errors.New("neither an NTS-failure alert (no itemKey) nor a CloudWatch alarm (no AlarmName)")
}
