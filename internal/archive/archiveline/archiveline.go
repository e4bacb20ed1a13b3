// Package archiveline is the delivery archive's record as a log line: the
// fields the webhook's request line carries when the line is the archive
// (Attrs), and how a line reads back as an archive.Delivery (Decode). It
// imports no AWS SDK, so the webhook links no CloudWatch Logs client:
// Lambda ships the line. logarchive reads and writes such lines in
// CloudWatch Logs.
//
// A refused delivery (archive.Refused: answered 4xx or 5xx) keeps the request
// itself on its line, so that it can be replayed after a fix: POPBiLL's
// headers, the body as received, isBase64Encoded, truncated, authenticated
// and the method. An applied one (stored, duplicate, stale) keeps only its
// bodySize: its content is in the state table.
package archiveline

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// The messages of the lines the archive reads: the webhook's request line,
// and the record of an alert resent on purpose (cashbill alerts resend).
const (
	MessageRequest = "request"
	MessageResend  = "resend"
)

// line is a request line as the archive decodes it. The keys before the
// blank line are the request line's own (webhook.Handler writes them for
// every request); Attrs writes the rest.
type line struct {
	Message        string        `json:"message"`
	DeliveryID     string        `json:"deliveryId"`
	Status         int           `json:"status"`
	Outcome        state.Outcome `json:"outcome"`
	Reason         string        `json:"reason"`
	ItemKey        string        `json:"itemKey"`
	StateCode      int           `json:"stateCode"`
	EventType      string        `json:"eventType"`
	MID            string        `json:"mid"`
	APIRequestID   string        `json:"apiRequestId"`
	RequestID      string        `json:"requestId"`
	AlertID        string        `json:"alertId"`
	AlertMessageID string        `json:"alertMessageId"`

	CorpNum       string            `json:"corpNum"`
	MgtKey        string            `json:"mgtKey"`
	SourceIP      string            `json:"sourceIp"`
	BodySize      int               `json:"bodySize"`
	Credential    string            `json:"credential"`
	ReplayOf      string            `json:"replayOf"`
	ResentBy      string            `json:"resentBy"`
	Method        string            `json:"method"`
	Headers       map[string]string `json:"headers"`
	Body          *string           `json:"body"`
	Body64        []byte            `json:"body64"`
	Base64        bool              `json:"isBase64Encoded"`
	Truncated     bool              `json:"truncated"`
	Authenticated bool              `json:"authenticated"`
}

// Attrs are the archive's fields of d that the request line does not carry
// already under its own keys (deliveryId, status, outcome, reason, itemKey,
// stateCode, eventType, mid, apiRequestId, requestId): what the webhook adds
// to its line. The request itself only when d was refused.
func Attrs(d archive.Delivery) []slog.Attr {
	attrs := make([]slog.Attr, 0, 12)
	str := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	str("corpNum", d.CorpNum)
	str("mgtKey", d.MgtKey)
	str("sourceIp", d.SourceIP)
	attrs = append(attrs, slog.Int("bodySize", d.BodySize))
	str("credential", d.Credential)
	str("replayOf", d.ReplayOf)
	str("resentBy", d.ResentBy)
	if !archive.Refused(d.Outcome) {
		return attrs
	}
	str("method", d.Method)
	if len(d.Headers) > 0 {
		attrs = append(attrs, slog.Any("headers", d.Headers))
	}
	if len(d.Body) > 0 {
		// A body that is not UTF-8 would not survive JSON as text.
		if utf8.Valid(d.Body) {
			attrs = append(attrs, slog.String("body", string(d.Body)))
		} else {
			attrs = append(attrs, slog.Any("body64", d.Body))
		}
	}
	if d.Base64 {
		attrs = append(attrs, slog.Bool("isBase64Encoded", true))
	}
	if d.Truncated {
		attrs = append(attrs, slog.Bool("truncated", true))
	}
	return append(attrs, slog.Bool("authenticated", d.Authenticated))
}

// own are the request line's own keys for d, as the webhook writes them: a
// line Recorder writes is one the webhook could have written.
func own(d archive.Delivery) []slog.Attr {
	attrs := []slog.Attr{
		slog.String("apiRequestId", d.APIRequestID), slog.String("mid", d.MID),
		slog.String("itemKey", d.ItemKey), slog.Int("stateCode", d.StateCode),
		slog.String("eventType", d.EventType), slog.String("outcome", string(d.Outcome)),
		slog.Int("status", d.Status), slog.String("deliveryId", d.ID),
	}
	for _, kv := range [][2]string{{"alertId", d.AlertID}, {"alertMessageId", d.MessageID}, {"reason", d.Reason}, {"requestId", d.RequestID}} {
		if kv[1] != "" {
			attrs = append(attrs, slog.String(kv[0], kv[1]))
		}
	}
	return attrs
}

// Encode is d's line as the webhook's request line (or, for a resend
// record, the resend line) reads, in Lambda's JSON log format.
func Encode(d archive.Delivery) ([]byte, error) {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr})
	at, _ := archive.IDTime(d.ID)
	msg := MessageRequest
	if d.Outcome == state.Resent {
		msg = MessageResend
	}
	r := slog.NewRecord(at, slog.LevelInfo, msg, 0)
	r.AddAttrs(own(d)...)
	r.AddAttrs(Attrs(d)...)
	if err := h.Handle(context.Background(), r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Decode reads one log event's message: the delivery it archives, and false
// when it is no request line or resend record with a delivery ID.
func Decode(message string) (archive.Delivery, bool) {
	var l line
	if err := json.Unmarshal([]byte(message), &l); err != nil {
		return archive.Delivery{}, false
	}
	if l.Message != MessageRequest && l.Message != MessageResend {
		return archive.Delivery{}, false
	}
	at, ok := archive.IDTime(l.DeliveryID)
	if !ok {
		return archive.Delivery{}, false
	}
	d := archive.Delivery{
		ID: l.DeliveryID, ReceivedAt: at, Status: l.Status, Outcome: l.Outcome, Reason: l.Reason,
		ItemKey: l.ItemKey, CorpNum: l.CorpNum, MgtKey: l.MgtKey, StateCode: l.StateCode, EventType: l.EventType, MID: l.MID,
		SourceIP: l.SourceIP, RequestID: l.RequestID, APIRequestID: l.APIRequestID, Method: l.Method,
		Headers: l.Headers, Base64: l.Base64, BodySize: l.BodySize, Truncated: l.Truncated,
		Authenticated: l.Authenticated, Credential: l.Credential, ReplayOf: l.ReplayOf, ResentBy: l.ResentBy,
	}
	switch {
	case l.Body != nil:
		d.Body = []byte(*l.Body)
	case l.Body64 != nil:
		d.Body = l.Body64
	}
	if !archive.Refused(d.Outcome) {
		// Only an authenticated delivery is applied; a resend is an operator's.
		d.Authenticated = true
	}
	if d.Outcome == state.Resent {
		// A request line's alertId is the alert its delivery published, which
		// the archive does not keep; a resend record's is what it resent.
		d.AlertID, d.MessageID = l.AlertID, l.AlertMessageID
	}
	return d, true
}

// Kept is what the archive keeps of d: all of it when d was refused, else
// no request, only its size; and no ExpiresAt in either case: the log
// group's retention is the archive's.
func Kept(d archive.Delivery) archive.Delivery {
	d.ExpiresAt = time.Time{}
	if archive.Refused(d.Outcome) {
		return d
	}
	d.Method, d.Headers, d.Body, d.Base64, d.Truncated = "", nil, nil, false, false
	d.Authenticated = true
	return d
}
