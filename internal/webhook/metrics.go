package webhook

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/emf"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// The metrics the request line carries (CloudWatch Embedded Metric Format),
// their dimension members and the values of those; docs/observability.md
// lists them and the template's dashboard plots them (a test checks both).
const (
	// MetricDeliveries counts requests by outcome, and rejected and failed
	// ones by outcome and reasonCode.
	MetricDeliveries = "deliveries"
	// MetricLatency is the handler's latency, the latencyMs member.
	MetricLatency = "latencyMs"
	// MetricAlerts counts the owed alerts a delivery tried, by alertOutcome.
	MetricAlerts = "alerts"
	// MetricAlertsPublished counts the alerts a delivery published.
	MetricAlertsPublished = "alertsPublished"

	DimensionOutcome      = "outcome"
	DimensionReasonCode   = "reasonCode"
	DimensionAlertOutcome = "alertOutcome"
)

// The AWS calls a delivery makes, each timed into a metric of its own
// (milliseconds, no dimension) when it was made: MetricCallPrefix + name + "Ms".
const (
	CallApply   = "apply"
	CallClaim   = "claim"
	CallPublish = "publish"
	CallMark    = "mark"
)

// Calls are the timed calls, in the order a 305 makes them.
var Calls = []string{CallApply, CallClaim, CallPublish, CallMark}

// CallMetric is the metric of call's latency, e.g. applyMs.
func CallMetric(call string) string { return call + "Ms" }

// ReasonCodes are the values of reasonCode: one per error kind, low
// cardinality, so that each is a metric of its own (a broken credential
// after a rotation shows as auth).
var ReasonCodes = map[Kind]string{
	Unauthorized:     "auth",
	Forbidden:        "forbidden",
	Invalid:          "invalid",
	MethodNotAllowed: "method",
	TooLarge:         "too-large",
	NotFound:         "not-found",
	Unavailable:      "unavailable",
	Internal:         "internal",
}

// AlertOutcomes are the values of alertOutcome, from what the outbox did.
// Nothing owed or already sent is no alert outcome.
var AlertOutcomes = map[outbox.Status]string{
	outbox.Published:           "published",
	outbox.PublishedUnrecorded: "published",
	outbox.HeldByAnother:       "held",
	outbox.ClaimFailed:         "publish-failed",
	outbox.PublishFailed:       "publish-failed",
	outbox.Unreadable:          "publish-failed",
	outbox.PublishRefused:      "refused",
}

// WithMetrics adds the Embedded Metric Format to every request line, in
// CloudWatch namespace ns, and times the AWS calls; "" adds nothing.
func WithMetrics(ns string) Option {
	return func(h *Handler) { h.namespace = ns }
}

// instrument wraps the handler's ports so that each call is timed into the
// request's calls, once the options are applied.
func (h *Handler) instrument() {
	if h.namespace == "" {
		return
	}
	h.store = timedStore{h.store}
	h.outbox = h.outbox.Wrap(func(s outbox.Slots) outbox.Slots { return timedSlots{s} },
		func(p alert.Publisher) alert.Publisher { return timedPublisher{p} })
}

// callTimes are one request's AWS call latencies, by call.
type callTimes map[string]time.Duration

type callTimesKey struct{}

// withCallTimes gives the request a place for its call latencies, when
// metrics are on.
func (h *Handler) withCallTimes(ctx context.Context, r *invocation) context.Context {
	if h.namespace == "" {
		return ctx
	}
	r.calls = callTimes{}
	return context.WithValue(ctx, callTimesKey{}, r.calls)
}

// timeCall starts timing call; the returned func stops it.
func timeCall(ctx context.Context, call string) func() {
	t, _ := ctx.Value(callTimesKey{}).(callTimes)
	if t == nil {
		return func() {}
	}
	start := time.Now()
	return func() { t[call] += time.Since(start) }
}

type timedStore struct{ state.Store }

func (s timedStore) Apply(ctx context.Context, d state.Delivery) (state.Result, error) {
	defer timeCall(ctx, CallApply)()
	return s.Store.Apply(ctx, d)
}

type timedSlots struct{ outbox.Slots }

func (s timedSlots) ClaimAlert(ctx context.Context, itemKey, owner string, now time.Time, lease time.Duration) (state.Claim, error) {
	defer timeCall(ctx, CallClaim)()
	return s.Slots.ClaimAlert(ctx, itemKey, owner, now, lease)
}

func (s timedSlots) MarkAlertSent(ctx context.Context, itemKey, owner, messageID string, at time.Time) error {
	defer timeCall(ctx, CallMark)()
	return s.Slots.MarkAlertSent(ctx, itemKey, owner, messageID, at)
}

type timedPublisher struct{ alert.Publisher }

func (p timedPublisher) Publish(ctx context.Context, f alert.Failure) (string, error) {
	defer timeCall(ctx, CallPublish)()
	return p.Publisher.Publish(ctx, f)
}

// metricAttrs are the request line's EMF members: the directives, the
// metric values and the dimension members not logged already.
func (h *Handler) metricAttrs(r *invocation, err error, at time.Time) []slog.Attr {
	if h.namespace == "" {
		return nil
	}
	one := emf.Metric{Name: MetricDeliveries, Unit: emf.Count, Value: 1}
	directives := []emf.Directive{{Namespace: h.namespace, Dimensions: []string{DimensionOutcome}, Metrics: []emf.Metric{one}}}
	var dims []slog.Attr
	if err != nil {
		directives = append(directives, emf.Directive{Namespace: h.namespace, Dimensions: []string{DimensionOutcome, DimensionReasonCode}, Metrics: []emf.Metric{one}})
		dims = append(dims, slog.String(DimensionReasonCode, reasonCode(err)))
	}
	plain := emf.Directive{Namespace: h.namespace, Declared: []emf.Metric{{Name: MetricLatency, Unit: emf.Milliseconds}}}
	for _, call := range Calls {
		if d, ok := r.calls[call]; ok {
			plain.Metrics = append(plain.Metrics, emf.Metric{Name: CallMetric(call), Unit: emf.Milliseconds, Value: float64(d.Microseconds()) / 1000})
		}
	}
	if o, ok := AlertOutcomes[r.alert]; ok {
		directives = append(directives, emf.Directive{Namespace: h.namespace, Dimensions: []string{DimensionAlertOutcome}, Metrics: []emf.Metric{{Name: MetricAlerts, Unit: emf.Count, Value: 1}}})
		dims = append(dims, slog.String(DimensionAlertOutcome, o))
		if o == "published" {
			plain.Metrics = append(plain.Metrics, emf.Metric{Name: MetricAlertsPublished, Unit: emf.Count, Value: 1})
		}
	}
	directives = append(directives, plain)
	return append(emf.Attrs(at, directives...), dims...)
}

// reasonCode is the reasonCode of a refused or failed request: its kind's.
func reasonCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if c, ok := ReasonCodes[e.Kind]; ok {
			return c
		}
	}
	return ReasonCodes[Internal]
}
