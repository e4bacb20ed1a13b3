//go:build integration

package sweeper_test

import (
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

// The sweeper on DynamoDB with template.yaml's own table and due index, and
// SNS with an SQS queue subscribed, all on moto_server.
func init() {
	adapterSets = append(adapterSets, adapters{"dynamodb-sns", func(t *testing.T) (statetest.Adapter, alert.Publisher, func(t *testing.T) []alert.Failure) {
		client, table := motostack.StateTable(t)
		sub := mototest.Topic(t)
		store := struct {
			*dynamostore.Queues
			*dynamostore.Reader
		}{dynamostore.NewQueues(client, client, table), dynamostore.NewReader(client, table)}
		delivered := func(t *testing.T) []alert.Failure {
			var out []alert.Failure
			for _, env := range sub.Drain(t) {
				f, err := alert.Decode([]byte(env.Message))
				if err != nil {
					t.Fatalf("delivered message is not an alert: %v", err)
				}
				if env.MessageAttributes["alertId"].Value != alert.IDOf(f) {
					t.Errorf("alertId attribute %q, want %q", env.MessageAttributes["alertId"].Value, alert.IDOf(f))
				}
				out = append(out, f)
			}
			return out
		}
		return store, snsalert.New(sub.SNS, sub.TopicARN), delivered
	}})
}
