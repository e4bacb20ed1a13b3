package outbox

import (
	"context"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/awserr"
)

// route counts f in its business's window: digested is true when the
// window's digest carries it instead of a message of its own.
func (o *Outbox) route(ctx context.Context, itemKey, owner string, f alert.Failure) (sent Sent, digested bool, err error) {
	if o.storms == nil || o.storm.Threshold <= 0 || o.storm.Window <= 0 || alert.KindOf(f) != alert.KindFailure {
		return Sent{}, false, nil
	}
	routed, err := o.storms.RouteAlert(ctx, f.FranchiseCorpNum, WindowStart(o.now(), o.storm.Window), o.storm.Window,
		o.storm.Threshold, owner, StormEntry{ItemKey: itemKey, MgtKey: f.MgtKey, Code: f.NTSResultCode, Kind: alert.KindOf(f)})
	if err != nil {
		o.release(ctx, itemKey, owner)
		return Sent{Status: RouteFailed, AlertID: alert.IDOf(f), Cause: awserr.Cause(err)}, false, err
	}
	if !routed.Digested {
		return Sent{}, false, nil
	}
	return Sent{Status: Digested, AlertID: alert.ID(routed.WindowKey, alert.KindDigest)}, true, nil
}

// Digests is what PublishDigests found and did.
type Digests struct {
	// Found: windows whose digest was due.
	Found int
	// Published: digests published.
	Published int
	// Skipped: windows another publisher holds.
	Skipped int
	// Failed names what failed, once per window left due for the next run
	// (and once for a failed look-up of the due windows).
	Failed []string
}

// PublishDigests publishes the digest of every window of storms that ended
// by now, up to limit: claim the window (which closes it to later alerts),
// publish one digest, record it, mark each member's alert sent with its
// message id, then take the window out of the queue. A failure leaves the
// window due for the next run, which resumes where this one stopped (a sent
// window is not published again).
func (o *Outbox) PublishDigests(ctx context.Context, storms Storms, now time.Time, owner string, limit int) Digests {
	var d Digests
	failed := func(err error) { d.Failed = append(d.Failed, awserr.Cause(err)) }
	windows, err := storms.DueWindows(ctx, now, limit)
	if err != nil {
		failed(err)
	}
	d.Found = len(windows)
	for _, due := range windows {
		w, ok, err := storms.ClaimWindow(ctx, due.Key, owner, now, Lease)
		switch {
		case err != nil:
			failed(err)
			continue
		case !ok:
			d.Skipped++
			continue
		}
		if w.Status != WindowSent {
			id, err := o.alerts.Publish(ctx, digestOf(w))
			if err != nil {
				failed(err)
				continue
			}
			d.Published++
			if err := storms.MarkWindowSent(ctx, w.Key, owner, id); err != nil {
				// Published, not recorded: the lease keeps others off it for now;
				// the Slack ledger drops a second copy by its alert id.
				failed(err)
				continue
			}
			w.MessageID = id
		}
		if err := markMembers(ctx, storms, w, now); err != nil {
			failed(err)
		}
	}
	return d
}

func markMembers(ctx context.Context, storms Storms, w Window, now time.Time) error {
	for _, e := range w.Entries {
		if err := storms.MarkDigestedSent(ctx, e.ItemKey, w.Key, w.MessageID, now); err != nil {
			return err
		}
	}
	return storms.FinishWindow(ctx, w.Key)
}

// digestOf is the digest alert of window w.
func digestOf(w Window) alert.Failure {
	d := alert.Digest{WindowStart: w.Start, WindowEnd: w.End, SentIndividually: len(w.SentKeys)}
	for _, e := range w.Entries {
		d.Entries = append(d.Entries, alert.DigestEntry{ItemKey: e.ItemKey, MgtKey: e.MgtKey, Code: e.Code, Kind: e.Kind})
	}
	return alert.NewDigest(w.CorpNum, w.Key, d)
}
