//go:build integration

package reliabilitytest

import (
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go/logging"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/faultproxy"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

func TestStormOnDynamoDBAndSNSLosesNothing(t *testing.T) {
	_, table := motostack.StateTable(t)
	sub := mototest.Topic(t)
	var calm atomic.Bool
	on := func(match func([]byte) bool) func([]byte) bool {
		return func(b []byte) bool { return !calm.Load() && (match == nil || match(b)) }
	}
	const seed = 9
	rules := []faultproxy.Rule{
		// Probabilities per call; the first rule that fires wins.
		{Service: "sns", Operation: "Publish", Match: on(nil), Action: faultproxy.DropAfterCommit, Probability: 0.03},
		{Service: "sns", Operation: "Publish", Match: on(nil), Action: faultproxy.Hold, Probability: 0.01},
		{Service: "dynamodb", Operation: "UpdateItem", Match: on(isMark), Action: faultproxy.ServerError, Probability: 0.1},
		{Service: "sns", Operation: "Publish", Match: on(nil), Action: faultproxy.ServerError, Probability: 0.05},
		{Service: "sns", Operation: "Publish", Match: on(nil), Action: faultproxy.Throttle, Probability: 0.03},
		{Service: "dynamodb", Operation: "UpdateItem", Match: on(nil), Action: faultproxy.ServerError, Probability: 0.03},
		{Service: "dynamodb", Operation: "UpdateItem", Match: on(nil), Action: faultproxy.Throttle, Probability: 0.02},
		{Service: "dynamodb", Operation: "UpdateItem", Match: on(nil), Action: faultproxy.DropAfterCommit, Probability: 0.02},
		{Service: "dynamodb", Operation: "UpdateItem", Match: on(nil), Action: faultproxy.Hold, Probability: 0.002},
	}
	for i := range rules {
		rules[i].Hold = invocationTimeout * 2
	}
	proxy, err := faultproxy.New(mototest.Endpoint(t), seed, rules...)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	cfg := mototest.Config(t)
	// A dropped answer makes the SDK warn of a checksum it could not read,
	// once per fault: expected here, and noise in make test's output.
	cfg.Logger = logging.Nop{}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(proxy.URL()) })
	publisher := snsalert.New(sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(proxy.URL()) }), sub.TopicARN)
	windows := func() int {
		n := 0
		for _, in := range proxy.Injected() {
			// Every UpdateItem fault is counted: a mark's is not told apart here.
			if in.Service == "dynamodb" || in.Action == faultproxy.DropAfterCommit || in.Action == faultproxy.Hold {
				n++
			}
		}
		return n
	}
	target := stormTarget{
		clock: &clock{stores: dynamostore.NewQueues(db, db, table)}, publisher: publisher,
		published: func(t testing.TB) []string {
			var out []string
			for _, e := range sub.Drain(t) {
				out = append(out, e.MessageAttributes["alertId"].Value)
			}
			return out
		},
		faults:  func() int { return len(proxy.Injected()) },
		calm:    func() { calm.Store(true) },
		windows: windows,
		get:     dynamostore.NewReader(db, table).Get,
	}
	fig := storm(t, target, seed)
	t.Logf("storm, DynamoDB and SNS on moto_server through faultproxy: %s", fig)
}
