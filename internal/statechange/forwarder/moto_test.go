//go:build integration

package forwarder_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/localinfra"
	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange/eventstest"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange/forwarder"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange/streampoll"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/faultproxy"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/rietest"
)

// stack is template.yaml's state table (with its stream) and event bus on
// moto_server, and an SQS queue subscribed to the bus by the rule
// docs/events.md gives: what a partner's consumer receives.
type stack struct {
	table, bus string
	db         *dynamodb.Client
	streams    *dynamodbstreams.Client
	store      *dynamostore.Queues
	consumer   *eventstest.Queue
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	cfg := mototest.Config(t)
	tmpl, err := samtemplate.Load(filepath.Join(modroot.Dir(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	name := mototest.Name(t, "events")
	db := dynamodb.NewFromConfig(cfg)
	st, err := localinfra.Provision(ctx, tmpl, name, db, sns.NewFromConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	bus := eventbridge.NewFromConfig(cfg)
	if err := st.ProvisionBuses(ctx, tmpl, name, bus); err != nil {
		t.Fatal(err)
	}
	s := &stack{table: st.Refs["StateTable"], bus: st.Refs["EventBus"], db: db, streams: dynamodbstreams.NewFromConfig(cfg)}
	s.store = dynamostore.NewQueues(db, db, s.table)

	s.consumer = eventstest.Consumer(t, s.bus)
	return s
}

// received is what the consumer's queue got, in arrival order.
func (s *stack) received(t *testing.T) []statechange.Envelope {
	t.Helper()
	return s.consumer.Received(t)
}

func (s *stack) poller(t *testing.T, h streampoll.Handler) *streampoll.Poller {
	t.Helper()
	p, err := streampoll.New(context.Background(), s.db, s.streams, s.table, h)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// story writes what the webhook and the alert's lifecycle write, through the
// store they use, and returns the increases it made, as "itemKey:stateCode".
func (s *stack) story(t *testing.T, keyA, keyB string) []string {
	t.Helper()
	ctx := context.Background()
	apply := func(key string, code int, mid string) state.Result {
		t.Helper()
		res, err := s.store.Apply(ctx, statetest.Delivery(key, code, mid))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	apply(keyA, 300, "a-1")
	apply(keyB, 300, "b-1")
	apply(keyA, 300, "a-1") // POPBiLL's retry: a duplicate
	apply(keyB, 305, "b-2") // NTS rejected it: an alert is owed
	now := time.Now()
	if c, err := s.store.ClaimAlert(ctx, keyB, "req-1", now, time.Minute); err != nil || c.Status != state.Claimed {
		t.Fatalf("claim = %v, %v", c, err)
	}
	if err := s.store.MarkAlertSent(ctx, keyB, "req-1", "sns-1", now); err != nil {
		t.Fatal(err)
	}
	apply(keyA, 304, "a-2")
	apply(keyA, 300, "a-3") // a manual re-run of the Issue event: stale
	apply(keyB, 304, "b-3") // lower than 305: stale
	return []string{keyA + ":300", keyB + ":300", keyB + ":305", keyA + ":304"}
}

func summary(es []statechange.Envelope) []string {
	var out []string
	for _, e := range es {
		s := fmt.Sprintf("%s:%d", e.Detail.ItemKey, e.Detail.StateCode)
		out = append(out, s)
	}
	return out
}

// perKey is each cashbill's events in arrival order.
func perKey(xs []string) map[string][]string {
	out := map[string][]string{}
	for _, x := range xs {
		out[x[:18]] = append(out[x[:18]], x[19:])
	}
	return out
}

// TestStreamToBusToQueue: the state table's stream, read as Lambda reads it,
// through the built forwarder under the Lambda emulator, puts on the bus one
// event per increase and none for a duplicate, a stale event or the alert's
// lifecycle; the queue a rule targets receives them, each cashbill's in
// stateCode order, with the previous state.
func TestStreamToBusToQueue(t *testing.T) {
	s := newStack(t)
	em := rietest.Start(t, rietest.Build(t, "EventForwarderFunction"), []string{
		"EVENT_BUS_NAME=" + s.bus, "AWS_ENDPOINT_URL=" + mototest.Endpoint(t), "AWS_REGION=" + mototest.Region,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_LAMBDA_LOG_FORMAT=JSON",
	})
	p := s.poller(t, func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		in, err := json.Marshal(ev)
		if err != nil {
			return events.DynamoDBEventResponse{}, err
		}
		var resp events.DynamoDBEventResponse
		err = json.Unmarshal(em.Invoke(t, in), &resp)
		return resp, err
	})
	keyA, keyB := statetest.ItemKey(), statetest.ItemKey()
	want := s.story(t, keyA, keyB)
	if _, err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := s.received(t)
	if g := summary(got); !slices.Equal(sorted(g), sorted(want)) {
		t.Fatalf("received %v, want one event per increase %v", g, want)
	}
	for key, codes := range perKey(summary(got)) {
		if !slices.IsSorted(codes) {
			t.Errorf("%s's events arrived as %v, not in stateCode order", key, codes)
		}
	}
	for _, e := range got {
		if e.Source != statechange.Source || e.DetailType != statechange.DetailType {
			t.Errorf("event %s / %s", e.Source, e.DetailType)
		}
		wantPrev := map[int]int{300: 0, 304: 300, 305: 300}[e.Detail.StateCode]
		if e.Detail.PreviousStateCode != wantPrev || e.Detail.MID == "" || e.Detail.ReceivedAt.IsZero() {
			t.Errorf("%s:%d has previousStateCode %d (want %d), mid %q, receivedAt %v",
				e.Detail.ItemKey, e.Detail.StateCode, e.Detail.PreviousStateCode, wantPrev, e.Detail.MID, e.Detail.ReceivedAt)
		}
	}

	// Nothing new: a second poll publishes nothing.
	if _, err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again := s.received(t); len(again) != 0 {
		t.Errorf("a poll with no new writes published %v", summary(again))
	}
}

// TestBusOutageLosesNothing: the bus answers 500 (past the SDK's retries),
// then recovers; every increase arrives, in order per cashbill, and the
// only extra deliveries are duplicates the consumer drops on (itemKey, stateCode).
func TestBusOutageLosesNothing(t *testing.T) {
	s := newStack(t)
	proxy, err := faultproxy.New(mototest.Endpoint(t), 1, faultproxy.Rule{Service: "events", Operation: "PutEvents", Action: faultproxy.ServerError, Count: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	cfg := mototest.Config(t)
	cfg.BaseEndpoint = aws.String(proxy.URL())
	f := forwarder.New(eventbridge.NewFromConfig(cfg), s.bus, slog.New(slog.DiscardHandler))
	p := s.poller(t, f.Handle)

	keyA, keyB := statetest.ItemKey(), statetest.ItemKey()
	want := s.story(t, keyA, keyB)
	// The SDK tries 3 times per call: the first poll fails, the second
	// meets one more 500 then goes through.
	for i := 0; i < 5; i++ {
		if _, err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(proxy.Injected()); n != 4 {
		t.Fatalf("%d faults injected, want 4", n)
	}
	got := summary(s.received(t))
	if d := dedupe(got); !slices.Equal(sorted(d), sorted(want)) {
		t.Fatalf("received %v (deduplicated %v), want every increase %v", got, d, want)
	}
	for key, codes := range perKey(dedupe(got)) {
		if !slices.IsSorted(codes) {
			t.Errorf("%s's events arrived as %v, not in stateCode order", key, codes)
		}
	}
}

// dedupe keeps the first of each (itemKey, stateCode), as a consumer does.
func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func sorted(xs []string) []string {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs
}
