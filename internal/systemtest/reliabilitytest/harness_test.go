package reliabilitytest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

const credential = "popbill:local-secret"

// POPBiLL's habits: a failed send (anything but 200) is sent again up to 3
// more times, 5 minutes apart.
const (
	popbillSends    = 4
	popbillInterval = 5 * time.Minute
	// invocationTimeout stands for the Lambda timeout of one send: the
	// handler's AWS calls stop a tenth before it (case 7). Long enough that
	// only an injected hold meets it on a loaded make test (a cut publish
	// that SNS accepted is a real duplicate, window b).
	invocationTimeout = 6 * time.Second
)

// stores is what the handler and the sweeper need of a store.
type stores interface {
	state.Store
	state.Queues
}

// clock is a virtual clock for the store: every time the handler and the
// sweeper hand the store (the delivery's receipt, a claim's now, a mark's
// time) is moved by offset. POPBiLL's 5-minute retry interval and "the
// sweeper runs after the lease expired" are then an offset, not a wait. The
// handler's own clock is only used for its log's latency.
type clock struct {
	stores
	offset atomic.Int64
}

func (c *clock) shift() time.Duration     { return time.Duration(c.offset.Load()) }
func (c *clock) advance(d time.Duration)  { c.offset.Add(int64(d)) }
func (c *clock) now() time.Time           { return time.Now().Add(c.shift()) }
func (c *clock) at(t time.Time) time.Time { return t.Add(c.shift()) }
func (c *clock) Apply(ctx context.Context, r state.Delivery) (state.Result, error) {
	r.ReceivedAt = c.at(r.ReceivedAt)
	return c.stores.Apply(ctx, r)
}
func (c *clock) ClaimAlert(ctx context.Context, itemKey, owner string, now time.Time, lease time.Duration) (state.Claim, error) {
	return c.stores.ClaimAlert(ctx, itemKey, owner, c.at(now), lease)
}
func (c *clock) MarkAlertSent(ctx context.Context, itemKey, owner, messageID string, at time.Time) error {
	return c.stores.MarkAlertSent(ctx, itemKey, owner, messageID, c.at(at))
}

// crash is the panic value of a process that died between two calls.
type crash struct{}

// popbill sends one delivery the way POPBiLL does: again after anything but
// 200, up to popbillSends in all, popbillInterval apart on the store's clock.
type popbill struct {
	h     *webhook.Handler
	clock *clock
	// crashes counts sends whose invocation died without an answer.
	crashes atomic.Int64
}

// deliver returns the last answer's status (0: the invocation died) and the
// number of sends.
func (p *popbill) deliver(req events.APIGatewayV2HTTPRequest, advance bool) (status, sends int) {
	for sends < popbillSends {
		if sends > 0 && advance {
			p.clock.advance(popbillInterval)
		}
		sends++
		if status = p.send(req); status == 200 {
			return status, sends
		}
	}
	return status, sends
}

func (p *popbill) send(req events.APIGatewayV2HTTPRequest) (status int) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(crash); !ok {
				panic(r)
			}
			p.crashes.Add(1)
			status = 0
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), invocationTimeout)
	defer cancel()
	resp, err := p.h.Handle(ctx, req)
	if err != nil {
		return 0
	}
	return resp.StatusCode
}

// sweep runs the sweeper once with the clock past every lease and POPBiLL's
// last retry, as the 5-minute schedule would.
func sweep(t testing.TB, c *clock, publisher alert.Publisher) sweeper.Report {
	t.Helper()
	c.advance(popbillInterval)
	sw := sweeper.New(c, outbox.New(c, publisher, nil, outbox.Settings{}), sweeper.Settings{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	rep, err := sw.Run(context.Background(), c.now())
	if err != nil && !errors.Is(err, sweeper.ErrFailed) {
		t.Fatal(err)
	}
	return rep
}

func newHandler(t testing.TB, store state.Store, publisher alert.Publisher, log io.Writer) *webhook.Handler {
	t.Helper()
	v, err := auth.New(auth.Basic, credential)
	if err != nil {
		t.Fatal(err)
	}
	return webhook.New(webhook.Rules{Auth: v}, store, outbox.New(store, publisher, nil, outbox.Settings{}), slog.New(slog.NewJSONHandler(log, nil)))
}

// itemKey is the n-th cashbill of a run: 18 digits.
func itemKey(run, n int) string { return fmt.Sprintf("0251127%05d%06d", run%100000, n) }

// request is the HTTP API event POPBiLL's delivery of stateCode for itemKey
// becomes; the same mid on every copy, as on POPBiLL's retries.
func request(itemKey string, stateCode int, mid string) events.APIGatewayV2HTTPRequest {
	ev := map[string]any{
		"corpNum": "6798700433", "franchiseCorpNum": "6798700433", "itemKey": itemKey,
		"tradeDate": "20221221", "confirmNum": "TB0001146", "stateCode": stateCode,
		"stateDT": "20221221161912", "issueDT": "20221221161912", "mgtKey": "20221221-001",
		"eventDT": "20221221161912", "eventType": "Issue", "interOPYN": true,
	}
	if stateCode > 300 {
		ev["eventType"], ev["ntssendDT"], ev["ntsresultDT"], ev["eventDT"] = "NTS", "20221222000000", "20221222100033", "20221222100033"
		ev["ntsresultCode"] = "0000"
		if stateCode == 305 {
			ev["ntsresultCode"] = "TS4"
		}
	}
	body, _ := json.Marshal(ev)
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /pbconnect", RawPath: "/pbconnect", Body: string(body),
		Headers: map[string]string{
			"authorization":        "Basic " + base64.StdEncoding.EncodeToString([]byte(credential)),
			"content-type":         "application/json",
			"pb-webhook-type":      "CASHBILL.STATE",
			"pb-webhook-eventtype": ev["eventType"].(string),
			"pb-webhook-mid":       mid,
			"pb-webhook-corpnum":   "6798700433",
		},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-" + mid,
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/pbconnect", SourceIP: "54.180.62.221"},
		},
	}
}
