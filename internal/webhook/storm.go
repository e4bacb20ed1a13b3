package webhook

import (
	"context"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// AlertDigested: the alert went into its business's storm-window digest
// instead of a message of its own (the sweeper publishes the digest when the
// window ends); AlertRouteFailed: counting it in its window failed, and it
// stays owed.
const (
	AlertDigested    = "digested"
	AlertRouteFailed = "route-failed"
)

// StormPolicy is how many failure alerts of one business a window sends one
// by one (Threshold; 0: every one), and how long a window lasts.
type StormPolicy struct {
	Threshold int
	Window    time.Duration
}

// WithStorms routes every failure alert through its business's storm window
// before it is published (Sender.Storms).
func WithStorms(storms state.StormRouter, policy StormPolicy) Option {
	return func(h *Handler) { h.storms, h.storm = storms, policy }
}

// route counts f in its business's window: digested is true when the
// window's digest carries it instead of a message of its own.
func (s Sender) route(ctx context.Context, itemKey, owner string, f alert.Failure) (sent Sent, digested bool, err error) {
	if s.Storms == nil || s.Storm.Threshold <= 0 || s.Storm.Window <= 0 || alert.KindOf(f) != alert.KindFailure {
		return Sent{}, false, nil
	}
	routed, err := s.Storms.RouteAlert(ctx, f.FranchiseCorpNum, state.WindowStart(s.Now(), s.Storm.Window), s.Storm.Window,
		s.Storm.Threshold, owner, state.StormEntry{ItemKey: itemKey, MgtKey: f.MgtKey, Code: f.NTSResultCode, Kind: alert.KindOf(f)})
	if err != nil {
		release, cancel := followUp(ctx, s.FollowUpBy)
		_ = s.Store.ReleaseAlert(release, itemKey, owner)
		cancel()
		return Sent{Status: AlertRouteFailed, AlertID: alert.IDOf(f), Cause: cause(err)}, false, err
	}
	if !routed.Digested {
		return Sent{}, false, nil
	}
	return Sent{Status: AlertDigested, AlertID: alert.ID(routed.WindowKey, alert.KindDigest)}, true, nil
}
