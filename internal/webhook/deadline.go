package webhook

import (
	"context"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
)

// MaxDeadlineMargin is the most time kept back from AWS calls at the end of
// an invocation; see deadlineMargin.
const MaxDeadlineMargin = time.Second

// deadlineMargin is the time kept back, before the invocation's deadline,
// for answering and logging once an AWS call has been cut: a tenth of the
// time left, at most MaxDeadlineMargin. With the template's 10-second timeout
// that is 1 s: the SDK's own retries of a throttled call are cut 1 s early,
// and that second is far more than what follows the cut needs (one
// best-effort DynamoDB write to release or mark the alert, one local log
// write, the response to the runtime API), each a few milliseconds. A tenth
// keeps a short invocation (a test, a tight timeout) mostly for the work.
func deadlineMargin(left time.Duration) time.Duration {
	return min(left/10, MaxDeadlineMargin)
}

// deadlines returns the context for the AWS calls that decide the answer
// (store, claim, publish), whose deadline is the invocation's less the
// margin, and the deadline for the follow-up writes that run even after
// those were cut (release, mark sent): half-way into the margin. Without a
// deadline (the local server), both are unbounded as before.
func deadlines(ctx context.Context, now time.Time) (context.Context, context.CancelFunc, time.Time) {
	end, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}, time.Time{}
	}
	margin := deadlineMargin(end.Sub(now))
	aws, cancel := context.WithDeadline(ctx, end.Add(-margin))
	return aws, cancel, end.Add(-margin / 2)
}

// followUp is the context of a write that must run even though the request's
// context was cancelled or cut (outbox.FollowUp).
func followUp(ctx context.Context, by time.Time) (context.Context, context.CancelFunc) {
	return outbox.FollowUp(ctx, by)
}
