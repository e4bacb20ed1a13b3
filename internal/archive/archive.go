// Package archive is the record of every delivery the webhook answered,
// accepted or refused, authenticated or not: what arrived (the body as
// received, POPBiLL's headers, the caller's address, the request ids), how it
// was answered (status, outcome, reason) and which cashbill it was about when
// that is known. It is what an operator reads to answer "what happened to
// cashbill X?" and what a refused delivery is replayed from after a fix.
//
// Adapters: logarchive (production: the webhook's request line in CloudWatch
// Logs) and boltarchive (the local server's bbolt file). Both pass the
// contract in archivetest.
package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// Delivery is one archived delivery.
type Delivery struct {
	// ID is unique and sorts by ReceivedAt: see NewID.
	ID         string    `json:"id"`
	ReceivedAt time.Time `json:"receivedAt"`
	Status     int       `json:"status"`
	// Outcome is the webhook's (state.Stored, Duplicate, Stale, Rejected,
	// Failed), or state.Resent for a record of an alert resent on purpose.
	Outcome state.Outcome `json:"outcome"`
	// Reason is the plain-words body of a refusal, as the caller was answered.
	Reason string `json:"reason,omitempty"`

	// What the delivery was about, when known (after authentication).
	ItemKey   string `json:"itemKey,omitempty"`
	CorpNum   string `json:"corpNum,omitempty"`
	MgtKey    string `json:"mgtKey,omitempty"`
	StateCode int    `json:"stateCode,omitempty"`
	EventType string `json:"eventType,omitempty"`
	MID       string `json:"mid,omitempty"`

	SourceIP     string `json:"sourceIp,omitempty"`
	RequestID    string `json:"requestId,omitempty"`
	APIRequestID string `json:"apiRequestId,omitempty"`
	Method       string `json:"method,omitempty"`
	// Headers are POPBiLL's (Pb-Webhook-*) and Content-Type, lower-cased:
	// never Authorization or X-Api-Key.
	Headers map[string]string `json:"headers,omitempty"`
	// Body is the body as received: base64 text when Base64 is set.
	Body   []byte `json:"body,omitempty"`
	Base64 bool   `json:"isBase64Encoded,omitempty"`
	// BodySize is the received body's length; Truncated says Body holds
	// only its first bytes (an unauthenticated or oversized delivery), so
	// the delivery cannot be replayed.
	BodySize  int  `json:"bodySize"`
	Truncated bool `json:"truncated,omitempty"`
	// Authenticated: the caller passed the source and credential checks.
	Authenticated bool `json:"authenticated"`
	// Credential names which configured credential matched: "current" or
	// "next" during a rotation; empty when none did or none is required.
	Credential string `json:"credential,omitempty"`
	// ReplayOf is the ID of the delivery this one replayed (the operator tool).
	ReplayOf string `json:"replayOf,omitempty"`
	// ResentBy names the operator who published the cashbill's alert again
	// on purpose (cashbill alerts resend): such a record is no delivery
	// (Outcome state.Resent, no body) and its ReceivedAt is when the alert
	// was resent. AlertID and MessageID are that publish's.
	ResentBy  string `json:"resentBy,omitempty"`
	AlertID   string `json:"alertId,omitempty"`
	MessageID string `json:"messageId,omitempty"`
	// ExpiresAt is when the archive may drop the record (boltarchive); a log
	// group's retention is logarchive's, which keeps none.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// Refused reports whether outcome is a refused delivery's: answered 4xx
// (state.Rejected) or 5xx (state.Failed). Refused deliveries are a
// minority, looked up on their own (cashbill deliveries --outcome, replay),
// and the only ones whose request the production archive keeps.
func Refused(outcome state.Outcome) bool { return outcome == state.Rejected || outcome == state.Failed }

// Replayable reports whether the whole request is kept (a resend record
// keeps no request, nor does logarchive an applied delivery's).
func (d Delivery) Replayable() bool {
	return !d.Truncated && d.Outcome != state.Resent && len(d.Body) == d.BodySize
}

// RequestKept reports whether the archive kept any of d's request: the
// production archive keeps none of an applied delivery's (its content is
// in the state table), only its size.
func (d Delivery) RequestKept() bool { return d.BodySize == 0 || len(d.Body) > 0 }

// Recording is what became of a delivery's record in a Recorder: the
// webhook logs it as its request line's archive field (the local server's
// bbolt archive), and the operator's replay and alerts resend report it.
type Recording string

// The recordings.
const (
	// Recorded: the archive holds the record.
	Recorded Recording = "recorded"
	// RecordFailed: the record could not be written; the answer stands.
	RecordFailed Recording = "failed"
)

// Recorder writes deliveries. The webhook calls it once per request, after
// it has decided the answer.
type Recorder interface {
	Record(ctx context.Context, d Delivery) error
}

// Query selects deliveries received in [From, To), newest first.
type Query struct {
	From, To time.Time
	// Outcome and CorpNum, when set, keep only matching deliveries.
	Outcome state.Outcome
	CorpNum string
	// Limit caps the answer; 0 means DefaultLimit.
	Limit int
}

// DefaultLimit is the most deliveries a query returns unless told otherwise.
const DefaultLimit = 100

// Reader looks deliveries up. Every lookup is a key or index query, or a
// search the store filters (logarchive's FilterLogEvents): none reads the
// whole archive into the program.
type Reader interface {
	// Get returns one delivery, and false when there is none.
	Get(ctx context.Context, id string) (Delivery, bool, error)
	// ByItem returns the deliveries of one cashbill, newest first.
	ByItem(ctx context.Context, itemKey string, limit int) ([]Delivery, error)
	// ByMgtKey returns the deliveries of the seller's document mgtKey of
	// business corpNum, newest first.
	ByMgtKey(ctx context.Context, corpNum, mgtKey string, limit int) ([]Delivery, error)
	// Window returns the deliveries q selects, newest first.
	Window(ctx context.Context, q Query) ([]Delivery, error)
}

// KST is the time zone of POPBiLL, of its customers and of the archive's days.
var KST = time.FixedZone("KST", 9*60*60)

// Day is the archive's partition of t: its date in KST, as 2006-01-02.
func Day(t time.Time) string { return t.In(KST).Format(time.DateOnly) }

// idTime is the time part of an ID: UTC, fixed width, so IDs sort by time.
const idTime = "20060102T150405.000000Z"

// NewID returns an ID for a delivery received at t: its time, to the
// microsecond, then 8 random hex digits, so IDs sort by time and do not collide.
func NewID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format(idTime) + "-" + hex.EncodeToString(b[:])
}

// IDTime is the receive time an ID carries, to the microsecond, and false
// when id is not one NewID made.
func IDTime(id string) (time.Time, bool) {
	if len(id) < len(idTime) {
		return time.Time{}, false
	}
	t, err := time.Parse(idTime, id[:len(idTime)])
	return t, err == nil
}

// IDBound is the smallest ID of a delivery received at or after t: a range
// of IDs [IDBound(from), IDBound(to)) is a time window.
func IDBound(t time.Time) string { return t.UTC().Format(idTime) }

// Limit is n, or DefaultLimit when n is not positive.
func Limit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return n
}

// Days are the KST days that [from, to) touches, newest first.
func Days(from, to time.Time) []string {
	var out []string
	if !from.Before(to) {
		return nil
	}
	last := to.Add(-time.Nanosecond).In(KST)
	first := from.In(KST)
	d := time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, KST)
	start := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, KST)
	for !d.Before(start) {
		out = append(out, d.Format(time.DateOnly))
		d = d.AddDate(0, 0, -1)
	}
	return out
}

// Matches reports whether d passes q's filters (not its time window).
func (q Query) Matches(d Delivery) bool {
	return (q.Outcome == "" || d.Outcome == q.Outcome) && (q.CorpNum == "" || d.CorpNum == q.CorpNum)
}
