// Package state is the store of each cashbill's latest state, keyed by POPBiLL's
// itemKey, and of the alert that a 305 owes until it has been published.
//
// The store, not the caller, enforces the two rules users rely on: a stored
// stateCode is replaced only by a greater one (a stale retry never overwrites
// a newer state), and an alert, once owed, stays owed until one publisher has
// claimed it and recorded its success (nothing lost, nothing paged twice).
//
// The alert slot lives on the cashbill's own item because Apply records a
// 305's alert in the same conditional write as its state: no crash between
// two writes can lose it. The rest of an alert's life (leases, storms,
// digests) is package outbox's; the adapters keep its storm windows in the
// same table or file.
//
// Adapters: dynamostore (production) and boltstore (embedded, for make run).
// Both pass the contract in statetest.
package state

import (
	"context"
	"encoding/json"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// Outcome is what became of a delivery: the one vocabulary of the webhook's
// request line (its outcome field and metric dimension), of the delivery
// archive (a record's outcome, kept as this text) and of the operator's
// --outcome filter.
type Outcome string

// The outcomes of Apply, and so of every delivery the store saw.
const (
	// Stored: the item was created, or its stateCode raised.
	Stored Outcome = "stored"
	// Duplicate: the stored stateCode equals the event's; nothing changed.
	Duplicate Outcome = "duplicate"
	// Stale: the stored stateCode is greater than the event's; nothing changed.
	Stale Outcome = "stale"
)

// The outcomes of a request the store never saw (or whose write did not
// complete): Apply never returns them; the webhook answers with them.
const (
	// Rejected: answered 4xx; a retry of the same request fails the same way.
	Rejected Outcome = "rejected"
	// Failed: answered 5xx; a retry may succeed.
	Failed Outcome = "failed"
)

// Resent is no delivery's outcome: it marks the archive's record of an
// alert an operator published again on purpose (cashbill alerts resend).
// Neither Apply nor the webhook produces it.
const Resent Outcome = "resent"

// Outcomes are every outcome, in the order above.
var Outcomes = []Outcome{Stored, Duplicate, Stale, Rejected, Failed, Resent}

// AlertStatus is where an item's alert slot is in its life: pending
// (owed; claimed under a lease while a publisher has it), digested (a
// storm window's digest carries it), then sent.
type AlertStatus string

// The statuses of an item's alert slot; empty: no alert.
const (
	AlertPending AlertStatus = "pending"
	AlertSent    AlertStatus = "sent"
)

// FailureRecorded reports whether an item with this alert slot already owes
// or has sent its failure alert. A slot with a status and no kind is a
// failure alert stored before kinds existed.
func FailureRecorded(kind alert.Kind, status AlertStatus) bool {
	return status != "" && kind != alert.KindOverdue
}

// Delivery is one accepted delivery, as Apply takes it.
type Delivery struct {
	Event      cashbill.Event
	MID        string
	ReceivedAt time.Time
	// Body is the raw request body. The store keeps what it says beside the
	// Event: the fields the Event does not name (Extra).
	Body []byte
	// Alert, when set, is the failure alert of a 305. It is stored as
	// pending, to be claimed and published, unless the item already holds a
	// failure alert, whether or not the delivery raises the state.
	Alert []byte
	// AlertOwner, when set, claims the alert Apply records for this owner
	// until AlertLeaseUntil, in the same write, so that the delivery that
	// creates an owed alert publishes it without a ClaimAlert call. Empty:
	// the alert is recorded unclaimed.
	AlertOwner      string
	AlertLeaseUntil time.Time
}

// Extra is what the store keeps of the body beside the Event: its fields
// the Event does not name (cashbill.Extra), nil when there are none.
func (d Delivery) Extra() json.RawMessage { return cashbill.Extra(d.Body) }

// Result is what Apply found and did.
type Result struct {
	Outcome Outcome
	// StateCode is the stateCode stored after the call.
	StateCode int
	// PreviousStateCode is, for Stored, the stateCode the delivery replaced,
	// as the adapter read it in the same write; 0 when it created the item.
	PreviousStateCode int
	// AlertPending is true when the item owes an unpublished alert, whether
	// this delivery created it or an earlier delivery failed to publish it.
	AlertPending bool
	// AlertClaimed is true when this Apply recorded the pending alert under
	// the delivery's AlertOwner lease: the owner publishes it with no claim.
	AlertClaimed bool
}

// Item is a cashbill as stored.
type Item struct {
	Event      cashbill.Event `json:"event"`
	MID        string         `json:"mid"`
	ReceivedAt time.Time      `json:"receivedAt"`
	// Extra holds the fields of the body of the delivery that set the state
	// that Event does not name (stateMemo, fields POPBiLL adds later), as one
	// JSON object; empty when it had none. Event and Extra are the whole body.
	Extra          json.RawMessage `json:"extra,omitempty"`
	AlertKind      alert.Kind      `json:"alertKind,omitempty"`
	AlertStatus    AlertStatus     `json:"alertStatus,omitempty"`
	AlertMessageID string          `json:"alertMessageId,omitempty"`
	AlertSentAt    time.Time       `json:"alertSentAt,omitzero"`
	// AlertLeaseOwner and AlertLeaseUntil are the claim on a pending alert
	// as read: who is publishing it and until when (the operator's alert
	// list). Readers fill them; writers ignore them.
	AlertLeaseOwner string    `json:"alertLeaseOwner,omitempty"`
	AlertLeaseUntil time.Time `json:"alertLeaseUntil,omitzero"`
	// AlertPayload is the stored alert as written (alert.Encode), for the
	// operator's resend; readers fill it. Not in the JSON form: it is the
	// alert itself, which may not be valid JSON if it was stored damaged.
	AlertPayload []byte `json:"-"`
	// DueQueue is QueueAlert, QueueResult or empty; DueAt is when the item
	// became due in it.
	DueQueue string    `json:"dueQueue,omitempty"`
	DueAt    time.Time `json:"dueAt,omitzero"`
	// AlertWindow is the storm window whose digest carries the alert
	// (AlertDigested, then AlertSent with the digest's message id).
	AlertWindow string `json:"alertWindow,omitempty"`
}

// The queues an item can wait in, each a sparse index: an item is in at most
// one; it leaves the alert queue once nothing is owed, and stays in the
// result queue once its result came (the watchdog's window passes it).
const (
	// QueueAlert: an alert is pending; DueAt is when it became owed.
	QueueAlert = "alert"
	// QueueResult: an issued cashbill (300) awaits its NTS result; DueAt is
	// ResultDueAt. No write takes an item out when its result arrives: its
	// entry stays, and the watchdog, which reads the queue as a moving window
	// (ResultEntries, ResultWatermark), skips it without a write.
	QueueResult = "result"
)

// ResultHorizon is how far behind its receipt a 300 may enter the result
// queue: ResultDueAt is never earlier than ResultHorizon before the 300 was
// received, so that a 300 delivered late (a manual re-run days after issue)
// enters where the watchdog's window has not yet passed. It equals the
// watchdog's default deadline.
const ResultHorizon = 66 * time.Hour

// ResultOverlap is how far behind ResultHorizon before now the watchdog
// re-examines the result queue's entries that its watermark has passed:
// an entry written just before a run may be invisible to it (the index is
// eventually consistent), and one whose overdue write failed is tried again
// for as long.
const ResultOverlap = 10 * time.Minute

// ResultDueAt is where an issued cashbill enters the result queue: its
// IssueDay, or ResultHorizon before it was received if that is later.
func ResultDueAt(ev cashbill.Event, received time.Time) time.Time {
	day := IssueDay(ev, received)
	if floor := received.Add(-ResultHorizon); floor.After(day) {
		return floor.Truncate(time.Millisecond)
	}
	return day
}

// AwaitingResult reports whether an item read from the result queue still
// awaits its NTS result: below 304 with an empty alert slot, the condition
// under which RaiseOverdue raises.
func (it Item) AwaitingResult() bool {
	return it.DueQueue == QueueResult && it.Event.StateCode < cashbill.StateNTSSuccess && it.AlertStatus == ""
}

// Position is a place in the result queue: an entry's DueAt and itemKey.
// The due index orders entries by DueAt; of one DueAt, in an order of its
// own, from which a read resumes after a named itemKey. An empty ItemKey is
// before every entry of its DueAt; the zero Position is before every entry.
type Position struct {
	DueAt   time.Time
	ItemKey string
}

// Entry is one entry of the result queue with its item as read. Found is
// false when the item is gone.
type Entry struct {
	At    Position
	Item  Item
	Found bool
}

// kst is Korea Standard Time, in which POPBiLL writes every date (no DST).
var kst = time.FixedZone("KST", 9*60*60)

// IssueDay is midnight KST of the cashbill's issue date: from issueDT, else
// eventDT, else the time the delivery was received.
func IssueDay(ev cashbill.Event, received time.Time) time.Time {
	for _, dt := range []string{ev.IssueDT, ev.EventDT} {
		if len(dt) < 8 {
			continue
		}
		if t, err := time.ParseInLocation("20060102", dt[:8], kst); err == nil {
			return t
		}
	}
	y, m, d := received.In(kst).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, kst)
}

// OverdueOutcome is what RaiseOverdue did.
type OverdueOutcome string

// The outcomes of RaiseOverdue.
const (
	// OverdueRaised: the item owes an overdue alert, now in QueueAlert.
	OverdueRaised OverdueOutcome = "raised"
	// ResultKnown: the item is in QueueResult but has its result (or an
	// alert) already; nothing was written.
	ResultKnown OverdueOutcome = "result-known"
	// OverdueNotOwed: the item was no longer in QueueResult.
	OverdueNotOwed OverdueOutcome = "not-owed"
)

// Queues is what the sweeper does beside claiming and marking: find the items
// due in a queue, and raise the overdue alert of an item still awaiting its
// result. None scans the table.
type Queues interface {
	// Due returns up to limit items of queue whose DueAt is at or before
	// through, earliest first. It may miss an item that became due in the
	// last moments (the index is eventually consistent): the next run finds it.
	// Of QueueResult it returns the items still awaiting their result
	// (AwaitingResult), from the watermark's DueAt on.
	Due(ctx context.Context, queue string, through time.Time, limit int) ([]Item, error)
	// ResultEntries returns up to limit entries of QueueResult after
	// position after and due at or before through, in index order, each
	// with its item as read, whether or not it still awaits its result.
	ResultEntries(ctx context.Context, after Position, through time.Time, limit int) ([]Entry, error)
	// ResultWatermark is the position through which the watchdog has
	// examined QueueResult; false when it never has.
	ResultWatermark(ctx context.Context) (Position, bool, error)
	// AdvanceResultWatermark stores p as the watermark unless the stored
	// one has a later DueAt, which it keeps (not an error): the watermark
	// never moves back in time. Of one DueAt, the last position stored stays.
	AdvanceResultWatermark(ctx context.Context, p Position) error
	// RaiseOverdue stores alert as the item's pending overdue alert if the
	// item is still in QueueResult, below stateCode 304 and with an empty
	// alert slot. It writes nothing otherwise.
	RaiseOverdue(ctx context.Context, itemKey string, alert []byte, now time.Time) (OverdueOutcome, error)
}

// Store is the state store port: everything the webhook does to an item.
type Store interface {
	// Apply stores r if no item exists for its itemKey or the stored
	// stateCode is smaller; otherwise it leaves the item as it is.
	Apply(ctx context.Context, r Delivery) (Result, error)
	// ClaimAlert takes the item's pending alert for owner until now+lease, so
	// that concurrent deliveries do not both publish it. A claim by the owner
	// that already holds the lease succeeds again (an SDK retry of a claim
	// whose answer was lost). When it does not claim, the Claim says why, as
	// read from the item: already sent, held by another owner, or nothing owed.
	ClaimAlert(ctx context.Context, itemKey, owner string, now time.Time, lease time.Duration) (Claim, error)
	// ReleaseAlert gives back owner's claim after a failed publish, so that the
	// next delivery can publish without waiting for the lease to expire.
	ReleaseAlert(ctx context.Context, itemKey, owner string) error
	// MarkAlertSent records owner's successful publish; the alert is then never
	// published again. Marking an alert that is no longer pending, or whose
	// lease owner has since changed (its lease expired and another took it, or
	// a failure alert replaced an overdue one), is not an error and changes nothing.
	MarkAlertSent(ctx context.Context, itemKey, owner, messageID string, at time.Time) error
}

// ClaimStatus is what ClaimAlert found.
type ClaimStatus int

// The answers of ClaimAlert.
const (
	// NothingOwed: no item, or an item with no alert.
	NothingOwed ClaimStatus = iota
	// Claimed: the caller holds the lease and publishes.
	Claimed
	// AlreadySent: the alert was published and recorded.
	AlreadySent
	// HeldByAnother: another owner's lease has not expired.
	HeldByAnother
	// InDigest: the alert is carried by a storm window's digest.
	InDigest
)

var claimStatusNames = [...]string{"nothing-owed", "claimed", "already-sent", "held-by-another", "digested"}

func (c ClaimStatus) String() string {
	if int(c) < len(claimStatusNames) {
		return claimStatusNames[c]
	}
	return "unknown"
}

// Claim is ClaimAlert's answer, each field read from the item.
type Claim struct {
	Status ClaimStatus
	// Payload is the alert to publish when Claimed.
	Payload []byte
	// MessageID is the recorded publish when AlreadySent.
	MessageID string
	// HeldBy and HeldUntil are the other lease when HeldByAnother.
	HeldBy    string
	HeldUntil time.Time
}

// Reader looks items up. It is apart from Store so that the webhook, which
// never reads an item back, is granted no read on the table.
type Reader interface {
	// Get returns the stored item, and false when there is none.
	Get(ctx context.Context, itemKey string) (Item, bool, error)
}
