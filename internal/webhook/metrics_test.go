package webhook_test

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

const testNamespace = "PopbillWebhookTest"

// metered is a handler with metrics on, on the embedded store, a console
// publisher and the request line as the archive, as in the Lambda; faults
// switch on per case.
type metered struct {
	h          *webhook.Handler
	store      *boltstore.Store
	logs       *lockedBuffer
	applyFails bool
	publishErr error
}

type meteredStore struct {
	state.Store
	m *metered
}

func (s meteredStore) Apply(ctx context.Context, d state.Delivery) (state.Result, error) {
	if s.m.applyFails {
		return state.Result{}, errors.New("injected: DynamoDB unavailable")
	}
	return s.Store.Apply(ctx, d)
}

type meteredPublisher struct {
	alert.Publisher
	m *metered
}

func (p meteredPublisher) Publish(ctx context.Context, f alert.Failure) (string, error) {
	if p.m.publishErr != nil {
		return "", p.m.publishErr
	}
	return p.Publisher.Publish(ctx, f)
}

func newMetered(t *testing.T) *metered {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.NotDurable())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	v, err := auth.New(auth.Basic, credential)
	if err != nil {
		t.Fatal(err)
	}
	m := &metered{store: s, logs: &lockedBuffer{}}
	rules := webhook.Rules{Auth: v, AllowedSources: []netip.Prefix{netip.MustParsePrefix("54.180.62.221/32")}}
	m.h = webhook.New(rules, meteredStore{s, m}, outbox.New(meteredStore{s, m}, meteredPublisher{consolealert.New(&lockedBuffer{}), m}, nil, outbox.Settings{}),
		slog.New(slog.NewJSONHandler(m.logs, nil)),
		webhook.WithRequestLineArchive(), webhook.WithMetrics(testNamespace))
	return m
}

func (m *metered) send(t *testing.T, req events.APIGatewayV2HTTPRequest) map[string]any {
	t.Helper()
	m.logs.Reset()
	if _, err := m.h.Handle(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	lines := m.logs.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want the one request line: %s", len(lines), m.logs.String())
	}
	return lines[0]
}

// emfOf decodes a line's EMF metadata into "dimension,dimension" -> metric
// names, checking what CloudWatch needs to extract them: the namespace, a
// millisecond timestamp, each dimension a string member of the line and each
// metric a number member.
func emfOf(t *testing.T, line map[string]any) map[string][]string {
	t.Helper()
	aws, ok := line["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("no _aws member: %v", line)
	}
	if ts, _ := aws["Timestamp"].(float64); ts < 1e12 {
		t.Errorf("Timestamp %v is not unix milliseconds", aws["Timestamp"])
	}
	out := map[string][]string{}
	directives, _ := aws["CloudWatchMetrics"].([]any)
	for _, x := range directives {
		d, _ := x.(map[string]any)
		if d["Namespace"] != testNamespace {
			t.Errorf("Namespace %v, want %s", d["Namespace"], testNamespace)
		}
		sets, _ := d["Dimensions"].([]any)
		if len(sets) != 1 {
			t.Fatalf("Dimensions %v, want one set", d["Dimensions"])
		}
		var dims []string
		for _, dim := range sets[0].([]any) {
			name := dim.(string)
			if v, ok := line[name].(string); !ok || v == "" {
				t.Errorf("dimension %s is not a string member of the line: %v", name, line[name])
			}
			dims = append(dims, name)
		}
		key := strings.Join(dims, ",")
		metrics, _ := d["Metrics"].([]any)
		for _, x := range metrics {
			def := x.(map[string]any)
			name := def["Name"].(string)
			if _, ok := line[name].(float64); !ok {
				t.Errorf("metric %s is not a number member of the line: %v", name, line[name])
			}
			if def["Unit"] != "Count" && def["Unit"] != "Milliseconds" {
				t.Errorf("metric %s has unit %v", name, def["Unit"])
			}
			out[key] = append(out[key], name)
		}
		sort.Strings(out[key])
	}
	return out
}

func sortedNames(names ...string) []string {
	s := slices.Clone(names)
	sort.Strings(s)
	return s
}

// TestEveryOutcomeIsCountedOnTheRequestLine runs the handler through each of
// its outcomes and checks the EMF on the one request line: deliveries by
// outcome (and by reasonCode when refused or failed), the alert outcome, the
// handler's latency and the latency of each AWS call the delivery made.
func TestEveryOutcomeIsCountedOnTheRequestLine(t *testing.T) {
	const key = "022122116191200001"
	issue := func(mid string) events.APIGatewayV2HTTPRequest { return request(mid, body(key, 300, nil), nil) }
	failure := func(mid string) events.APIGatewayV2HTTPRequest {
		return request(mid, body(key, 305, map[string]any{"eventType": "NTS", "ntsresultCode": "TS4"}), nil)
	}
	edit := func(req events.APIGatewayV2HTTPRequest, f func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPRequest {
		f(&req)
		return req
	}
	cases := []struct {
		name         string
		before       func(t *testing.T, m *metered)
		req          events.APIGatewayV2HTTPRequest
		outcome      string
		reasonCode   string
		alertOutcome string
		calls        []string
	}{
		{name: "a new state is stored", req: issue("m-1"), outcome: "stored", calls: []string{"apply"}},
		{name: "the same state again is a duplicate", before: func(t *testing.T, m *metered) { m.send(t, issue("m-0")) },
			req: issue("m-1"), outcome: "duplicate", calls: []string{"apply"}},
		{name: "a smaller state is stale", before: func(t *testing.T, m *metered) {
			m.send(t, request("m-0", body(key, 304, map[string]any{"eventType": "NTS"}), nil))
		}, req: issue("m-1"), outcome: "stale", calls: []string{"apply"}},
		{name: "a wrong credential is rejected as auth", req: request("m-1", body(key, 300, nil), map[string]string{"authorization": "Basic d3Jvbmc6d3Jvbmc="}),
			outcome: "rejected", reasonCode: "auth"},
		{name: "a caller outside the allowlist is rejected as forbidden",
			req:     edit(issue("m-1"), func(r *events.APIGatewayV2HTTPRequest) { r.RequestContext.HTTP.SourceIP = "203.0.113.9" }),
			outcome: "rejected", reasonCode: "forbidden"},
		{name: "a malformed event is rejected as invalid", req: request("m-1", body(key, 300, map[string]any{"eventDT": "yesterday"}), nil),
			outcome: "rejected", reasonCode: "invalid"},
		{name: "a GET is rejected as method",
			req:     edit(issue("m-1"), func(r *events.APIGatewayV2HTTPRequest) { r.RequestContext.HTTP.Method = "GET" }),
			outcome: "rejected", reasonCode: "method"},
		{name: "a body over 64 KiB is rejected as too-large",
			req:     edit(issue("m-1"), func(r *events.APIGatewayV2HTTPRequest) { r.Body = strings.Repeat(" ", webhook.MaxBody+1) }),
			outcome: "rejected", reasonCode: "too-large"},
		{name: "a store failure fails as unavailable", before: func(t *testing.T, m *metered) { m.applyFails = true },
			req: issue("m-1"), outcome: "failed", reasonCode: "unavailable", calls: []string{"apply"}},
		{name: "a 305 publishes its alert", req: failure("m-1"), outcome: "stored", alertOutcome: "published",
			// A new 305's state write takes the alert's lease: no claim call.
			calls: []string{"apply", "publish", "mark"}},
		{name: "an SNS failure is publish-failed", before: func(t *testing.T, m *metered) { m.publishErr = errors.New("injected: SNS unavailable") },
			req: failure("m-1"), outcome: "failed", reasonCode: "unavailable", alertOutcome: "publish-failed",
			calls: []string{"apply", "publish"}},
		{name: "an SNS refusal is refused", before: func(t *testing.T, m *metered) { m.publishErr = snsError(400, "InvalidParameter") },
			req: failure("m-1"), outcome: "failed", reasonCode: "internal", alertOutcome: "refused",
			calls: []string{"apply", "publish"}},
		{name: "an alert leased by another delivery is held", before: func(t *testing.T, m *metered) {
			m.publishErr = errors.New("injected: SNS unavailable")
			m.send(t, failure("m-0"))
			m.publishErr = nil
			if c, err := m.store.ClaimAlert(context.Background(), key, "another", time.Now(), time.Hour); err != nil || c.Status != state.Claimed {
				t.Fatalf("claim by another: %v %v", c.Status, err)
			}
		}, req: failure("m-1"), outcome: "duplicate", alertOutcome: "held", calls: []string{"apply", "claim"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMetered(t)
			if tc.before != nil {
				tc.before(t, m)
			}
			line := m.send(t, tc.req)
			if line[webhook.DimensionOutcome] != tc.outcome {
				t.Fatalf("outcome %v, want %s: %v", line["outcome"], tc.outcome, line)
			}
			want := map[string][]string{"outcome": {"deliveries"}}
			plain := []string{"latencyMs"}
			for _, c := range tc.calls {
				plain = append(plain, webhook.CallMetric(c))
			}
			if tc.reasonCode != "" {
				want["outcome,reasonCode"] = []string{"deliveries"}
			}
			if tc.alertOutcome != "" {
				want["alertOutcome"] = []string{"alerts"}
				if tc.alertOutcome == "published" {
					plain = append(plain, "alertsPublished")
				}
			}
			want[""] = sortedNames(plain...)
			if got := emfOf(t, line); !reflect.DeepEqual(got, want) {
				t.Errorf("metrics by dimension set:\n got %v\nwant %v", got, want)
			}
			if got, _ := line[webhook.DimensionReasonCode].(string); got != tc.reasonCode {
				t.Errorf("reasonCode %q, want %q", got, tc.reasonCode)
			}
			if got, _ := line[webhook.DimensionAlertOutcome].(string); got != tc.alertOutcome {
				t.Errorf("alertOutcome %q, want %q", got, tc.alertOutcome)
			}
			if line["deliveries"] != 1.0 {
				t.Errorf("deliveries = %v, want 1", line["deliveries"])
			}
		})
	}
}

// TestWithoutMetricsTheLineHasNoEMF: make run and the tests without
// WithMetrics log the request line as before.
func TestWithoutMetricsTheLineHasNoEMF(t *testing.T) {
	l := newLocal(t, nil)
	if _, err := l.h.Handle(context.Background(), request("m-1", body("022122116191200001", 300, nil), nil)); err != nil {
		t.Fatal(err)
	}
	line := l.lastLog(t)
	for _, k := range []string{"_aws", "deliveries", "applyMs"} {
		if _, ok := line[k]; ok {
			t.Errorf("member %s logged without metrics", k)
		}
	}
}

func TestWithMetricsTheRequestLineCarriesItsTimeOnlyInTheEMFBlock(t *testing.T) {
	m := newMetered(t)
	line := m.send(t, request("m-1", body("022122116191200001", 300, nil), nil))
	for _, key := range []string{"time", "timestamp"} {
		if v, ok := line[key]; ok {
			t.Errorf("the line carries %s=%v beside _aws.Timestamp", key, v)
		}
	}
	aws, _ := line["_aws"].(map[string]any)
	if ts, ok := aws["Timestamp"].(float64); !ok || ts <= 0 {
		t.Errorf("_aws.Timestamp = %v, want the line's time in unix milliseconds", aws["Timestamp"])
	}
}
