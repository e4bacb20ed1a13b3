//go:build integration

package webhook_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

var awsAdapterSet = adapters{"dynamodb-sns", awsAdapters}

func init() { adapterSets = append(adapterSets, awsAdapterSet) }

// awsAdapters are the production adapters on the real SDK against
// moto_server, with an SQS queue subscribed to the topic.
func awsAdapters(t testing.TB) (statetest.Adapter, alert.Publisher, func(testing.TB) []delivery) {
	t.Helper()
	client, table := motostack.StateTable(t)
	sub := mototest.Topic(t)
	store := struct {
		*dynamostore.Queues
		*dynamostore.Reader
	}{dynamostore.NewQueues(client, client, table), dynamostore.NewReader(client, table)}
	delivered := func(t testing.TB) []delivery {
		var out []delivery
		for _, env := range sub.Drain(t) {
			out = append(out, delivery{Message: env.Message, MessageId: env.MessageId, MessageAttributes: env.MessageAttributes})
		}
		return out
	}
	return store, snsalert.New(sub.SNS, sub.TopicARN), delivered
}

// BenchmarkHandleDynamoDB is the same path on the real SDK against moto_server:
// its figure is dominated by moto, not DynamoDB; it shows the SDK's overhead.
func BenchmarkHandleDynamoDB(b *testing.B) {
	e := envOn(awsAdapterSet)(b)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		resp, _ := e.h.Handle(ctx, request("mid", body(fmt.Sprintf("0221222%011d", i), 300, nil), nil))
		if resp.StatusCode != 200 {
			b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
	}
}
