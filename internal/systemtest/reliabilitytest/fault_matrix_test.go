//go:build integration

package reliabilitytest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go/logging"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/faultproxy"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

// The webhook's UpdateItem calls, told apart by the request body: the state
// write names receivedAt; of the others, the claim sets the lease's end, the
// mark records the message id and the time.
func isApply(body []byte) bool { return strings.Contains(string(body), `"receivedAt"`) }
func isClaim(body []byte) bool {
	return !isApply(body) && strings.Contains(string(body), `"alertLeaseUntil"`) && strings.Contains(string(body), "ALL_NEW")
}
func isMark(body []byte) bool {
	return !isApply(body) && strings.Contains(string(body), `"alertSentAt"`)
}

// The SDK tries a DynamoDB call 4 times and an SNS call 3 times by default:
// a fault on every attempt fails the call.
const (
	dynamoAttempts = 4
	snsAttempts    = 3
)

func TestFaultMatrixLosesNoStateAndNoAlert(t *testing.T) {
	dynamo := func(match func([]byte) bool) faultproxy.Rule {
		return faultproxy.Rule{Service: "dynamodb", Operation: "UpdateItem", Match: match}
	}
	publish := faultproxy.Rule{Service: "sns", Operation: "Publish"}
	with := func(r faultproxy.Rule, a faultproxy.Action, count int) *faultproxy.Rule {
		r.Action, r.Count, r.Hold = a, count, time.Minute
		return &r
	}
	// A new 305's state write takes the alert's lease itself, so the claim
	// call is made only for an alert a delivery could not publish: the claim
	// cases first fail the 305's own publish (answered 503), so that
	// POPBiLL's retry claims the alert, under the fault.
	claimAfterFailedPublish := with(publish, faultproxy.ServerError, snsAttempts)
	cases := []struct {
		name string
		rule *faultproxy.Rule
		// before is a fault armed with rule that sets the scene for it.
		before *faultproxy.Rule
		crash  int // sends that die right after the state write
		// published is the number of publishes the subscriber receives:
		// 1, or 2 only in a window docs/reliability.md names.
		published int
		window    string
		// bySweeper is how many of them the sweeper published: 0 where
		// POPBiLL's retries suffice, so that a delivery path that leaves its
		// alert to the sweeper without need fails the case.
		bySweeper int
	}{
		{name: "apply 500 once (the SDK retries)", rule: with(dynamo(isApply), faultproxy.ServerError, 1), published: 1},
		{name: "apply 500 on every SDK attempt", rule: with(dynamo(isApply), faultproxy.ServerError, dynamoAttempts), published: 1},
		{name: "apply throttled on every SDK attempt", rule: with(dynamo(isApply), faultproxy.Throttle, dynamoAttempts), published: 1},
		{name: "apply answer lost after commit", rule: with(dynamo(isApply), faultproxy.DropAfterCommit, 1), published: 1},
		{name: "apply answer after the timeout", rule: with(dynamo(isApply), faultproxy.Hold, 1), published: 1},
		{name: "claim 500 once (the SDK retries)", before: claimAfterFailedPublish, rule: with(dynamo(isClaim), faultproxy.ServerError, 1), published: 1},
		{name: "claim 500 on every SDK attempt", before: claimAfterFailedPublish, rule: with(dynamo(isClaim), faultproxy.ServerError, dynamoAttempts), published: 1},
		{name: "claim throttled on every SDK attempt", before: claimAfterFailedPublish, rule: with(dynamo(isClaim), faultproxy.Throttle, dynamoAttempts), published: 1},
		{name: "claim answer lost after commit", before: claimAfterFailedPublish, rule: with(dynamo(isClaim), faultproxy.DropAfterCommit, 1), published: 1},
		{name: "claim answer after the timeout", before: claimAfterFailedPublish, rule: with(dynamo(isClaim), faultproxy.Hold, 1), published: 1},
		{name: "mark 500 once (the SDK retries)", rule: with(dynamo(isMark), faultproxy.ServerError, 1), published: 1},
		{name: "mark 500 on every SDK attempt", rule: with(dynamo(isMark), faultproxy.ServerError, dynamoAttempts), published: 2, bySweeper: 1,
			window: "a: published, not recorded; the sweeper publishes again after the lease"},
		{name: "mark throttled on every SDK attempt", rule: with(dynamo(isMark), faultproxy.Throttle, dynamoAttempts), published: 2, bySweeper: 1,
			window: "a: published, not recorded; the sweeper publishes again after the lease"},
		{name: "mark answer lost after commit", rule: with(dynamo(isMark), faultproxy.DropAfterCommit, 1), published: 1},
		{name: "mark answer after the timeout", rule: with(dynamo(isMark), faultproxy.Hold, 1), published: 1},
		{name: "SNS 500 once (the SDK retries)", rule: with(publish, faultproxy.ServerError, 1), published: 1},
		{name: "SNS 500 on every SDK attempt", rule: with(publish, faultproxy.ServerError, snsAttempts), published: 1},
		{name: "SNS throttled on every SDK attempt", rule: with(publish, faultproxy.Throttle, snsAttempts), published: 1},
		{name: "SNS answer lost after commit", rule: with(publish, faultproxy.DropAfterCommit, 1), published: 2,
			window: "b: SNS accepted it, its answer was lost, the SDK published again"},
		{name: "SNS answer after the timeout", rule: with(publish, faultproxy.Hold, 1), published: 2,
			window: "b: SNS accepted it after the cut; POPBiLL's retry published again"},
		{name: "crash between write and publish, once", crash: 1, published: 1},
		{name: "crash between write and publish, on every send", crash: popbillSends, published: 1, bySweeper: 1},
	}
	var mu sync.Mutex
	report := make([]string, len(cases))
	t.Cleanup(func() { t.Logf("fault matrix (%d cases):\n%s", len(cases), strings.Join(report, "\n")) })
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, table := motostack.StateTable(t)
			sub := mototest.Topic(t)
			var armed atomic.Bool
			var rules []faultproxy.Rule
			for _, rule := range []*faultproxy.Rule{tc.before, tc.rule} {
				if rule == nil {
					continue
				}
				r := *rule
				match := r.Match
				r.Match = func(b []byte) bool { return armed.Load() && (match == nil || match(b)) }
				rules = append(rules, r)
			}
			proxy, err := faultproxy.New(mototest.Endpoint(t), uint64(i+1), rules...)
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			cfg := mototest.Config(t)
			// A dropped answer makes the SDK warn of a checksum it could not read,
			// once per fault: expected here, and noise in make test's output.
			cfg.Logger = logging.Nop{}
			viaProxy := func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(proxy.URL()) }
			db := dynamodb.NewFromConfig(cfg, viaProxy)
			publisher := snsalert.New(sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(proxy.URL()) }), sub.TopicARN)
			c := &clock{}
			crashed := 0
			c.stores = &crashing{stores: dynamostore.NewQueues(db, db, table), armed: func() bool {
				if armed.Load() && crashed < tc.crash {
					crashed++
					return true
				}
				return false
			}}
			logs := &strings.Builder{}
			pb := &popbill{h: newHandler(t, c, publisher, logs), clock: c}

			key := itemKey(i, 1)
			if status, _ := pb.deliver(request(key, 300, "mid-300"), true); status != 200 {
				t.Fatalf("the 300 before any fault was answered %d", status)
			}
			armed.Store(true)
			status, sends := pb.deliver(request(key, 305, "mid-305"), true)
			armed.Store(false)
			injected := len(proxy.Injected()) + crashed
			if injected == 0 {
				t.Fatalf("no fault was injected: the case tests nothing (log: %s)", logs)
			}
			rep := sweep(t, c, publisher)

			it, found, err := dynamostore.NewReader(db, table).Get(context.Background(), key)
			if err != nil || !found {
				t.Fatalf("Get = %v, %v", found, err)
			}
			envs := sub.Drain(t)
			ids := map[string]int{}
			for _, e := range envs {
				ids[e.MessageAttributes["alertId"].Value]++
			}
			if it.Event.StateCode != 305 {
				t.Errorf("stored stateCode %d, want 305: a state was lost", it.Event.StateCode)
			}
			if status == 200 && it.AlertStatus != state.AlertSent {
				t.Errorf("POPBiLL was told 200 and the sweeper ran, but the alert is %q, not sent", it.AlertStatus)
			}
			if it.AlertStatus != state.AlertSent || it.DueQueue != "" {
				t.Errorf("after the sweeper the alert is %q in queue %q, want sent and out of every queue", it.AlertStatus, it.DueQueue)
			}
			if len(ids) != 1 || ids[key+"/failure"] == 0 {
				t.Errorf("alert ids published %v, want only %s/failure", ids, key)
			}
			if len(envs) != tc.published {
				t.Errorf("%d publishes reached the subscriber, want %d (%s); log: %s", len(envs), tc.published, or(tc.window, "exactly once"), logs)
			}
			mu.Lock()
			defer mu.Unlock()
			if rep.Published != tc.bySweeper {
				t.Errorf("the sweeper published %d, want %d", rep.Published, tc.bySweeper)
			}
			report[i] = fmt.Sprintf("%-52s faults %d  sends %d  last answer %3d  sweeper published %d  publishes %d%s",
				tc.name, injected, sends, status, rep.Published, len(envs), bracket(tc.window))
		})
	}
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func bracket(s string) string {
	if s == "" {
		return ""
	}
	return "  (window " + s + ")"
}

// crashing stops the invocation (the process dies) right after Apply while
// armed() says so: no claim, no publish, no answer, no log line.
type crashing struct {
	stores
	armed func() bool
	count atomic.Int64
}

func (c *crashing) Apply(ctx context.Context, r state.Delivery) (state.Result, error) {
	res, err := c.stores.Apply(ctx, r)
	if err == nil && res.AlertPending && c.armed() {
		c.count.Add(1)
		panic(crash{})
	}
	return res, err
}
