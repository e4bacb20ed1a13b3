// Package eventstest subscribes an SQS queue to an event bus on moto_server
// with the rule docs/events.md gives, and reads back what a partner's
// consumer would receive.
package eventstest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/statechange"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

// Pattern is the documented rule's event pattern: every state change.
const Pattern = `{"source":["` + statechange.Source + `"],"detail-type":["` + statechange.DetailType + `"]}`

// Queue is an SQS queue a rule on the bus targets.
type Queue struct {
	sqs *sqs.Client
	url string
}

// Consumer creates a queue and a rule on bus that targets it.
func Consumer(tb testing.TB, bus string) *Queue {
	tb.Helper()
	ctx := context.Background()
	cfg := mototest.Config(tb)
	q := &Queue{sqs: sqs.NewFromConfig(cfg)}
	out, err := q.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(mototest.Name(tb, "consumer"))})
	if err != nil {
		tb.Fatalf("create queue on moto: %v", err)
	}
	q.url = aws.ToString(out.QueueUrl)
	attrs, err := q.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		tb.Fatalf("queue attributes on moto: %v", err)
	}
	eb := eventbridge.NewFromConfig(cfg)
	rule := aws.String("cashbill-state-changed")
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: rule, EventBusName: aws.String(bus), EventPattern: aws.String(Pattern)}); err != nil {
		tb.Fatalf("put rule on moto: %v", err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: rule, EventBusName: aws.String(bus), Targets: []ebtypes.Target{
		{Id: aws.String("consumer"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])},
	}}); err != nil {
		tb.Fatalf("put targets on moto: %v", err)
	}
	return q
}

// Received drains the queue: the events in the order they arrived.
func (q *Queue) Received(tb testing.TB) []statechange.Envelope {
	tb.Helper()
	ctx := context.Background()
	var out []statechange.Envelope
	for {
		res, err := q.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.url), MaxNumberOfMessages: 10})
		if err != nil {
			tb.Fatalf("receive from moto queue: %v", err)
		}
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			var e statechange.Envelope
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
				tb.Fatalf("message is not an EventBridge event: %v: %s", err, aws.ToString(m.Body))
			}
			out = append(out, e)
			if _, err := q.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				tb.Fatalf("delete from moto queue: %v", err)
			}
		}
	}
}

// Await drains the queue until it has received n events or timeout passed.
func (q *Queue) Await(tb testing.TB, n int, timeout time.Duration) []statechange.Envelope {
	tb.Helper()
	var out []statechange.Envelope
	for deadline := time.Now().Add(timeout); len(out) < n && time.Now().Before(deadline); {
		out = append(out, q.Received(tb)...)
		if len(out) < n {
			time.Sleep(100 * time.Millisecond)
		}
	}
	return out
}
