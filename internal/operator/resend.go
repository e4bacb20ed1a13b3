package operator

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/awserr"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// Resent is what alerts resend did (or, with --dry-run, would do).
type Resent struct {
	ItemKey string     `json:"itemKey"`
	Kind    alert.Kind `json:"kind"`
	// Was is the alert's status before: sent (published again, under an
	// alert id of its own) or pending (published now, as the sweeper would).
	Was               state.AlertStatus `json:"was"`
	PreviousMessageID string            `json:"previousMessageId,omitempty"`
	// AlertID is the id the publish carries.
	AlertID   string    `json:"alertId"`
	DryRun    bool      `json:"dryRun,omitempty"`
	MessageID string    `json:"messageId,omitempty"`
	ResentBy  string    `json:"resentBy"`
	ResentAt  time.Time `json:"resentAt"`
	// RecordID is the resend's record in the delivery archive.
	RecordID string            `json:"recordId,omitempty"`
	Archive  archive.Recording `json:"archive,omitempty"`
}

// resendID is the alert id of a sent alert published again: its own, so
// that subscribers that drop a second delivery of an alert id (the Slack
// notifier's ledger) still show the operator's resend.
func resendID(f alert.Failure, at time.Time) string {
	return alert.IDOf(f) + "/resent-" + at.UTC().Format("20060102T150405Z")
}

func resend(ctx context.Context, e *Env, args []string) error {
	var (
		t              Target
		asJSON, dryRun bool
		by             string
		usage          = "alerts resend [flags] ITEMKEY"
	)
	fs := e.flagSet("alerts resend", usage, &t, &asJSON)
	fs.BoolVar(&dryRun, "dry-run", false, "show what would be published, changing nothing")
	fs.StringVar(&by, "by", or(e.Getenv("USER"), "operator"), "who resends it, recorded with it")
	fs.Usage = helpWith(fs, usage, `publish a cashbill's alert again on purpose, through the alert topic
(printed on the local store), and record it in the delivery archive with who, when and the message
id (status ITEMKEY lists it). A sent alert goes out under an alert id of its own
(<itemKey>/<kind>/resent-<time>), so that subscribers that drop a repeated alert id show it; a
pending one is claimed and published as the sweeper would, then marked sent. An alert another
publisher holds right now is refused (exit 5); a cashbill with no alert too (exit 3)`)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "give one ITEMKEY")
	}
	if err := checkItemKey(fs, pos[0]); err != nil {
		return err
	}
	key := pos[0]
	b, err := e.Open(ctx, t, !dryRun)
	if err != nil {
		return err
	}
	defer b.Close()

	it, found, err := b.State.Get(ctx, key)
	switch {
	case err != nil:
		return err
	case !found:
		return exit(ExitNotFound, "no cashbill %s in the state store: nothing to resend", key)
	case it.AlertStatus == "" || len(it.AlertPayload) == 0:
		return exit(ExitNotFound, "cashbill %s has no alert to resend: it is at %d %s, and only an NTS failure (305) or an NTS result overdue raises one",
			key, it.Event.StateCode, stateName(it.Event))
	}
	f, err := alert.Decode(it.AlertPayload)
	if err != nil {
		return exit(ExitFailed, "the stored alert of %s is unreadable: nothing was published", key)
	}
	now := time.Now()
	r := Resent{ItemKey: key, Kind: alert.KindOf(f), Was: it.AlertStatus, PreviousMessageID: it.AlertMessageID,
		AlertID: alert.IDOf(f), DryRun: dryRun, ResentBy: by, ResentAt: now}
	owner := "operator/" + by
	if it.AlertStatus == state.AlertPending && it.AlertLeaseOwner != "" && it.AlertLeaseOwner != owner && !it.AlertLeaseUntil.Before(now) {
		return exit(ExitRefused, "the alert of %s is being published by %s (lease until %s KST): nothing was published; look again with status %s",
			key, it.AlertLeaseOwner, kst(it.AlertLeaseUntil), key)
	}
	if it.AlertStatus == state.AlertSent {
		r.AlertID = resendID(f, now)
	}
	if dryRun {
		return printResent(e, r, asJSON)
	}
	pub := b.Alerts
	if pub == nil {
		if !b.Local {
			return exit(ExitUsage, "resend needs the alert topic: --topic, ALERT_TOPIC_ARN or --stack")
		}
		pub = consolealert.New(e.Stderr)
	}

	out := b.outbox(b.Store, pub)
	if it.AlertStatus == state.AlertPending {
		// Owed and not yet published: the same claim, publish and mark as
		// the webhook and the sweeper, so that it is not published twice.
		sent, err := out.Send(ctx, key, owner)
		switch {
		case err != nil:
			return exit(ExitFailed, "the alert of %s was not published (%s, %s): it is still owed", key, sent.Status, or(sent.Cause, "-"))
		case sent.Status == outbox.HeldByAnother || sent.Status == outbox.AlreadySent:
			return exit(ExitRefused, "the alert of %s was published or claimed by another publisher meanwhile (%s): look with status %s", key, sent.Status, key)
		case sent.Status == outbox.NothingOwed:
			return exit(ExitNotFound, "cashbill %s no longer owes an alert", key)
		}
		r.MessageID = sent.MessageID
	} else {
		f.AlertID = r.AlertID
		id, err := out.Publish(ctx, f)
		if err != nil {
			return exit(ExitFailed, "the alert of %s was not published (%s): nothing recorded", key, awserr.Cause(err))
		}
		r.MessageID = id
	}

	ev := it.Event
	rec := archive.Delivery{
		ID: archive.NewID(now), ReceivedAt: now, Outcome: state.Resent, Authenticated: true,
		Reason:  fmt.Sprintf("%s alert resent by %s", r.Kind, by),
		ItemKey: key, CorpNum: ev.BusinessNumber(), MgtKey: ev.MgtKey, StateCode: ev.StateCode, EventType: ev.EventType,
		ResentBy: by, AlertID: r.AlertID, MessageID: r.MessageID,
	}
	if b.Retention > 0 {
		rec.ExpiresAt = now.Add(b.Retention)
	}
	r.RecordID, r.Archive = rec.ID, archive.Recorded
	recErr := b.Recorder.Record(ctx, rec)
	if recErr != nil {
		r.RecordID, r.Archive = "", archive.RecordFailed
	}
	if err := printResent(e, r, asJSON); err != nil {
		return err
	}
	if recErr != nil {
		return exit(ExitFailed, "published as %s, but its record in the archive failed (%s)", r.MessageID, awserr.Cause(recErr))
	}
	return nil
}

func printResent(e *Env, r Resent, asJSON bool) error {
	if asJSON {
		return writeJSON(e.Stdout, r)
	}
	printResentTable(e.Stdout, r)
	return nil
}

func printResentTable(w io.Writer, r Resent) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "itemKey\t%s\n", r.ItemKey)
	was := string(r.Was)
	if r.PreviousMessageID != "" {
		was += ", message id " + r.PreviousMessageID
	}
	fmt.Fprintf(tw, "alert\t%s (%s)\n", r.Kind, was)
	if r.DryRun {
		fmt.Fprintf(tw, "would publish\t%s, recorded as resent by %s\n", r.AlertID, r.ResentBy)
	} else {
		fmt.Fprintf(tw, "published\t%s, message id %s\n", r.AlertID, r.MessageID)
		fmt.Fprintf(tw, "resent\t%s KST by %s\n", kst(r.ResentAt), r.ResentBy)
		fmt.Fprintf(tw, "archived\t%s\n", or(r.RecordID, string(archive.RecordFailed)))
	}
	tw.Flush()
}
