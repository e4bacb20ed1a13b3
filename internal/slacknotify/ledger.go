package slacknotify

import (
	"context"
	"time"
)

// Ledger records which alerts have been posted, so that the notifier posts
// each alert once although SNS delivers to Lambda at least once and the
// webhook may, in the windows docs/reliability.md names, publish an alert
// twice. An alert is known by a stable id (the alertId message attribute:
// itemKey/kind), not by the SNS message id, which differs between two
// publishes of the same alert.
//
// Adapters: ledger.Dynamo (production) and ledger.Memory (local runs); both
// pass ledgertest.
type Ledger interface {
	// Claim takes id for owner until now+lease. It reports Posted when id was
	// posted before (nothing to do), and HeldUntil when another owner is
	// posting it now. A claim by the lease's own owner succeeds again, so an
	// answer lost in transit is harmless.
	Claim(ctx context.Context, id, owner string, now time.Time, lease time.Duration) (Claim, error)
	// MarkPosted records that owner posted id; the claim then never expires.
	MarkPosted(ctx context.Context, id, owner string, now time.Time) error
	// Release gives back owner's claim after a failed post, so that Lambda's
	// retry can post at once.
	Release(ctx context.Context, id, owner string) error
}

// Claim is what Ledger.Claim found.
type Claim struct {
	Claimed bool
	// Posted: the alert was posted before.
	Posted bool
	// HeldUntil: another owner's claim runs until then.
	HeldUntil time.Time
}

// PostLease is how long one invocation holds an alert it is posting: longer
// than the function's timeout (45 s), so a claim outlives the invocation
// that took it, and short enough that Lambda's retry, a minute or more
// later, finds a crashed invocation's claim expired.
const PostLease = 50 * time.Second

// Retention is how long the ledger remembers a posted alert: past every
// retry there is (POPBiLL's manual re-runs can come days later; the sweeper
// publishes within minutes).
const Retention = 30 * 24 * time.Hour
