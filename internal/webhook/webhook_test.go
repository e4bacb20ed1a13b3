package webhook_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/alerttest"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

const credential = "popbill:local-secret"

// env is a handler on one set of adapters (see adapterSets): the embedded
// store and the console publisher, or, with the integration tag, the real SDK
// against moto_server with an SQS queue subscribed to the topic, as in production.
type env struct {
	h         *webhook.Handler
	store     statetest.Adapter
	publisher alert.Publisher
	delivered func(testing.TB) []delivery
	logs      *lockedBuffer
	// publishFailures makes the next N publishes fail before reaching SNS.
	publishFailures int
	mu              sync.Mutex
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON log lines written so far.
func (b *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// faultyPublisher fails while env.publishFailures is positive.
type faultyPublisher struct {
	env  *env
	next alert.Publisher
}

func (p faultyPublisher) Publish(ctx context.Context, f alert.Failure) (string, error) {
	p.env.mu.Lock()
	fail := p.env.publishFailures > 0
	if fail {
		p.env.publishFailures--
	}
	p.env.mu.Unlock()
	if fail {
		return "", errors.New("injected: SNS unavailable")
	}
	return p.next.Publish(ctx, f)
}

type option func(*webhook.Rules, *env)

// delivery is one alert as its subscriber received it.
type delivery struct {
	// Message is the alert's JSON, as machine subscribers get it.
	Message   string
	MessageId string
	// MessageAttributes are SNS's, nil for adapters that have none.
	MessageAttributes map[string]struct{ Type, Value string }
}

// adapters is a set of port adapters the handler spec runs on.
type adapters struct {
	name string
	// open returns a fresh store, a publisher and what its subscribers received.
	open func(t testing.TB) (statetest.Adapter, alert.Publisher, func(testing.TB) []delivery)
}

// adapterSets are the sets every spec test runs on. The integration tag adds
// DynamoDB and SNS (webhook_integration_test.go).
var adapterSets = []adapters{{"bbolt-console", localAdapters}}

func localAdapters(t testing.TB) (statetest.Adapter, alert.Publisher, func(testing.TB) []delivery) {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.NotDurable())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	rec := &alerttest.Recorder{Next: consolealert.New(io.Discard)}
	return store, rec, func(testing.TB) []delivery {
		var out []delivery
		for _, p := range rec.Drain() {
			out = append(out, delivery{Message: string(alert.Encode(p.Failure)), MessageId: p.MessageID})
		}
		return out
	}
}

// newEnvFunc builds an env on one adapter set; spec tests take it as newEnv.
type newEnvFunc func(t testing.TB, opts ...option) *env

// spec runs test once on every adapter set.
func spec(t *testing.T, test func(t *testing.T, newEnv newEnvFunc)) {
	for _, set := range adapterSets {
		t.Run(set.name, func(t *testing.T) { test(t, envOn(set)) })
	}
}

func envOn(set adapters) newEnvFunc {
	return func(t testing.TB, opts ...option) *env {
		t.Helper()
		e := &env{logs: &lockedBuffer{}}
		e.store, e.publisher, e.delivered = set.open(t)
		v, err := auth.New(auth.Basic, credential)
		if err != nil {
			t.Fatal(err)
		}
		rules := webhook.Rules{Auth: v}
		for _, o := range opts {
			o(&rules, e)
		}
		e.h = webhook.New(rules, e.store, outbox.New(e.store, faultyPublisher{env: e, next: e.publisher}, nil, outbox.Settings{}), slog.New(slog.NewJSONHandler(e.logs, nil)))
		return e
	}
}

// body is a POPBiLL event body; fields override or (with nil) delete the defaults.
func body(itemKey string, stateCode any, fields map[string]any) string {
	m := map[string]any{
		"corpNum": "6798700433", "franchiseCorpNum": "6798700433", "itemKey": itemKey,
		"tradeDate": "20221221", "confirmNum": "TB0001146", "stateCode": stateCode,
		"stateDT": "20221221161912", "issueDT": "20221221161912", "mgtKey": "20221221-001",
		"eventDT": "20221221161912", "eventType": "Issue", "interOPYN": true,
	}
	if fmt.Sprint(stateCode) != "300" {
		m["eventType"], m["ntssendDT"], m["ntsresultDT"], m["eventDT"] = "NTS", "20221222000000", "20221222100033", "20221222100033"
		m["ntsresultCode"] = "0000"
		if fmt.Sprint(stateCode) == "305" {
			m["ntsresultCode"] = "TS4"
		}
	}
	for k, v := range fields {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// request is an HTTP API v2 event as API Gateway sends it for POPBiLL.
func request(mid, body string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	var ev struct{ EventType string }
	_ = json.Unmarshal([]byte(body), &ev)
	h := map[string]string{
		"authorization":        "Basic " + base64.StdEncoding.EncodeToString([]byte(credential)),
		"content-type":         "application/json",
		"pb-webhook-type":      "CASHBILL.STATE",
		"pb-webhook-eventtype": ev.EventType,
		"pb-webhook-mid":       mid,
		"pb-webhook-corpnum":   "6798700433",
	}
	for k, v := range headers {
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /pbconnect", RawPath: "/pbconnect", Headers: h, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-" + mid,
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/pbconnect", SourceIP: "54.180.62.221"},
		},
	}
}

func (e *env) send(t *testing.T, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := e.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned an error (API Gateway would answer its own 500): %v", err)
	}
	return resp
}

func (e *env) stored(t *testing.T, itemKey string) (state.Item, bool) {
	t.Helper()
	it, ok, err := e.store.Get(context.Background(), itemKey)
	if err != nil {
		t.Fatal(err)
	}
	return it, ok
}

func (e *env) lastOutcome(t *testing.T) string {
	t.Helper()
	lines := e.logs.lines(t)
	if len(lines) == 0 {
		t.Fatal("no log line written")
	}
	o, _ := lines[len(lines)-1]["outcome"].(string)
	return o
}

func wantOK(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	if resp.StatusCode != 200 || resp.Body != webhook.OK || resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("response %d %q %v, want 200 %s application/json", resp.StatusCode, resp.Body, resp.Headers, webhook.OK)
	}
}

func TestDeliveriesAreStoredOnlyWhenTheStateIncreases(t *testing.T) {
	spec(t, deliveriesAreStoredOnlyWhenTheStateIncreases)
}

func deliveriesAreStoredOnlyWhenTheStateIncreases(t *testing.T, newEnv newEnvFunc) {
	type delivery struct {
		stateCode any
		outcome   string
	}
	cases := []struct {
		name       string
		deliveries []delivery
		final      int
	}{
		{"issue 300 then NTS 304 both stored", []delivery{{300, "stored"}, {304, "stored"}}, 304},
		{"a late 300 after 304 is acknowledged and ignored", []delivery{{304, "stored"}, {300, "stale"}}, 304},
		{"an exact duplicate is acknowledged", []delivery{{300, "stored"}, {300, "duplicate"}}, 300},
		{"stateCode as a string is the same state", []delivery{{300, "stored"}, {"304", "stored"}, {304, "duplicate"}}, 304},
		{"an unknown stateCode is stored like any other", []delivery{{300, "stored"}, {399, "stored"}}, 399},
	}
	e := newEnv(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("0221221161912%05d", i)
			for j, d := range tc.deliveries {
				wantOK(t, e.send(t, request(fmt.Sprintf("mid-%d-%d", i, j), body(key, d.stateCode, nil), nil)))
				if got := e.lastOutcome(t); got != d.outcome {
					t.Errorf("delivery %d (stateCode %v): outcome %q, want %q", j, d.stateCode, got, d.outcome)
				}
			}
			it, ok := e.stored(t, key)
			if !ok || it.Event.StateCode != tc.final {
				t.Errorf("stored stateCode %d (found %v), want %d", it.Event.StateCode, ok, tc.final)
			}
		})
	}
	if n := len(e.delivered(t)); n != 0 {
		t.Errorf("%d alerts published without a 305", n)
	}
}

func TestStoredItemKeepsTheDeliveryAsReceived(t *testing.T) {
	spec(t, storedItemKeepsTheDeliveryAsReceived)
}

func storedItemKeepsTheDeliveryAsReceived(t *testing.T, newEnv newEnvFunc) {
	e := newEnv(t)
	b := body("022122116191200077", 304, map[string]any{"stateMemo": "kept", "ntsresultMessage": "also kept"})
	wantOK(t, e.send(t, request("mid-raw", b, nil)))
	it, ok := e.stored(t, "022122116191200077")
	if !ok {
		t.Fatal("not stored")
	}
	// The event's fields, and the body's other fields beside them.
	if string(it.Extra) != `{"ntsresultMessage":"also kept","stateMemo":"kept"}` || it.MID != "mid-raw" || it.ReceivedAt.IsZero() {
		t.Errorf("stored extra %s mid %q receivedAt %v; want the fields the event does not name, mid-raw and a time", it.Extra, it.MID, it.ReceivedAt)
	}
	if it.Event.NTSResultCode != "0000" || it.Event.MgtKey != "20221221-001" || it.Event.FranchiseCorpNum != "6798700433" {
		t.Errorf("fields not stored under POPBiLL's names: %+v", it.Event)
	}
}

func TestNTSFailureIsAlertedExactlyOnce(t *testing.T) { spec(t, nTSFailureIsAlertedExactlyOnce) }

func nTSFailureIsAlertedExactlyOnce(t *testing.T, newEnv newEnvFunc) {
	e := newEnv(t)
	const key = "022122116191200305"
	b := body(key, 305, nil)
	wantOK(t, e.send(t, request("mid-first", b, nil)))
	// POPBiLL's retries and manual re-runs, some with new MIDs, some at once.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wantOK(t, e.send(t, request(fmt.Sprintf("mid-again-%d", i%3), b, nil)))
		}()
	}
	wg.Wait()
	wantOK(t, e.send(t, request("mid-late-300", body(key, 300, nil), nil)))

	got := e.delivered(t)
	if len(got) != 1 {
		t.Fatalf("%d alerts published, want exactly 1", len(got))
	}
	var f alert.Failure
	if err := json.Unmarshal([]byte(got[0].Message), &f); err != nil {
		t.Fatalf("alert message is not the JSON alert: %v", err)
	}
	want := alert.Failure{
		ItemKey: key, FranchiseCorpNum: "6798700433", MgtKey: "20221221-001", ConfirmNum: "TB0001146",
		TradeDate: "20221221", StateCode: 305, NTSResultCode: "TS4", NTSResultDT: "20221222100033",
		EventDT: "20221222100033", EventType: "NTS", IssueDT: "20221221161912", MID: "mid-first",
		Kind: "failure", AlertID: key + "/failure",
	}
	if f != want {
		t.Errorf("alert = %+v\nwant    %+v", f, want)
	}
	if a := got[0].MessageAttributes; a != nil && (a["franchiseCorpNum"].Value != "6798700433" || a["alertId"].Value != key+"/failure") {
		t.Errorf("attributes franchiseCorpNum %q alertId %q, want 6798700433 and %s/failure", a["franchiseCorpNum"].Value, a["alertId"].Value, key)
	}
	it, _ := e.stored(t, key)
	if it.AlertStatus != state.AlertSent || it.AlertMessageID != got[0].MessageId {
		t.Errorf("item records alert %q id %q, want sent with SNS id %q", it.AlertStatus, it.AlertMessageID, got[0].MessageId)
	}
}

func TestFailedPublishAnswers503AndARetryPublishesOnce(t *testing.T) {
	spec(t, failedPublishAnswers503AndARetryPublishesOnce)
}

func failedPublishAnswers503AndARetryPublishesOnce(t *testing.T, newEnv newEnvFunc) {
	cases := []struct {
		name  string
		retry func(key string) string
	}{
		{"retry of the same 305", func(key string) string { return body(key, 305, nil) }},
		{"a stale delivery of the same cashbill", func(key string) string { return body(key, 300, nil) }},
		{"a later, greater state", func(key string) string { return body(key, 399, nil) }},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.publishFailures = 2
			key := fmt.Sprintf("0221221161913%05d", i)
			for j := range 2 {
				resp := e.send(t, request(fmt.Sprintf("mid-%d", j), body(key, 305, nil), nil))
				if resp.StatusCode != 503 || !strings.Contains(resp.Body, "retry") {
					t.Fatalf("delivery %d with SNS down: %d %q, want 503 asking for a retry", j, resp.StatusCode, resp.Body)
				}
				if strings.Contains(resp.Body, "injected") {
					t.Errorf("response leaks the Go error: %q", resp.Body)
				}
			}
			if it, _ := e.stored(t, key); it.Event.StateCode != 305 || it.AlertStatus != state.AlertPending {
				t.Fatalf("after failed publishes: state %d alert %q, want 305 pending", it.Event.StateCode, it.AlertStatus)
			}
			if n := len(e.delivered(t)); n != 0 {
				t.Fatalf("%d alerts delivered while SNS was down", n)
			}
			wantOK(t, e.send(t, request("mid-recover", tc.retry(key), nil)))
			wantOK(t, e.send(t, request("mid-after", tc.retry(key), nil)))
			if n := len(e.delivered(t)); n != 1 {
				t.Errorf("%d alerts after recovery, want exactly 1", n)
			}
		})
	}
}

// faultyStore fails every Apply, as DynamoDB does when throttled or down.
type faultyStore struct{ state.Store }

func (faultyStore) Apply(context.Context, state.Delivery) (state.Result, error) {
	return state.Result{}, errors.New("injected: ProvisionedThroughputExceededException secret-table-name")
}

func TestStoreFailureAnswers503WithoutLeakingTheError(t *testing.T) {
	spec(t, storeFailureAnswers503WithoutLeakingTheError)
}

func storeFailureAnswers503WithoutLeakingTheError(t *testing.T, newEnv newEnvFunc) {
	e := newEnv(t)
	v, _ := auth.New(auth.Basic, credential)
	h := webhook.New(webhook.Rules{Auth: v}, faultyStore{e.store}, outbox.New(faultyStore{e.store}, e.publisher, nil, outbox.Settings{}), slog.New(slog.NewJSONHandler(e.logs, nil)))
	resp, _ := h.Handle(context.Background(), request("mid-x", body("022122116191200401", 305, nil), nil))
	if resp.StatusCode != 503 || resp.Headers["Retry-After"] == "" {
		t.Fatalf("status %d headers %v, want 503 with Retry-After", resp.StatusCode, resp.Headers)
	}
	logged := fmt.Sprint(e.logs.lines(t))
	for _, leak := range []string{"injected", "secret-table-name"} {
		if strings.Contains(resp.Body, leak) || strings.Contains(logged, leak) {
			t.Errorf("raw error text %q leaked: body %q log %s", leak, resp.Body, logged)
		}
	}
	if o := e.lastOutcome(t); o != "failed" {
		t.Errorf("outcome %q, want failed", o)
	}
}

func TestUnauthenticatedRequestsAreRefusedAndNothingIsStored(t *testing.T) {
	spec(t, unauthenticatedRequestsAreRefusedAndNothingIsStored)
}

func unauthenticatedRequestsAreRefusedAndNothingIsStored(t *testing.T, newEnv newEnvFunc) {
	cases := []struct {
		name    string
		headers map[string]string
	}{
		{"missing credentials", map[string]string{"authorization": ""}},
		{"wrong password", map[string]string{"authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("popbill:wrong"))}},
		{"another scheme", map[string]string{"authorization": "Bearer " + credential}},
		{"an API key instead of Basic", map[string]string{"authorization": "", "x-api-key": credential}},
		{"mixed-case header name is still checked", map[string]string{"authorization": "", "Authorization": "Basic eDp5"}},
	}
	e := newEnv(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("0221221161914%05d", i)
			resp := e.send(t, request("mid", body(key, 305, nil), tc.headers))
			if resp.StatusCode != 401 || resp.Body == "" || strings.Contains(resp.Body, "local-secret") {
				t.Errorf("response %d %q, want 401 with a plain reason and no secret", resp.StatusCode, resp.Body)
			}
			if _, ok := e.stored(t, key); ok {
				t.Error("an unauthenticated event was stored")
			}
		})
	}
	if n := len(e.delivered(t)); n != 0 {
		t.Errorf("%d alerts published for unauthenticated requests", n)
	}
	if strings.Contains(fmt.Sprint(e.logs.lines(t)), "local-secret") {
		t.Error("the credential appears in the logs")
	}
}

func TestInvalidRequestsAre400WithTheReasonInPlainWords(t *testing.T) {
	spec(t, invalidRequestsAre400WithTheReasonInPlainWords)
}

func invalidRequestsAre400WithTheReasonInPlainWords(t *testing.T, newEnv newEnvFunc) {
	const key = "022122116191500001"
	cases := []struct {
		name    string
		body    string
		headers map[string]string
		want    string // a phrase the customer must read
	}{
		{"another service's webhook", body(key, 300, nil), map[string]string{"pb-webhook-type": "TAXINVOICE.STATE"}, "TAXINVOICE.STATE"},
		{"no webhook type", body(key, 300, nil), map[string]string{"pb-webhook-type": ""}, "Pb-Webhook-Type"},
		{"event type header disagrees with body", body(key, 300, nil), map[string]string{"pb-webhook-eventtype": "NTS"}, "eventType"},
		{"corpnum header matches neither number", body(key, 300, nil), map[string]string{"pb-webhook-corpnum": "1234567890"}, "Pb-Webhook-Corpnum"},
		{"malformed JSON", `{"itemKey": "022122116191500001", `, nil, "not valid JSON"},
		{"an array", `[` + body(key, 300, nil) + `]`, nil, "one JSON object"},
		{"a scalar", `"OK"`, nil, "one JSON object"},
		{"empty body", ``, nil, "empty"},
		{"itemKey not 18 digits", body("12345", 300, nil), nil, "itemKey"},
		{"itemKey missing", body(key, 300, map[string]any{"itemKey": nil}), nil, "itemKey"},
		{"stateCode missing", body(key, 300, map[string]any{"stateCode": nil}), nil, "stateCode"},
		{"stateCode not a number", body(key, "issued", nil), nil, "stateCode"},
		{"no business number", body(key, 300, map[string]any{"corpNum": nil, "franchiseCorpNum": nil}), map[string]string{"pb-webhook-corpnum": ""}, "franchiseCorpNum"},
		{"business number with dashes", body(key, 300, map[string]any{"franchiseCorpNum": "679-87-00433"}), nil, "franchiseCorpNum"},
		{"eventType missing", body(key, 300, map[string]any{"eventType": nil}), map[string]string{"pb-webhook-eventtype": ""}, "eventType"},
		{"eventDT not a real time", body(key, 300, map[string]any{"eventDT": "20221232250000"}), nil, "eventDT"},
		{"optional date malformed", body(key, 300, map[string]any{"tradeDate": "2022-12-21"}), nil, "tradeDate"},
		{"base64 flag on a body that is not base64", "%%%", map[string]string{"x-test-base64": "1"}, "base64"},
	}
	e := newEnv(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := request("mid", tc.body, tc.headers)
			if tc.headers["x-test-base64"] != "" {
				req.IsBase64Encoded = true
			}
			resp := e.send(t, req)
			if resp.StatusCode != 400 || !strings.Contains(resp.Body, tc.want) {
				t.Errorf("response %d %q, want 400 mentioning %q", resp.StatusCode, resp.Body, tc.want)
			}
			if o := e.lastOutcome(t); o != "rejected" {
				t.Errorf("outcome %q, want rejected", o)
			}
		})
	}
	if _, ok := e.stored(t, key); ok {
		t.Error("an invalid event was stored")
	}
}

func TestBodyEncodingAndSize(t *testing.T) { spec(t, bodyEncodingAndSize) }

func bodyEncodingAndSize(t *testing.T, newEnv newEnvFunc) {
	cases := []struct {
		name   string
		req    func(key string) events.APIGatewayV2HTTPRequest
		status int
		stored bool
	}{
		{"base64-encoded body is decoded", func(key string) events.APIGatewayV2HTTPRequest {
			r := request("mid", body(key, 304, nil), nil)
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(r.Body)), true
			return r
		}, 200, true},
		{"body over 64 KiB is refused", func(key string) events.APIGatewayV2HTTPRequest {
			return request("mid", body(key, 304, map[string]any{"stateMemo": strings.Repeat("x", webhook.MaxBody)}), nil)
		}, 413, false},
		{"base64 body over 64 KiB is refused", func(key string) events.APIGatewayV2HTTPRequest {
			r := request("mid", body(key, 304, map[string]any{"stateMemo": strings.Repeat("x", webhook.MaxBody)}), nil)
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(r.Body)), true
			return r
		}, 413, false},
		{"a body just under the limit is accepted", func(key string) events.APIGatewayV2HTTPRequest {
			return request("mid", body(key, 304, map[string]any{"stateMemo": strings.Repeat("x", webhook.MaxBody-600)}), nil)
		}, 200, true},
		{"a body with a byte-order mark is accepted", func(key string) events.APIGatewayV2HTTPRequest {
			return request("mid", "\ufeff"+body(key, 304, nil), nil)
		}, 200, true},
		{"GET is not allowed", func(key string) events.APIGatewayV2HTTPRequest {
			r := request("mid", body(key, 304, nil), nil)
			r.RequestContext.HTTP.Method = "GET"
			return r
		}, 405, false},
	}
	e := newEnv(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("0221221161916%05d", i)
			resp := e.send(t, tc.req(key))
			if resp.StatusCode != tc.status {
				t.Errorf("status %d %q, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			it, ok := e.stored(t, key)
			if ok != tc.stored {
				t.Errorf("stored = %v, want %v", ok, tc.stored)
			}
			if ok && (it.Event.StateCode != 304 || len(it.Extra) > 0 && !json.Valid(it.Extra)) {
				t.Errorf("stored stateCode %d, extra %.40q; want the body's 304 and its other fields as JSON", it.Event.StateCode, it.Extra)
			}
		})
	}
}

func TestOperatorAllowlistsRefuseOtherCallersWith403(t *testing.T) {
	spec(t, operatorAllowlistsRefuseOtherCallersWith403)
}

func operatorAllowlistsRefuseOtherCallersWith403(t *testing.T, newEnv newEnvFunc) {
	allow := func(r *webhook.Rules, _ *env) {
		r.AllowedCorpNums = map[string]bool{"6798700433": true}
		r.AllowedSources = []netip.Prefix{netip.MustParsePrefix("54.180.62.221/32"), netip.MustParsePrefix("13.124.72.158/32")}
		r.CheckCorpNumChecksum = true
	}
	cases := []struct {
		name   string
		req    func(key string) events.APIGatewayV2HTTPRequest
		status int
	}{
		{"allowed business from POPBiLL's address", func(key string) events.APIGatewayV2HTTPRequest {
			return request("mid", body(key, 300, nil), nil)
		}, 200},
		{"another business", func(key string) events.APIGatewayV2HTTPRequest {
			return request("mid", body(key, 300, map[string]any{"corpNum": "2208162517", "franchiseCorpNum": "2208162517"}), map[string]string{"pb-webhook-corpnum": ""})
		}, 403},
		{"another source address", func(key string) events.APIGatewayV2HTTPRequest {
			r := request("mid", body(key, 300, nil), nil)
			r.RequestContext.HTTP.SourceIP = "203.0.113.9"
			return r
		}, 403},
	}
	e := newEnv(t, allow)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("0221221161917%05d", i)
			if resp := e.send(t, tc.req(key)); resp.StatusCode != tc.status {
				t.Errorf("status %d %q, want %d", resp.StatusCode, resp.Body, tc.status)
			}
		})
	}
}

func TestEveryRequestLogsOneLineWithItsOutcome(t *testing.T) {
	spec(t, everyRequestLogsOneLineWithItsOutcome)
}

func everyRequestLogsOneLineWithItsOutcome(t *testing.T, newEnv newEnvFunc) {
	e := newEnv(t)
	e.send(t, request("mid-log-1", body("022122116191800001", 300, nil), nil))
	e.send(t, request("mid-log-2", body("022122116191800001", 300, nil), nil))
	e.send(t, request("mid-log-3", body("022122116191800002", 300, nil), map[string]string{"authorization": ""}))
	e.send(t, request("mid-log-4", body("022122116191800001", 304, nil), nil))
	e.send(t, request("mid-log-5", body("022122116191800001", 300, nil), nil))
	lines := e.logs.lines(t)
	if len(lines) != 5 {
		t.Fatalf("%d log lines for 5 requests, want 5", len(lines))
	}
	want := []map[string]any{
		{"apiRequestId": "req-mid-log-1", "mid": "mid-log-1", "itemKey": "022122116191800001", "stateCode": 300.0, "outcome": "stored"},
		{"apiRequestId": "req-mid-log-2", "mid": "mid-log-2", "itemKey": "022122116191800001", "stateCode": 300.0, "outcome": "duplicate"},
		{"apiRequestId": "req-mid-log-3", "mid": "mid-log-3", "outcome": "rejected"},
		{"apiRequestId": "req-mid-log-4", "stateCode": 304.0, "outcome": "stored"},
		{"apiRequestId": "req-mid-log-5", "stateCode": 300.0, "outcome": "stale", "storedStateCode": 304.0},
	}
	for i, w := range want {
		for k, v := range w {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, lines[i][k], v)
			}
		}
		if _, ok := lines[i]["latencyMs"]; !ok {
			t.Errorf("line %d has no latencyMs", i)
		}
	}
	if r, _ := lines[2]["reason"].(string); !strings.Contains(r, "authentication") {
		t.Errorf("rejected line's reason %q does not say why", r)
	}
}

// retriedClaim answers the first claim as the SDK does when a claim's answer
// is lost after it committed: it retries the same call, and answers that.
type retriedClaim struct {
	state.Store
	once sync.Once
}

func (s *retriedClaim) ClaimAlert(ctx context.Context, itemKey, owner string, now time.Time, lease time.Duration) (state.Claim, error) {
	retry := false
	s.once.Do(func() { retry = true })
	if retry {
		if _, err := s.Store.ClaimAlert(ctx, itemKey, owner, now, lease); err != nil {
			return state.Claim{}, err
		}
	}
	return s.Store.ClaimAlert(ctx, itemKey, owner, now, lease)
}

func asIs(s state.Store) state.Store { return s }

// crashAfterApply is a function that dies after storing the event: nothing
// after Apply reaches the store or SNS, and POPBiLL sees no answer.
type crashAfterApply struct{ state.Store }

func (crashAfterApply) ClaimAlert(context.Context, string, string, time.Time, time.Duration) (state.Claim, error) {
	return state.Claim{}, errors.New("injected: the function died")
}

func TestAnAlertOwedIsPublishedWhateverTheDeliveryOrderAndRetries(t *testing.T) {
	spec(t, anAlertOwedIsPublishedWhateverTheDeliveryOrderAndRetries)
}

func anAlertOwedIsPublishedWhateverTheDeliveryOrderAndRetries(t *testing.T, newEnv newEnvFunc) {
	cases := []struct {
		name string
		// store wraps the env's store as the handler sees it.
		store  func(state.Store) state.Store
		states []any
		// sweep: the function crashes; the sweeper runs twice after the
		// lease has expired, then POPBiLL retries.
		sweep  bool
		alerts int
	}{
		{"a claim retried after its answer was lost publishes", func(s state.Store) state.Store { return &retriedClaim{Store: s} }, []any{305}, false, 1},
		{"400 then 305 alerts", asIs, []any{400, 305}, false, 1},
		{"999 then 305 alerts", asIs, []any{999, 305}, false, 1},
		{"305, 400, 305 alerts once", asIs, []any{305, 400, 305}, false, 1},
		{"a crash between write and publish is published once by the sweeper", func(s state.Store) state.Store { return crashAfterApply{s} }, []any{305}, true, 1},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			v, _ := auth.New(auth.Basic, credential)
			h := webhook.New(webhook.Rules{Auth: v}, tc.store(e.store), outbox.New(tc.store(e.store), e.publisher, nil, outbox.Settings{}), slog.New(slog.NewJSONHandler(e.logs, nil)))
			key := fmt.Sprintf("0221221161919%05d", i)
			for j, sc := range tc.states {
				resp, _ := h.Handle(context.Background(), request(fmt.Sprintf("mid-%d", j), body(key, sc, nil), nil))
				if !tc.sweep { // a crashed function answers nothing
					wantOK(t, resp)
				}
			}
			if tc.sweep {
				sw := sweeper.New(e.store, outbox.New(e.store, e.publisher, nil, outbox.Settings{}), sweeper.Settings{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
				later := time.Now().Add(sweeper.DefaultThreshold + time.Second)
				for _, at := range []time.Time{later, later.Add(5 * time.Minute)} {
					if _, err := sw.Run(context.Background(), at); err != nil {
						t.Fatalf("sweep: %v", err)
					}
				}
				if got := len(e.delivered(t)); got != tc.alerts {
					t.Errorf("the sweeper published %d alerts, want %d", got, tc.alerts)
				}
				// POPBiLL's retry of the crashed delivery, answered by the real handler.
				wantOK(t, e.send(t, request("mid-retry", body(key, 305, nil), nil)))
				tc.alerts = 0
			}
			if got := len(e.delivered(t)); got != tc.alerts {
				t.Errorf("%d alerts published, want %d", got, tc.alerts)
			}
		})
	}
}
