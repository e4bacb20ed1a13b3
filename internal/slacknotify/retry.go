package slacknotify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	slackapi "github.com/slack-go/slack"
)

// deliveryError is why an attempt to post a message failed. Its text never
// contains the webhook URL.
type deliveryError struct {
	status     int           // Slack's HTTP status; 0 when no response came
	slackText  string        // what Slack said was wrong, e.g. invalid_payload
	retryAfter time.Duration // Slack's Retry-After on a 429
	permanent  bool          // retrying cannot help
	err        error
}

func (e *deliveryError) Error() string {
	if e.status == 0 {
		return "post to Slack: " + e.err.Error()
	}
	s := fmt.Sprintf("Slack answered %d %s", e.status, http.StatusText(e.status))
	if e.slackText != "" {
		s += ": " + e.slackText
	}
	return s
}

func (e *deliveryError) Unwrap() error { return e.err }

// post sends msg to the incoming webhook target until Slack accepts it,
// Slack refuses it, or the retry budget is spent, and says how many attempts
// it made.
func (n *Notifier) post(ctx context.Context, target string, msg *slackapi.WebhookMessage) (attempts int, err error) {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		de := n.attempt(ctx, target, msg)
		if de == nil {
			return attempt, nil
		}
		if de.permanent || attempt >= n.retry.MaxAttempts || ctx.Err() != nil {
			return attempt, de
		}
		wait := n.retry.wait(de, attempt)
		if left := n.timeLeft(ctx, start); wait > left {
			return attempt, fmt.Errorf("%w (not retried: waiting %s would overrun the time left, %s)",
				de, wait, left.Round(time.Millisecond))
		}
		if err := n.sleep(ctx, wait); err != nil {
			return attempt, fmt.Errorf("%w (retry abandoned: %w)", de, err)
		}
	}
}

// attempt posts msg to target once.
func (n *Notifier) attempt(ctx context.Context, target string, msg *slackapi.WebhookMessage) *deliveryError {
	var seen response
	err := slackapi.PostWebhookCustomHTTPContext(context.WithValue(ctx, responseKey{}, &seen), target, n.client, msg)
	if err == nil {
		return nil
	}
	de := &deliveryError{status: seen.status, slackText: seen.text, err: err}
	var rateLimited *slackapi.RateLimitedError
	var statusErr slackapi.StatusCodeError
	var urlErr *url.Error
	switch {
	case errors.As(err, &rateLimited):
		de.retryAfter = rateLimited.RetryAfter
	case errors.As(err, &statusErr):
		de.permanent = !statusErr.Retryable() // slack-go retries 429 and 5xx
	case seen.status == http.StatusTooManyRequests:
		// A Retry-After that is not whole seconds, which slack-go cannot read:
		// back off instead.
	case errors.As(err, &urlErr):
		// No response. url.Error's text quotes the webhook URL: keep its cause only.
		de.err = urlErr.Err
		de.permanent = ctx.Err() == nil && !transient(urlErr.Err)
	default:
		de.permanent = true
	}
	return de
}

// wait is how long to wait after the failures-th failed attempt.
func (r Retry) wait(de *deliveryError, failures int) time.Duration {
	if de.retryAfter > 0 {
		return de.retryAfter
	}
	d := r.BaseDelay << (failures - 1)
	if d <= 0 || d > r.MaxDelay {
		d = r.MaxDelay
	}
	return d
}

// timeLeft is how long a wait may last: within MaxElapsed of the first
// attempt, and leaving time for one more attempt before the invocation's
// deadline, so that the function ends with its log line rather than being
// stopped by Lambda mid-request.
func (n *Notifier) timeLeft(ctx context.Context, start time.Time) time.Duration {
	left := n.retry.MaxElapsed - time.Since(start)
	if deadline, ok := ctx.Deadline(); ok {
		left = min(left, time.Until(deadline)-n.client.Timeout)
	}
	return left
}

// transient reports whether a failure to get any response may pass: a
// timeout, a refused or reset connection, a connection closed early.
func transient(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	return (errors.As(err, &netErr) && netErr.Timeout()) || errors.As(err, &opErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
