package sweeper

import (
	"context"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// WithStorms has the sweeper route the alerts it publishes through storm
// windows (as the webhook does) and publish each window's digest once the
// window has ended.
func (s *Sweeper) WithStorms(storms state.Storms, policy webhook.StormPolicy) *Sweeper {
	c := *s
	c.storms = storms
	c.sender.Storms, c.sender.Storm = storms, policy
	return &c
}

// sweepDigests publishes the digest of every window that ended by now: claim
// the window (which closes it to later alerts), publish one digest, record
// it, mark each member's alert sent with its message id, then take the window
// out of the queue. A failure leaves the window due for the next run, which
// resumes where this one stopped (a sent window is not published again).
func (s *Sweeper) sweepDigests(ctx context.Context, now time.Time, owner string, rep *Report, failed func(string)) {
	if s.storms == nil {
		return
	}
	windows, err := s.storms.DueWindows(ctx, now, s.settings.Batch)
	if err != nil {
		failed(webhook.Cause(err))
	}
	rep.Found += len(windows)
	for _, due := range windows {
		w, ok, err := s.storms.ClaimWindow(ctx, due.Key, owner, now, webhook.AlertLease)
		switch {
		case err != nil:
			failed(webhook.Cause(err))
			continue
		case !ok:
			rep.Skipped++
			continue
		}
		if w.Status != state.WindowSent {
			id, err := s.sender.Alerts.Publish(ctx, digestOf(w))
			if err != nil {
				failed(webhook.Cause(err))
				continue
			}
			rep.Published++
			if err := s.storms.MarkWindowSent(ctx, w.Key, owner, id); err != nil {
				// Published, not recorded: the lease keeps others off it for now;
				// the Slack ledger drops a second copy by its alert id.
				failed(webhook.Cause(err))
				continue
			}
			w.MessageID = id
		}
		if err := s.markMembers(ctx, w, now); err != nil {
			failed(webhook.Cause(err))
		}
	}
}

func (s *Sweeper) markMembers(ctx context.Context, w state.Window, now time.Time) error {
	for _, e := range w.Entries {
		if err := s.storms.MarkDigestedSent(ctx, e.ItemKey, w.Key, w.MessageID, now); err != nil {
			return err
		}
	}
	return s.storms.FinishWindow(ctx, w.Key)
}

// digestOf is the digest alert of window w.
func digestOf(w state.Window) alert.Failure {
	d := alert.Digest{WindowStart: w.Start, WindowEnd: w.End, SentIndividually: len(w.SentKeys)}
	for _, e := range w.Entries {
		d.Entries = append(d.Entries, alert.DigestEntry{ItemKey: e.ItemKey, MgtKey: e.MgtKey, Code: e.Code, Kind: e.Kind})
	}
	return alert.NewDigest(w.CorpNum, w.Key, d)
}
