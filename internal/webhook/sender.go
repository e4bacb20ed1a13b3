package webhook

import (
	"context"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// What sending an owed alert came to, as logged.
const (
	AlertPublished           = "published"
	AlertPublishedUnrecorded = "published-unrecorded"
	AlertClaimFailed         = "claim-failed"
	AlertPublishFailed       = "publish-failed"
	AlertPublishRefused      = "publish-refused"
	AlertUnreadable          = "unreadable"
)

// Sender publishes the alert an item owes: claim it with a lease, publish it,
// record it sent. The webhook and the sweeper both send through it, so an
// alert goes out the same way whoever finds it owed.
type Sender struct {
	Store  state.Store
	Alerts alert.Publisher
	Now    func() time.Time
	// FollowUpBy bounds the writes that must run even after ctx was cut
	// (release after a failed publish, mark sent): zero, no bound.
	FollowUpBy time.Time
	// Storms, when set, counts each failure alert in its business's storm
	// window first: above Storm.Threshold it goes into the window's digest.
	Storms state.StormRouter
	Storm  StormPolicy
}

// Sent is what Send did.
type Sent struct {
	// Status is one of the Alert* constants or a state.ClaimStatus word
	// (already-sent, held-by-another, nothing-owed).
	Status    string
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
func (s Sender) Send(ctx context.Context, itemKey, owner string) (Sent, error) {
	claim, err := s.Store.ClaimAlert(ctx, itemKey, owner, s.Now(), AlertLease)
	if err != nil {
		return Sent{Status: AlertClaimFailed, Cause: cause(err)}, err
	}
	if claim.Status != state.Claimed {
		return Sent{Status: claim.Status.String(), MessageID: claim.MessageID}, nil
	}
	return s.SendClaimed(ctx, itemKey, owner, claim.Payload)
}

// SendClaimed publishes payload, itemKey's owed alert, whose lease owner
// already holds (taken by ClaimAlert, or by the Apply that recorded the
// alert: state.Result.AlertClaimed), and records it sent: Send without its claim.
func (s Sender) SendClaimed(ctx context.Context, itemKey, owner string, payload []byte) (Sent, error) {
	f, err := alert.Decode(payload)
	if err != nil {
		_ = s.Store.ReleaseAlert(ctx, itemKey, owner)
		return Sent{Status: AlertUnreadable, Cause: cause(err)}, err
	}
	// An alert stored before fields were cleaned may still be unpublishable.
	f = alert.Clean(f)
	if sent, digested, err := s.route(ctx, itemKey, owner, f); err != nil || digested {
		return sent, err
	}
	sent := Sent{AlertID: alert.IDOf(f)}
	id, err := s.Alerts.Publish(ctx, f)
	if err != nil {
		// Best effort: an unreleased lease only delays the next try until it expires.
		release, cancel := followUp(ctx, s.FollowUpBy)
		_ = s.Store.ReleaseAlert(release, itemKey, owner)
		cancel()
		sent.Status, sent.Cause = AlertPublishFailed, cause(err)
		if permanent(err) {
			sent.Status = AlertPublishRefused
		}
		return sent, err
	}
	sent.Status, sent.MessageID = AlertPublished, id
	mark, cancel := followUp(ctx, s.FollowUpBy)
	defer cancel()
	if err := s.Store.MarkAlertSent(mark, itemKey, owner, id, s.Now()); err != nil {
		sent.Status, sent.Cause = AlertPublishedUnrecorded, cause(err)
	}
	return sent, nil
}

// Cause names what failed underneath err without its text, for a log line.
func Cause(err error) string { return cause(err) }
