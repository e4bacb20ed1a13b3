//go:build integration

package slacknotify_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// recordingSNS passes publishes to moto's SNS and keeps what was sent, so the
// test can read the email variant that no moto subscriber receives.
type recordingSNS struct {
	snsalert.API
	mu   sync.Mutex
	sent []*sns.PublishInput
}

func (r *recordingSNS) Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error) {
	r.mu.Lock()
	r.sent = append(r.sent, in)
	r.mu.Unlock()
	return r.API.Publish(ctx, in, opts...)
}

// TestNTSFailureReachesSlackOnceAndEmailReadsAsSpecified runs the whole alert
// path: a 305 delivered (twice) to the webhook, published to SNS on moto,
// received by an SQS queue subscribed to the topic, its SNS envelope fed to the
// notifier as the SNS event Lambda would get, posted to a stand-in for Slack.
func TestNTSFailureReachesSlackOnceAndEmailReadsAsSpecified(t *testing.T) {
	client, table := mototest.Table(t, dynamostore.KeyAttribute)
	sub := mototest.Topic(t)
	rec := &recordingSNS{API: sub.SNS}
	v, err := auth.New(auth.APIKey, "TESTAPIKEY")
	if err != nil {
		t.Fatal(err)
	}
	h := webhook.New(webhook.Rules{Auth: v}, dynamostore.New(client, table), outbox.New(dynamostore.New(client, table), snsalert.New(rec, sub.TopicARN), nil, outbox.Settings{}), slog.New(slog.NewJSONHandler(io.Discard, nil)))

	const itemKey = "022122116191200305"
	body := `{"corpNum":"6798700433","franchiseCorpNum":"6798700433","itemKey":"` + itemKey + `","tradeDate":"20221221","confirmNum":"TB0001146","ntssendDT":"20221222000000","ntsresultDT":"20221222100033","ntsresultCode":"TS4","stateCode":305,"stateDT":"20221222100033","issueDT":"20221221161912","mgtKey":"20221221-001","eventDT":"20221222100033","eventType":"NTS","interOPYN":true}`
	for _, mid := range []string{"016120000002-1777d55c2c41492ab06826d", "016120000002-retry"} {
		resp, _ := h.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
			Headers: map[string]string{"x-api-key": "TESTAPIKEY", "pb-webhook-type": "CASHBILL.STATE", "pb-webhook-mid": mid},
			Body:    body,
		})
		if resp.StatusCode != 200 {
			t.Fatalf("webhook answered %d %q", resp.StatusCode, resp.Body)
		}
	}

	var mu sync.Mutex
	var posts []string
	slackServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, string(b))
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	defer slackServer.Close()
	n := slacknotify.NewNotifier(slacknotify.Config{WebhookURL: slackServer.URL, Retry: slacknotify.DefaultRetry()}, nil, slacknotify.NewMemoryLedger(), slog.New(slog.NewJSONHandler(io.Discard, nil)))

	envelopes := sub.Drain(t)
	if len(envelopes) != 1 {
		t.Fatalf("%d notifications reached the subscribed queue, want 1", len(envelopes))
	}
	for _, env := range envelopes {
		ev := events.SNSEvent{Records: []events.SNSEventRecord{{
			EventSource: "aws:sns", EventVersion: "1.0",
			SNS: events.SNSEntity{
				Type: env.Type, MessageID: env.MessageId, TopicArn: env.TopicArn, Subject: env.Subject,
				Message: env.Message, Timestamp: time.Now().UTC(), MessageAttributes: map[string]any{},
			},
		}}}
		for k, a := range env.MessageAttributes {
			ev.Records[0].SNS.MessageAttributes[k] = map[string]any{"Type": a.Type, "Value": a.Value}
		}
		if err := n.Handle(context.Background(), ev); err != nil {
			t.Fatalf("notifier: %v", err)
		}
	}
	if len(posts) != 1 || !strings.Contains(posts[0], itemKey) || !strings.Contains(posts[0], "TS4") {
		t.Fatalf("Slack received %d messages, want exactly 1 carrying itemKey %s and TS4: %q", len(posts), itemKey, posts)
	}

	if len(rec.sent) != 1 {
		t.Fatalf("%d publishes, want 1", len(rec.sent))
	}
	var variants map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(rec.sent[0].Message)), &variants); err != nil || aws.ToString(rec.sent[0].MessageStructure) != "json" {
		t.Fatalf("publish is not a per-protocol JSON message: %v", err)
	}
	var f alert.Failure
	if err := json.Unmarshal([]byte(variants["default"]), &f); err != nil || f.ItemKey != itemKey {
		t.Errorf("default variant is not the JSON alert: %q", variants["default"])
	}
	email := variants["email"]
	if email != alert.EmailText(f) {
		t.Errorf("email variant is not the rendered email text")
	}
	for _, want := range []string{"679-87-00433", "20221221-001", itemKey, "TB0001146", "2022-12-21", "TS4", "amount error", "2022-12-22 10:00:33 KST", "POPBiLL"} {
		if !strings.Contains(email, want) {
			t.Errorf("email does not mention %q:\n%s", want, email)
		}
	}
	if subj := aws.ToString(rec.sent[0].Subject); !strings.HasPrefix(subj, "679-87-00433 20221221-001") || len(subj) > 100 {
		t.Errorf("subject %q: want it to start with the business and mgtKey, within 100 characters", subj)
	}
}
