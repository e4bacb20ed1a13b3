package slacknotify

import "time"

// RequestTimeout bounds one POST to Slack, which answers a webhook in well
// under a second when it is well.
const RequestTimeout = 5 * time.Second

// Config is what the notifier needs to run.
type Config struct {
	// WebhookURL is the Slack incoming webhook. It is a secret: anyone who has
	// it can post to the channel. Never log it.
	WebhookURL string
	// Routes, when set, send a business's alerts to its own incoming webhook
	// (key: the business number) and every other alert to the "*" one, or
	// to WebhookURL without it (config.ReadSlackRoutes). Secrets too.
	Routes map[string]string
	Retry  Retry
}

// Retry bounds the attempts to deliver one message within one invocation.
// What still fails after that is returned to Lambda, which retries the
// invocation and in the end sends the event to the dead-letter queue.
type Retry struct {
	// MaxAttempts counts every POST of one message, the first included.
	MaxAttempts int
	// MaxElapsed is how long after the first attempt a retry may still start;
	// a wait that would end later is not begun. The invocation's own deadline
	// is respected as well.
	MaxElapsed time.Duration
	// BaseDelay is the wait after the first 5xx or network failure; it
	// doubles after each further one, up to MaxDelay. A 429 waits for as long
	// as Slack's Retry-After says instead.
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// DefaultRetry tries a message four times within 30 seconds, waiting 1, 2
// and 4 seconds between failures: enough to ride out a blip at Slack,
// short enough to leave the rest to Lambda's own retries.
func DefaultRetry() Retry {
	return Retry{MaxAttempts: 4, MaxElapsed: 30 * time.Second, BaseDelay: time.Second, MaxDelay: 8 * time.Second}
}
