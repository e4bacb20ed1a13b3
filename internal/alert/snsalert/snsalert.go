// Package snsalert publishes alerts to an SNS topic: one message with a
// per-protocol body (JSON for machines, readable text for email) and message
// attributes that subscription filter policies can route on.
package snsalert

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
)

// API is the one SNS call the publisher makes; template.yaml grants exactly it.
type API interface {
	Publish(ctx context.Context, params *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Publisher implements alert.Publisher on one topic.
type Publisher struct {
	api      API
	topicARN string
}

var _ alert.Publisher = (*Publisher)(nil)

// New returns a publisher to topicARN.
func New(api API, topicARN string) *Publisher { return &Publisher{api: api, topicARN: topicARN} }

// Publish sends f and returns SNS's message id.
func (p *Publisher) Publish(ctx context.Context, f alert.Failure) (string, error) {
	msg, err := message(f)
	if err != nil {
		return "", err
	}
	attrs := map[string]types.MessageAttributeValue{}
	for k, v := range Attributes(f) {
		if v == "" {
			continue // SNS refuses empty attribute values
		}
		attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	out, err := p.api.Publish(ctx, &sns.PublishInput{
		TopicArn:          aws.String(p.topicARN),
		Subject:           aws.String(alert.Subject(f)),
		Message:           aws.String(msg),
		MessageStructure:  aws.String("json"),
		MessageAttributes: attrs,
	})
	if err != nil {
		return "", fmt.Errorf("snsalert: publish %s: %w", f.ItemKey, err)
	}
	return aws.ToString(out.MessageId), nil
}
