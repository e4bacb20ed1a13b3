// Package webhook is the receiver: it takes one API Gateway HTTP API request
// carrying a POPBiLL CASHBILL.STATE event and answers it, in this order:
// verify the caller, check the headers, parse the body, store the state if it
// is newer, publish the NTS-failure alert the state owes, respond.
//
// It answers 200 {"result":"OK"} to everything it has safely recorded,
// including duplicates and stale retries, 4xx in plain words to what a retry
// cannot fix, and 5xx only where a retry can help, so that POPBiLL's retries
// are what carries an event or an alert past a passing failure.
package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// MaxBody is the largest body accepted. A cashbill event is under 1 KiB.
const MaxBody = 64 << 10

// WebhookType is the only Pb-Webhook-Type this endpoint takes.
const WebhookType = "CASHBILL.STATE"

// OK is the body POPBiLL counts as success.
const OK = `{"result":"OK"}`

// Rules are the request checks an operator configures.
type Rules struct {
	Auth *auth.Verifier
	// AllowedCorpNums, when not empty, are the only business numbers accepted.
	AllowedCorpNums map[string]bool
	// AllowedSources, when not empty, are the only caller addresses accepted.
	AllowedSources       []netip.Prefix
	CheckCorpNumChecksum bool
}

// Handler answers webhook requests.
type Handler struct {
	rules  Rules
	store  state.Store
	outbox *outbox.Outbox
	log    *slog.Logger
	now    func() time.Time
	// archive, when set, records every delivery (WithArchive); lineArchive
	// makes the request line the record (WithRequestLineArchive).
	archive     archive.Recorder
	retention   time.Duration
	lineArchive bool
	// namespace, when set, adds metrics to the request line (WithMetrics).
	namespace string
	// tokens, when set, serves the Individual Webhook route (WithBusinessTokens).
	tokens TokenResolver
}

// New returns a handler that stores in store and hands the alerts it owes
// to out. Every dependency is required; options add the rest.
func New(rules Rules, store state.Store, out *outbox.Outbox, log *slog.Logger, opts ...Option) *Handler {
	if rules.Auth == nil || store == nil || out == nil || log == nil {
		panic("webhook.New: rules.Auth, store, out and log are required")
	}
	h := &Handler{rules: rules, store: store, outbox: out, log: log, now: time.Now}
	for _, o := range opts {
		o(h)
	}
	h.instrument()
	return h
}

// invocation is what one invocation learns, for its log line (req is the API Gateway request).
type invocation struct {
	id, mid, itemKey, eventType string
	stateCode                   int
	storedStateCode             int // for a stale delivery: the newer state kept
	outcome                     state.Outcome
	alert                       outbox.Status
	alertID, alertMessageID     string
	unrecognised                []string
	// followUpBy bounds the writes that run after a cut AWS call; zero: none.
	followUpBy time.Time
	// deliveryID, archive and archiveCause: the archive's record; archived:
	// its fields on the request line (archive.go).
	deliveryID, archiveCause string
	archive                  archive.Recording
	archived                 []slog.Attr
	// calls: the AWS calls' latencies, when metrics are on (metrics.go).
	calls callTimes
	// business and tokenID: the business of a valid token on the Individual
	// Webhook route; businessRefused: the event was another business's (business.go).
	business, tokenID string
	businessRefused   bool
	// authenticated and credential: the Common Webhook's credential check
	// passed, and which credential matched (verify); the archive's record
	// reads them rather than checking again.
	authenticated bool
	credential    string
	// about: what the archive indexes the delivery by, from the parsed
	// event when parsed; else archive.go reads the body leniently.
	about  about
	parsed bool
}

// Handle answers one request. It never returns an error: every failure is
// answered with a status, so API Gateway never substitutes its own 500.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := h.now()
	r := &invocation{id: req.RequestContext.RequestID}
	if r.id == "" {
		r.id = randomID()
	}
	ctx = h.withCallTimes(ctx, r)
	// AWS calls stop before the invocation's deadline, so that a hanging call
	// is still answered (503) and logged rather than killed by Lambda.
	awsCtx, cancel, followUpBy := deadlines(ctx, start)
	defer cancel()
	r.followUpBy = followUpBy
	err := h.handle(awsCtx, req, r)
	status, body := http.StatusOK, OK
	if err != nil {
		status, body = Status(err)
		r.outcome = state.Rejected
		if status >= 500 {
			r.outcome = state.Failed
		}
	}
	h.record(ctx, req, r, start, status, body)
	h.logRequest(ctx, r, status, err, start, h.now())
	return response(status, body), nil
}

func (h *Handler) handle(ctx context.Context, req events.APIGatewayV2HTTPRequest, r *invocation) error {
	header := headers(req.Headers)
	r.mid = header("pb-webhook-mid")
	if m := req.RequestContext.HTTP.Method; m != "" && m != http.MethodPost {
		return fail(MethodNotAllowed, fmt.Sprintf("method %s is not allowed: POPBiLL webhooks are sent with POST", cashbill.Clip(m)), nil)
	}
	if err := h.checkSource(req.RequestContext.HTTP.SourceIP); err != nil {
		return err
	}
	if err := h.verify(ctx, req, header, r); err != nil {
		return err
	}
	if t := header("pb-webhook-type"); t != WebhookType {
		if t == "" {
			return fail(Invalid, "the Pb-Webhook-Type header is missing: this endpoint takes e-Cashbill events (CASHBILL.STATE)", nil)
		}
		return fail(Invalid, fmt.Sprintf("Pb-Webhook-Type %s is not accepted: this endpoint takes only e-Cashbill events (CASHBILL.STATE)", cashbill.Clip(t)), nil)
	}
	body, err := decodeBody(req)
	if err != nil {
		return err
	}
	// A byte-order mark is not JSON; the stored body must stay valid JSON.
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	ev, err := cashbill.Parse(body)
	if err != nil {
		return fail(Invalid, "the event was not accepted: "+err.Error(), err)
	}
	r.itemKey, r.stateCode, r.eventType = ev.ItemKey, ev.StateCode, ev.EventType
	r.about, r.parsed = about{ItemKey: ev.ItemKey, CorpNum: ev.CorpNum, FranchiseCorpNum: ev.FranchiseCorpNum, MgtKey: ev.MgtKey}, true
	if err := checkBusiness(ev, r); err != nil {
		return err
	}
	if err := h.checkEvent(ev, header); err != nil {
		return err
	}
	r.unrecognised = unrecognised(ev)

	rec := state.Delivery{Event: ev, MID: r.mid, ReceivedAt: h.now(), Body: body}
	if ev.NTSFilingFailed() {
		// The alert this delivery records is claimed in the same write, so
		// that publishing it needs no separate claim.
		rec.Alert = alert.Encode(failure(ev, r.mid))
		rec.AlertOwner, rec.AlertLeaseUntil = r.id+"/"+randomID(), rec.ReceivedAt.Add(outbox.Lease)
	}
	res, err := h.store.Apply(ctx, rec)
	if err != nil {
		return fail(Unavailable, "the event could not be stored just now; it was not lost: please retry (POPBiLL retries automatically)", err)
	}
	r.outcome = res.Outcome
	if res.Outcome == state.Stale {
		r.storedStateCode = res.StateCode
	}
	if res.AlertPending {
		return h.publishOwed(ctx, ev.ItemKey, rec, res.AlertClaimed, r)
	}
	return nil
}

func (h *Handler) checkSource(ip string) error {
	if len(h.rules.AllowedSources) == 0 {
		return nil
	}
	addr, err := netip.ParseAddr(ip)
	if err == nil {
		for _, p := range h.rules.AllowedSources {
			if p.Contains(addr.Unmap()) {
				return nil
			}
		}
	}
	return fail(Forbidden, "this endpoint accepts webhooks only from POPBiLL's published addresses", nil)
}

// checkEvent compares the body with the headers and the operator's rules.
func (h *Handler) checkEvent(ev cashbill.Event, header func(string) string) error {
	if t := header("pb-webhook-eventtype"); t != "" && t != ev.EventType {
		return fail(Invalid, fmt.Sprintf("the Pb-Webhook-EventType header (%s) does not match the body's eventType (%s)", cashbill.Clip(t), cashbill.Clip(ev.EventType)), nil)
	}
	if c := strings.ReplaceAll(header("pb-webhook-corpnum"), "-", ""); c != "" && c != ev.CorpNum && c != ev.FranchiseCorpNum {
		return fail(Invalid, fmt.Sprintf("the Pb-Webhook-Corpnum header (%s) matches neither corpNum nor franchiseCorpNum in the body", cashbill.Clip(c)), nil)
	}
	corp := ev.BusinessNumber()
	if len(h.rules.AllowedCorpNums) > 0 && !h.rules.AllowedCorpNums[corp] {
		return fail(Forbidden, fmt.Sprintf("business number %s is not served by this endpoint", corp), nil)
	}
	if h.rules.CheckCorpNumChecksum && !cashbill.ValidBusinessNumberChecksum(corp) {
		return fail(Invalid, fmt.Sprintf("business number %s fails the NTS check digit: it is not a valid business registration number", corp), nil)
	}
	return nil
}

// publishOwed publishes the alert the item owes, if this delivery holds its
// lease (claimed, when Apply recorded it for rec's owner) or can claim it. A
// failed claim or publish leaves it owed and answers 5xx, so POPBiLL's retry
// publishes it, or the sweeper does.
func (h *Handler) publishOwed(ctx context.Context, itemKey string, rec state.Delivery, claimed bool, r *invocation) error {
	const retry = "the event was stored but the NTS-failure alert could not be sent just now; please retry (POPBiLL retries automatically)"
	sender := h.outbox.WithClock(h.now).WithFollowUpBy(r.followUpBy)
	var (
		sent outbox.Sent
		err  error
	)
	owner := rec.AlertOwner
	if owner == "" {
		owner = r.id + "/" + randomID()
	}
	if claimed {
		sent, err = sender.SendClaimed(ctx, itemKey, owner, rec.Alert)
	} else {
		// Under the owner Apply asked for: if Apply's answer was lost after
		// it took the lease, the claim of the same owner succeeds again.
		sent, err = sender.Send(ctx, itemKey, owner)
	}
	r.alert, r.alertID, r.alertMessageID = sent.Status, sent.AlertID, sent.MessageID
	switch sent.Status {
	case outbox.ClaimFailed, outbox.PublishFailed, outbox.RouteFailed:
		return fail(Unavailable, retry, err)
	case outbox.Unreadable:
		return fail(Internal, "internal error: the stored alert could not be read", err)
	case outbox.PublishRefused:
		// SNS refused this alert as it is: a retry fails the same way, so
		// 503 ("please retry") would be a promise not kept. The alert stays
		// owed and the request line is logged at ERROR with
		// alert=publish-refused; 500 keeps the failure visible in POPBiLL's
		// execution history, the one place besides the alert where a person
		// can still learn of this NTS failure.
		return fail(Internal, "internal error: the event was stored but the alert service refused the NTS-failure alert; it stays owed until the receiver's operator fixes the cause", err)
	case outbox.PublishedUnrecorded:
		// The alert went out. Answering 5xx would make POPBiLL retry and page
		// again; the lease keeps other deliveries and the sweeper off it while it runs.
		h.log.ErrorContext(ctx, "alert published but not recorded", "itemKey", itemKey, "alertId", sent.AlertID, "alertMessageId", sent.MessageID, "cause", sent.Cause)
	}
	// Sent, or already sent, held by another delivery, or nothing owed.
	return nil
}

// failure is the alert a 305 owes, each field cleaned and clipped by
// alert.FromEvent: one line of printable text, short enough for SNS.
func failure(ev cashbill.Event, mid string) alert.Failure {
	return alert.FromEvent(ev, mid, alert.KindFailure)
}

// unrecognised names the event's values the receiver has no meaning for:
// they are stored and acknowledged, and logged so an operator notices.
func unrecognised(ev cashbill.Event) []string {
	var out []string
	switch ev.StateCode {
	case cashbill.StateIssued, cashbill.StateNTSSuccess, cashbill.StateNTSFailed:
	default:
		out = append(out, "stateCode")
	}
	switch ev.EventType {
	case "Issue", "NTS":
	default:
		out = append(out, "eventType")
	}
	return out
}

func decodeBody(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	tooLarge := func() error {
		return fail(TooLarge, fmt.Sprintf("the request body is larger than %d KiB: a cashbill event is far smaller", MaxBody>>10), nil)
	}
	if !req.IsBase64Encoded {
		if len(req.Body) > MaxBody {
			return nil, tooLarge()
		}
		return []byte(req.Body), nil
	}
	if base64.StdEncoding.DecodedLen(len(req.Body)) > MaxBody+3 {
		return nil, tooLarge()
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, fail(Invalid, "the request body is marked base64-encoded but is not valid base64", err)
	}
	if len(b) > MaxBody {
		return nil, tooLarge()
	}
	return b, nil
}

// headers looks request headers up case-insensitively: HTTP APIs lower-case
// them, other callers may not. A name is looked up as given, then lower-cased
// (HTTP APIs' form), and only then compared with each header, so the usual
// request costs a map lookup or two and no copy of its headers.
func headers(h map[string]string) func(string) string {
	return func(name string) string {
		if v, ok := h[name]; ok {
			return strings.TrimSpace(v)
		}
		if lower := strings.ToLower(name); lower != name {
			if v, ok := h[lower]; ok {
				return strings.TrimSpace(v)
			}
		}
		for k, v := range h {
			if strings.EqualFold(k, name) {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
}

func response(status int, body string) events.APIGatewayV2HTTPResponse {
	resp := events.APIGatewayV2HTTPResponse{StatusCode: status, Body: body, Headers: map[string]string{}}
	if status == http.StatusOK {
		resp.Headers["Content-Type"] = "application/json"
		return resp
	}
	resp.Headers["Content-Type"] = "text/plain; charset=utf-8"
	switch status {
	case http.StatusMethodNotAllowed:
		resp.Headers["Allow"] = http.MethodPost
	case http.StatusServiceUnavailable:
		resp.Headers["Retry-After"] = "60"
	}
	return resp
}

func (h *Handler) logRequest(ctx context.Context, r *invocation, status int, err error, start, end time.Time) {
	latency := end.Sub(start)
	// mid and eventType come from the caller, authenticated or not: clipped
	// like every echoed value. itemKey is 18 digits once it is set.
	// Room for every member the line can have, metrics included, so that
	// appending never copies the slice.
	attrs := make([]slog.Attr, 0, 32)
	attrs = append(attrs,
		slog.String("apiRequestId", r.id), slog.String("mid", cashbill.Clip(r.mid)),
		slog.String("itemKey", r.itemKey), slog.Int("stateCode", r.stateCode),
		slog.String("eventType", cashbill.Clip(r.eventType)), slog.String("outcome", string(r.outcome)),
		slog.Int("status", status), slog.Float64("latencyMs", float64(latency.Microseconds())/1000))
	if r.storedStateCode != 0 {
		attrs = append(attrs, slog.Int("storedStateCode", r.storedStateCode))
	}
	if r.alert != "" {
		attrs = append(attrs, slog.String("alert", string(r.alert)))
	}
	if r.alertID != "" {
		attrs = append(attrs, slog.String("alertId", r.alertID))
	}
	if r.alertMessageID != "" {
		attrs = append(attrs, slog.String("alertMessageId", r.alertMessageID))
	}
	if len(r.unrecognised) > 0 {
		attrs = append(attrs, slog.Any("unrecognised", r.unrecognised))
	}
	if r.deliveryID != "" {
		attrs = append(attrs, slog.String("deliveryId", r.deliveryID))
	}
	if r.archive != "" {
		attrs = append(attrs, slog.String("archive", string(r.archive)))
	}
	if r.archiveCause != "" {
		attrs = append(attrs, slog.String("archiveCause", r.archiveCause))
	}
	level := slog.LevelInfo
	if err != nil {
		attrs = append(attrs, slog.String("reason", err.Error()))
		level = slog.LevelWarn
		if status >= 500 {
			attrs = append(attrs, slog.String("cause", cause(err)))
			level = slog.LevelError
		}
	}
	attrs = append(attrs, r.archived...)
	if !h.log.Enabled(ctx, level) {
		return
	}
	// The record is handed to the handler directly: no caller's PC to look
	// up (the line names no source). With metrics, the EMF block's Timestamp
	// is the line's time, to the millisecond, and CloudWatch Logs stamps the
	// event: the line leaves out a timestamp of its own (48 bytes of every
	// delivery's log bill).
	at := end
	if h.namespace != "" {
		attrs = append(attrs, h.metricAttrs(r, err, end)...)
		at = time.Time{}
	}
	rec := slog.NewRecord(at, level, "request", 0)
	rec.AddAttrs(attrs...)
	_ = h.log.Handler().Handle(ctx, rec)
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
