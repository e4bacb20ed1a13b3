package webhook_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
)

// countingStore names each store call it passes on, in order.
type countingStore struct {
	state.Store
	mu    sync.Mutex
	calls []string
}

func (s *countingStore) note(call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
}

func (s *countingStore) Apply(ctx context.Context, r state.Delivery) (state.Result, error) {
	s.note("apply")
	return s.Store.Apply(ctx, r)
}

func (s *countingStore) ClaimAlert(ctx context.Context, itemKey, owner string, now time.Time, lease time.Duration) (state.Claim, error) {
	s.note("claim")
	return s.Store.ClaimAlert(ctx, itemKey, owner, now, lease)
}

func (s *countingStore) ReleaseAlert(ctx context.Context, itemKey, owner string) error {
	s.note("release")
	return s.Store.ReleaseAlert(ctx, itemKey, owner)
}

func (s *countingStore) MarkAlertSent(ctx context.Context, itemKey, owner, messageID string, at time.Time) error {
	s.note("mark")
	return s.Store.MarkAlertSent(ctx, itemKey, owner, messageID, at)
}

func TestAnOwedAlertIsPublishedWithTheFewestStoreCalls(t *testing.T) {
	cases := []struct {
		name string
		// before runs on the store before the 305 sample is delivered.
		before func(t *testing.T, s state.Store)
		want   string
	}{
		{"a new 305 owns its alert's lease from its own write: apply, mark", func(*testing.T, state.Store) {}, "apply mark"},
		{"a 305 behind a greater state also owns the alert it records", func(t *testing.T, s state.Store) {
			if _, err := s.Apply(context.Background(), statetest.Delivery("025112715223900001", 399, "mid-0")); err != nil {
				t.Fatal(err)
			}
		}, "apply mark"},
		{"an alert an earlier delivery left owed is claimed first: apply, claim, mark", func(t *testing.T, s state.Store) {
			if _, err := s.Apply(context.Background(), statetest.Delivery("025112715223900001", 305, "mid-0")); err != nil {
				t.Fatal(err)
			}
		}, "apply claim mark"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var counted *countingStore
			l := newLocal(t, func(s state.Store, p alert.Publisher) (state.Store, alert.Publisher) {
				tc.before(t, s)
				counted = &countingStore{Store: s}
				return counted, p
			})
			resp, _ := l.h.Handle(context.Background(), sample(t, "05-nts-305-failure.json", nil, nil))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d %q, want 200", resp.StatusCode, resp.Body)
			}
			if got := strings.Join(counted.calls, " "); got != tc.want {
				t.Errorf("store calls %q, want %q", got, tc.want)
			}
			if l.alerts.String() == "" {
				t.Error("no alert published")
			}
			if line := l.lastLog(t); line["alert"] != string(outbox.Published) {
				t.Errorf("request line alert=%v, want %q", line["alert"], outbox.Published)
			}
		})
	}
}
