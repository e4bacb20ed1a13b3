// Package outbox sends the alerts cashbills owe, the same way for every
// caller: the webhook, the sweeper, the local server and the operator's
// replay and resend all build their Outbox with New, from the same Settings.
//
// An alert's life: a delivery records it pending on its cashbill's item (in
// the same conditional write as the state, which is what keeps an owed alert
// from being lost between two writes; the slot therefore stays on the state
// store's item); a publisher claims it with a lease, publishes it, and marks
// it sent, or, in a storm, routes it into its business's window, whose digest
// the sweeper publishes once the window ends (digested, then sent).
package outbox

import (
	"context"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/awserr"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// Lease is how long one publisher holds the right to publish an owed alert
// or a window's digest. It is longer than the webhook's timeout, so a lease
// outlives the invocation that took it, and shorter than POPBiLL's 5-minute
// retry interval, so a retry after a crash finds it expired.
const Lease = 2 * time.Minute

// Status is what sending an owed alert came to, as logged.
type Status string

// The statuses of Send.
const (
	Published           Status = "published"
	PublishedUnrecorded Status = "published-unrecorded"
	ClaimFailed         Status = "claim-failed"
	PublishFailed       Status = "publish-failed"
	PublishRefused      Status = "publish-refused"
	Unreadable          Status = "unreadable"
	// Digested: the alert went into its business's storm-window digest
	// instead of a message of its own.
	Digested Status = "digested"
	// RouteFailed: counting it in its window failed, and it stays owed.
	RouteFailed Status = "route-failed"
	// The claim found nothing to publish: sent already, another
	// publisher's lease, nothing owed.
	AlreadySent   Status = "already-sent"
	HeldByAnother Status = "held-by-another"
	NothingOwed   Status = "nothing-owed"
)

// claimed is the Status of a claim that did not give the lease.
func claimed(c state.ClaimStatus) Status {
	switch c {
	case state.AlreadySent:
		return AlreadySent
	case state.HeldByAnother:
		return HeldByAnother
	case state.InDigest:
		return Digested
	}
	return NothingOwed
}

// Slots is the alert slot of each cashbill's item, kept by the state store
// (state.Store has these methods): the claim, its release and the record
// of a publish.
type Slots interface {
	ClaimAlert(ctx context.Context, itemKey, owner string, now time.Time, lease time.Duration) (state.Claim, error)
	ReleaseAlert(ctx context.Context, itemKey, owner string) error
	MarkAlertSent(ctx context.Context, itemKey, owner, messageID string, at time.Time) error
}

// StormPolicy is how many failure alerts of one business a window sends one
// by one (Threshold; 0: every one), and how long a window lasts.
type StormPolicy struct {
	Threshold int
	Window    time.Duration
}

// Settings are what every alert publisher of a deployment shares.
type Settings struct {
	// Presentation, when set, is stamped on every alert published (the
	// deployment's always is, from config.ReadOutbox; a test's may not be).
	Presentation *alert.Presentation
	// Storm routes failure alerts through storm windows when New is given them.
	Storm StormPolicy
}

// Outbox publishes owed alerts.
type Outbox struct {
	slots  Slots
	alerts alert.Publisher
	storms StormRouter
	storm  StormPolicy
	now    func() time.Time
	// followUpBy bounds the writes that must run even after ctx was cut
	// (release after a failed publish, mark sent): zero, no bound.
	followUpBy time.Time
}

// New returns the outbox publishing through alerts, every alert stamped
// with s.Presentation. storms, when not nil, routes failure alerts per
// s.Storm; give it only where a sweeper publishes the digests.
func New(slots Slots, alerts alert.Publisher, storms StormRouter, s Settings) *Outbox {
	if slots == nil || alerts == nil {
		panic("New: slots and alerts are required")
	}
	if s.Presentation != nil {
		alerts = stamped{alerts, *s.Presentation}
	}
	return &Outbox{slots: slots, alerts: alerts, storms: storms, storm: s.Storm, now: time.Now}
}

// stamped stamps each alert with the deployment's presentation.
type stamped struct {
	next alert.Publisher
	pres alert.Presentation
}

func (p stamped) Publish(ctx context.Context, f alert.Failure) (string, error) {
	return p.next.Publish(ctx, p.pres.Stamp(f))
}

// WithClock returns o reading the time from now.
func (o *Outbox) WithClock(now func() time.Time) *Outbox {
	c := *o
	c.now = now
	return &c
}

// WithFollowUpBy returns o bounding its follow-up writes by by (an
// invocation's deadline less a margin).
func (o *Outbox) WithFollowUpBy(by time.Time) *Outbox {
	c := *o
	c.followUpBy = by
	return &c
}

// Wrap returns o calling its slots and publisher through the wrappers (the
// webhook times each call for its metrics).
func (o *Outbox) Wrap(slots func(Slots) Slots, alerts func(alert.Publisher) alert.Publisher) *Outbox {
	c := *o
	c.slots, c.alerts = slots(o.slots), alerts(o.alerts)
	return &c
}

// Sent is what Send did.
type Sent struct {
	Status    Status
	AlertID   string
	MessageID string
	// Cause names what failed underneath (an AWS error code, a timeout),
	// never an error's text; for the log.
	Cause string
}

// Send publishes itemKey's owed alert under owner's lease. The error is set
// when the alert is still owed (claim or publish failed, SNS refused it, or
// the stored alert is unreadable); a publish whose record failed is Sent, and
// its lease keeps others off it until it expires.
func (o *Outbox) Send(ctx context.Context, itemKey, owner string) (Sent, error) {
	claim, err := o.slots.ClaimAlert(ctx, itemKey, owner, o.now(), Lease)
	if err != nil {
		return Sent{Status: ClaimFailed, Cause: awserr.Cause(err)}, err
	}
	if claim.Status != state.Claimed {
		return Sent{Status: claimed(claim.Status), MessageID: claim.MessageID}, nil
	}
	return o.SendClaimed(ctx, itemKey, owner, claim.Payload)
}

// SendClaimed publishes payload, itemKey's owed alert, whose lease owner
// already holds (taken by ClaimAlert, or by the Apply that recorded the
// alert: state.Result.AlertClaimed), and records it sent: Send without its claim.
func (o *Outbox) SendClaimed(ctx context.Context, itemKey, owner string, payload []byte) (Sent, error) {
	f, err := alert.Decode(payload)
	if err != nil {
		_ = o.slots.ReleaseAlert(ctx, itemKey, owner)
		return Sent{Status: Unreadable, Cause: awserr.Cause(err)}, err
	}
	// An alert stored before fields were cleaned may still be unpublishable.
	f = alert.Clean(f)
	if sent, digested, err := o.route(ctx, itemKey, owner, f); err != nil || digested {
		return sent, err
	}
	sent := Sent{AlertID: alert.IDOf(f)}
	id, err := o.alerts.Publish(ctx, f)
	if err != nil {
		// Best effort: an unreleased lease only delays the next try until it expires.
		o.release(ctx, itemKey, owner)
		sent.Status, sent.Cause = PublishFailed, awserr.Cause(err)
		if awserr.Permanent(err) {
			sent.Status = PublishRefused
		}
		return sent, err
	}
	sent.Status, sent.MessageID = Published, id
	mark, cancel := FollowUp(ctx, o.followUpBy)
	defer cancel()
	if err := o.slots.MarkAlertSent(mark, itemKey, owner, id, o.now()); err != nil {
		sent.Status, sent.Cause = PublishedUnrecorded, awserr.Cause(err)
	}
	return sent, nil
}

// Publish sends f as it is, outside any slot: the operator's resend of an
// alert already sent.
func (o *Outbox) Publish(ctx context.Context, f alert.Failure) (string, error) {
	return o.alerts.Publish(ctx, f)
}

func (o *Outbox) release(ctx context.Context, itemKey, owner string) {
	release, cancel := FollowUp(ctx, o.followUpBy)
	_ = o.slots.ReleaseAlert(release, itemKey, owner)
	cancel()
}

// FollowUp is the context of a write that must run even though ctx was
// cancelled or cut, bounded by the follow-up deadline by when there is one.
func FollowUp(ctx context.Context, by time.Time) (context.Context, context.CancelFunc) {
	ctx = context.WithoutCancel(ctx)
	if by.IsZero() {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, by)
}
