package sweeper_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
)

// A batch of 200 receipts of one business rejected within 15 minutes, each
// delivered as the webhook does (Apply claims, the sender publishes), with
// the sweeper running every 5 minutes: the first few of each 10-minute
// window go out one by one, the rest in one digest per window, every
// failure listed exactly once, and each cashbill's alert recorded sent.
func TestAStormOf200FailuresSendsTheThresholdThenOneDigestPerWindow(t *testing.T) {
	each(t, func(t *testing.T, newEnv func(t *testing.T) *env) {
		const (
			failures  = 200
			threshold = 5
			window    = 10 * time.Minute
			spacing   = 4500 * time.Millisecond // 200 in 15 minutes: two windows
		)
		ctx := context.Background()
		e := newEnv(t)
		settings := outbox.Settings{Storm: outbox.StormPolicy{Threshold: threshold, Window: window}}
		sw := sweeper.New(e.store, outbox.New(e.store, e.publisher, e.store, settings), sweeper.Settings{},
			slog.New(slog.NewJSONHandler(e.logs, nil))).WithStorms(e.store)
		corp := statetest.CorpNum()
		start := time.Date(2025, 11, 27, 10, 0, 0, 0, kst)
		now := start
		sender := outbox.New(e.store, e.publisher, e.store, settings).WithClock(func() time.Time { return now })

		var keys []string
		nextSweep := start.Add(5 * time.Minute)
		for i := range failures {
			now = start.Add(time.Duration(i) * spacing)
			for !now.Before(nextSweep) {
				if _, err := sw.Run(ctx, nextSweep); err != nil {
					t.Fatalf("sweep at %s: %v", nextSweep.Format("15:04"), err)
				}
				nextSweep = nextSweep.Add(5 * time.Minute)
			}
			key := statetest.ItemKey()
			keys = append(keys, key)
			d := statetest.Delivery(key, 305, "mid-"+key)
			d.Event.CorpNum, d.Event.FranchiseCorpNum = corp, corp
			d.Event.MgtKey, d.Event.NTSResultCode = fmt.Sprintf("storm-%03d", i), []string{"TS4", "TS1"}[i%2]
			d.ReceivedAt = now
			d.Alert = alert.Encode(alert.FromEvent(d.Event, d.MID, alert.KindFailure))
			d.AlertOwner, d.AlertLeaseUntil = "delivery-"+key, now.Add(outbox.Lease)
			res, err := e.store.Apply(ctx, d)
			if err != nil || !res.AlertClaimed {
				t.Fatalf("Apply(%d) = %+v, %v; want the alert claimed", i, res, err)
			}
			if _, err := sender.SendClaimed(ctx, key, d.AlertOwner, d.Alert); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		// POPBiLL retries every delivery: nothing is published again.
		for _, key := range keys {
			if sent, err := sender.Send(ctx, key, "retry-"+key); err != nil || sent.Status == outbox.Published {
				t.Fatalf("retried delivery of %s = %+v, %v; want nothing published", key, sent, err)
			}
		}
		for range 2 { // past the second window's end, and once more
			if _, err := sw.Run(ctx, nextSweep); err != nil {
				t.Fatal(err)
			}
			nextSweep = nextSweep.Add(5 * time.Minute)
		}

		listed := map[string]int{}
		var individual, digests int
		for _, f := range e.delivered(t) {
			switch {
			case alert.IsDigest(f):
				digests++
				if n := len(alert.Subject(f)); n > 100 {
					t.Errorf("digest Subject is %d characters: %q", n, alert.Subject(f))
				}
				for _, entry := range f.Digest.Entries {
					listed[entry.ItemKey]++
				}
			default:
				individual++
				listed[f.ItemKey]++
			}
		}
		windows := 2
		if individual != threshold*windows || digests != windows {
			t.Errorf("published %d alerts one by one and %d digests, want %d and %d", individual, digests, threshold*windows, windows)
		}
		for _, key := range keys {
			if listed[key] != 1 {
				t.Errorf("failure %s listed %d times across the messages, want once", key, listed[key])
			}
			it, _, err := e.store.Get(ctx, key)
			if err != nil || it.AlertStatus != state.AlertSent || it.AlertMessageID == "" {
				t.Errorf("%s: alert %q, message %q, %v; want sent with a message id", key, it.AlertStatus, it.AlertMessageID, err)
			}
		}
		if len(listed) != failures {
			t.Errorf("%d distinct failures listed, want %d", len(listed), failures)
		}
	})
}
