// Package sweeper is the backstop that makes an owed alert go out even when
// no delivery publishes it, and the watchdog that raises an alert when a
// cashbill's NTS result never arrives.
//
// One Run (every 5 minutes, on a schedule) does two things, each through the
// store's due index, never a scan:
//
//   - the alert queue: every alert still pending Threshold after it became
//     owed (its delivery crashed, SNS was down past POPBiLL's retries, a lease
//     expired) is published exactly as the webhook does: the same claim,
//     publish and mark (package outbox);
//   - the result queue: every issued cashbill with no NTS result Deadline
//     after midnight KST of its issue date gets one "NTS result overdue"
//     alert, published the same way. The queue is read as a moving window
//     behind a watermark (watchdog.go), so a cashbill that has its result
//     costs no write when the window passes it.
package sweeper

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/awserr"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// Defaults of Settings.
const (
	// DefaultThreshold is the outbox's lease: an alert pending longer was
	// not published by the delivery that owed it.
	DefaultThreshold = outbox.Lease
	// DefaultDeadline, from midnight KST of the issue date, is 18:00 KST on
	// the second day after issue. A receipt issued before 17:00 gets its NTS
	// result around 14:00 the next day. It is the result queue's horizon.
	DefaultDeadline = state.ResultHorizon
	// DefaultBatch bounds the items one run takes from each queue; the rest
	// wait for the next run.
	DefaultBatch = 200
)

// Settings tune a sweeper; zero values take the defaults.
type Settings struct {
	Threshold time.Duration
	Deadline  time.Duration
	Batch     int
	// MetricsNamespace, when set, adds the run's metrics to its line (metrics.go).
	MetricsNamespace string
}

func (s Settings) withDefaults() Settings {
	if s.Threshold <= 0 {
		s.Threshold = DefaultThreshold
	}
	if s.Deadline <= 0 {
		s.Deadline = DefaultDeadline
	}
	if s.Batch <= 0 {
		s.Batch = DefaultBatch
	}
	return s
}

// Sweeper runs the sweep.
type Sweeper struct {
	queues   state.Queues
	outbox   *outbox.Outbox
	settings Settings
	log      *slog.Logger
	// storms, when set, holds the storm windows whose digests it publishes (WithStorms).
	storms outbox.Storms
}

// New returns a sweeper that finds what is due in queues and publishes it
// through out.
func New(queues state.Queues, out *outbox.Outbox, settings Settings, log *slog.Logger) *Sweeper {
	if queues == nil || out == nil || log == nil {
		panic("sweeper.New: queues, out and log are required")
	}
	return &Sweeper{
		queues:   queues,
		outbox:   out,
		settings: settings.withDefaults(),
		log:      log,
	}
}

// Report counts what one run found and did.
type Report struct {
	// Found: items due in either queue.
	Found int `json:"found"`
	// Pending: alerts found owed longer than Threshold (the alert queue's share of Found).
	Pending int `json:"pending"`
	// Published: alerts this run published (pending ones and overdue ones).
	Published int `json:"published"`
	// OverdueRaised: overdue alerts this run raised.
	OverdueRaised int `json:"overdueRaised"`
	// ResultKnown: cashbills the watchdog's window passed that had their
	// result: nothing was written for them.
	ResultKnown int `json:"resultKnown"`
	// Skipped: alerts sent or held by another delivery meanwhile.
	Skipped int `json:"skipped"`
	// Failed: items whose claim, publish or overdue write failed; they stay
	// in their queue for the next run.
	Failed int `json:"failed"`
}

// ErrFailed is returned, wrapped, when any item failed: the invocation then
// fails, so the function's Errors metric and its alarm see it.
var ErrFailed = errors.New("sweeper: some owed alerts were not published")

// Run sweeps both queues as of now and logs one line.
func (s *Sweeper) Run(ctx context.Context, now time.Time) (Report, error) {
	var rep Report
	owner := "sweeper/" + randomID()
	causes := map[string]int{}
	failed := func(cause string) {
		rep.Failed++
		causes[cause]++
	}
	send := func(itemKey string) {
		sent, err := s.outbox.Send(ctx, itemKey, owner)
		switch {
		case err != nil:
			failed(sent.Cause)
		case sent.Status == outbox.Published || sent.Status == outbox.PublishedUnrecorded:
			rep.Published++
		default:
			rep.Skipped++
		}
		if err != nil || sent.Status == outbox.PublishedUnrecorded {
			s.log.WarnContext(ctx, "alert", "itemKey", itemKey, "alertId", sent.AlertID, "alert", sent.Status, "cause", sent.Cause)
		}
	}

	pending, err := s.queues.Due(ctx, state.QueueAlert, now.Add(-s.settings.Threshold), s.settings.Batch)
	if err != nil {
		failed(awserr.Cause(err))
	}
	rep.Found += len(pending)
	rep.Pending = len(pending)
	for _, it := range pending {
		send(it.Event.ItemKey)
	}

	if s.storms != nil {
		d := s.outbox.PublishDigests(ctx, s.storms, now, owner, s.settings.Batch)
		rep.Found += d.Found
		rep.Published += d.Published
		rep.Skipped += d.Skipped
		for _, c := range d.Failed {
			failed(c)
		}
	}

	s.watch(ctx, now, &rep, failed, send)

	attrs := []any{"found", rep.Found, "pending", rep.Pending, "published", rep.Published, "overdueRaised", rep.OverdueRaised,
		"resultKnown", rep.ResultKnown, "skipped", rep.Skipped, "failed", rep.Failed}
	attrs = append(attrs, s.metricAttrs(rep, now)...)
	if rep.Failed > 0 {
		s.log.ErrorContext(ctx, "sweep", append(attrs, "causes", causes)...)
		return rep, fmt.Errorf("%w: %d failed", ErrFailed, rep.Failed)
	}
	s.log.InfoContext(ctx, "sweep", attrs...)
	return rep, nil
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
