package webhook_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
)

// hang is how long a blocking fake waits at most when its context never ends,
// so that a handler that gives AWS calls no deadline fails the test instead
// of hanging it.
const hang = 3 * time.Second

// block waits for ctx to end (or for hang) and returns its error.
func block(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(hang):
		return context.DeadlineExceeded
	}
}

// blockingStore blocks in the calls named in its set until their context ends.
type blockingStore struct {
	state.Store
	apply, claim, mark bool
}

func (s blockingStore) Apply(ctx context.Context, r state.Delivery) (state.Result, error) {
	if s.apply {
		return state.Result{}, block(ctx)
	}
	return s.Store.Apply(ctx, r)
}

func (s blockingStore) ClaimAlert(ctx context.Context, itemKey, owner string, now time.Time, lease time.Duration) (state.Claim, error) {
	if s.claim {
		return state.Claim{}, block(ctx)
	}
	return s.Store.ClaimAlert(ctx, itemKey, owner, now, lease)
}

func (s blockingStore) MarkAlertSent(ctx context.Context, itemKey, owner, messageID string, at time.Time) error {
	if s.mark {
		return block(ctx)
	}
	return s.Store.MarkAlertSent(ctx, itemKey, owner, messageID, at)
}

type blockingPublisher struct{}

func (blockingPublisher) Publish(ctx context.Context, _ alert.Failure) (string, error) {
	return "", block(ctx)
}

func TestAHangingAWSCallIsCutBeforeTheInvocationDeadline(t *testing.T) {
	// The margin is a tenth of it, 200 ms.
	const budget = 2 * time.Second
	cases := []struct {
		name   string
		wrap   func(state.Store, alert.Publisher) (state.Store, alert.Publisher)
		status int
		alert  string
	}{
		{"the state write", func(s state.Store, p alert.Publisher) (state.Store, alert.Publisher) {
			return blockingStore{Store: s, apply: true}, p
		}, http.StatusServiceUnavailable, ""},
		{"the alert claim (of an alert an earlier delivery left owed)", func(s state.Store, p alert.Publisher) (state.Store, alert.Publisher) {
			// The 305 is already stored with its alert owed and unclaimed, so
			// this delivery must claim it (a new 305 takes the lease in its write).
			rec := statetest.Delivery("025112715223900001", 305, "mid-earlier")
			if _, err := s.Apply(context.Background(), rec); err != nil {
				panic(err)
			}
			return blockingStore{Store: s, claim: true}, p
		}, http.StatusServiceUnavailable, "claim-failed"},
		{"the publish", func(s state.Store, _ alert.Publisher) (state.Store, alert.Publisher) {
			return s, blockingPublisher{}
		}, http.StatusServiceUnavailable, "publish-failed"},
		{"recording the sent alert (the alert went out: 200)", func(s state.Store, p alert.Publisher) (state.Store, alert.Publisher) {
			return blockingStore{Store: s, mark: true}, p
		}, http.StatusOK, "published-unrecorded"},
	}
	for _, tc := range cases {
		// In a synctest bubble the clock is fake: it moves only when every
		// goroutine of the test waits, so the deadlines pass at once and the
		// test still measures, on that clock, when Handle returned.
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLocal(t, tc.wrap)
				deadline := time.Now().Add(budget)
				ctx, cancel := context.WithDeadline(context.Background(), deadline)
				defer cancel()
				resp, _ := l.h.Handle(ctx, sample(t, "05-nts-305-failure.json", nil, nil))
				if late := time.Since(deadline); late >= 0 {
					t.Fatalf("Handle returned %v after the invocation deadline: Lambda would have killed it unanswered and unlogged", late)
				}
				if resp.StatusCode != tc.status {
					t.Errorf("status %d %q, want %d", resp.StatusCode, resp.Body, tc.status)
				}
				line := l.lastLog(t)
				if line["msg"] != "request" || fmtAny(line["alert"]) != tc.alert {
					t.Errorf("last log line %v, want the request line with alert=%q", line, tc.alert)
				}
				if tc.status != http.StatusOK && line["cause"] != "timeout" {
					t.Errorf("cause %v, want timeout", line["cause"])
				}
			})
		})
	}
}

func fmtAny(v any) string {
	s, _ := v.(string)
	return s
}
