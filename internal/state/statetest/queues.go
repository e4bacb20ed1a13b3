package statetest

import (
	"context"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// kst is the zone of POPBiLL's dates.
var kst = time.FixedZone("KST", 9*60*60)

// runQueues checks the queues: who is due where and when, and the overdue alert.
func runQueues(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	const lease = time.Minute
	// Delivery's issueDT is 2022-12-21 16:19:38 KST.
	issueDay := time.Date(2022, 12, 21, 0, 0, 0, 0, kst)

	inQueue := func(t *testing.T, s Adapter, queue, key string, through time.Time) bool {
		t.Helper()
		items, err := s.Due(ctx, queue, through, 1000)
		if err != nil {
			t.Fatalf("Due(%s): %v", queue, err)
		}
		for _, it := range items {
			if it.Event.ItemKey == key {
				return true
			}
		}
		return false
	}
	apply := func(t *testing.T, s Adapter, key string, stateCode int) {
		t.Helper()
		if _, err := s.Apply(ctx, Delivery(key, stateCode, "mid")); err != nil {
			t.Fatal(err)
		}
	}
	raise := func(t *testing.T, s Adapter, key string, want state.OverdueOutcome) {
		t.Helper()
		got, err := s.RaiseOverdue(ctx, key, []byte(`{"kind":"overdue","itemKey":"`+key+`"}`), time.Now())
		if err != nil || got != want {
			t.Fatalf("RaiseOverdue = %q, %v; want %q", got, err, want)
		}
	}

	t.Run("an issued cashbill waits for its result from midnight KST of its issue date", func(t *testing.T) {
		s := newStore(t)
		key := ItemKey()
		d := Delivery(key, 300, "mid")
		d.ReceivedAt = issueDay.Add(16*time.Hour + 20*time.Minute)
		if _, err := s.Apply(ctx, d); err != nil {
			t.Fatal(err)
		}
		if inQueue(t, s, state.QueueResult, key, issueDay.Add(-time.Millisecond)) {
			t.Error("due in the result queue before its issue date began")
		}
		if !inQueue(t, s, state.QueueResult, key, issueDay) {
			t.Error("not due in the result queue at midnight KST of its issue date")
		}
		if inQueue(t, s, state.QueueAlert, key, time.Now().Add(time.Hour)) {
			t.Error("a 300 is in the alert queue")
		}
	})

	t.Run("a 300 delivered past the horizon enters the result queue the horizon before its receipt", func(t *testing.T) {
		s := newStore(t)
		key := ItemKey()
		d := Delivery(key, 300, "mid") // issued in 2022, received now
		if _, err := s.Apply(ctx, d); err != nil {
			t.Fatal(err)
		}
		enters := d.ReceivedAt.Add(-state.ResultHorizon)
		if inQueue(t, s, state.QueueResult, key, enters.Add(-time.Millisecond)) {
			t.Error("due before the horizon: behind where the watchdog's window may have passed")
		}
		if !inQueue(t, s, state.QueueResult, key, enters) {
			t.Error("not due the horizon before its receipt")
		}
	})

	t.Run("result entries", runResultEntries(newStore))

	t.Run("an owed alert is in the alert queue until it is marked sent", func(t *testing.T) {
		s := newStore(t)
		key := ItemKey()
		apply(t, s, key, 305)
		if !inQueue(t, s, state.QueueAlert, key, time.Now().Add(time.Minute)) {
			t.Fatal("a pending alert is not in the alert queue")
		}
		mustClaim(t, s, key, "owner", time.Now(), lease)
		if err := s.MarkAlertSent(ctx, key, "owner", "sns-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		if inQueue(t, s, state.QueueAlert, key, time.Now().Add(time.Hour)) {
			t.Error("a sent alert is still in the alert queue")
		}
	})

	t.Run("due items come earliest first, at most the limit", func(t *testing.T) {
		s := newStore(t)
		var keys []string
		for range 3 {
			key := ItemKey()
			keys = append(keys, key)
			apply(t, s, key, 305)
			time.Sleep(2 * time.Millisecond)
		}
		items, err := s.Due(ctx, state.QueueAlert, time.Now().Add(time.Minute), 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 2 || items[0].Event.ItemKey != keys[0] || items[1].Event.ItemKey != keys[1] {
			t.Errorf("Due with limit 2 = %v, want %v", itemKeys(items), keys[:2])
		}
	})

	t.Run("overdue alert", func(t *testing.T) {
		cases := []struct {
			name   string
			states []int
			// want, then again: what RaiseOverdue answers twice over
			want, again state.OverdueOutcome
			// then: is an overdue alert owed, is the item left awaiting its result
			owed, waiting bool
		}{
			{"raised once for a cashbill still at 300", []int{300}, state.OverdueRaised, state.OverdueNotOwed, true, false},
			{"a 304 has its result: nothing is written, it awaits nothing", []int{300, 304}, state.ResultKnown, state.ResultKnown, false, false},
			{"a 305 has its result and its own alert", []int{300, 305}, state.OverdueNotOwed, state.OverdueNotOwed, false, false},
			{"never issued, never waiting", []int{304}, state.OverdueNotOwed, state.OverdueNotOwed, false, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				key := ItemKey()
				for _, sc := range tc.states {
					apply(t, s, key, sc)
				}
				raise(t, s, key, tc.want)
				raise(t, s, key, tc.again)
				if got := inQueue(t, s, state.QueueResult, key, time.Now()); got != tc.waiting {
					t.Errorf("in the result queue: %v, want %v", got, tc.waiting)
				}
				it, _, err := s.Get(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if owed := it.AlertKind == alert.KindOverdue && it.AlertStatus == state.AlertPending; owed != tc.owed {
					t.Errorf("overdue alert owed: %v (kind %q status %q), want %v", owed, it.AlertKind, it.AlertStatus, tc.owed)
				}
				if tc.owed && !inQueue(t, s, state.QueueAlert, key, time.Now().Add(time.Minute)) {
					t.Error("the overdue alert is not in the alert queue")
				}
			})
		}
	})

	t.Run("a 305 replaces an overdue alert, pending or sent", func(t *testing.T) {
		for _, sent := range []bool{false, true} {
			name := map[bool]string{false: "pending and claimed", true: "sent"}[sent]
			t.Run(name, func(t *testing.T) {
				s := newStore(t)
				key := ItemKey()
				apply(t, s, key, 300)
				raise(t, s, key, state.OverdueRaised)
				now := time.Now()
				mustClaim(t, s, key, "sweeper", now, lease)
				if sent {
					if err := s.MarkAlertSent(ctx, key, "sweeper", "sns-overdue", now); err != nil {
						t.Fatal(err)
					}
				}
				failure := Delivery(key, 305, "mid-305")
				if res, err := s.Apply(ctx, failure); err != nil || !res.AlertPending {
					t.Fatalf("305 after an overdue alert: %+v, %v; want its alert pending", res, err)
				}
				// The overdue publisher's late mark must not mark the failure alert sent.
				if err := s.MarkAlertSent(ctx, key, "sweeper", "sns-overdue", now); err != nil {
					t.Fatal(err)
				}
				c, err := s.ClaimAlert(ctx, key, "webhook", now, lease)
				if err != nil || c.Status != state.Claimed || string(c.Payload) != string(failure.Alert) {
					t.Errorf("claim after the 305 = %+v, %v; want the failure alert", c, err)
				}
			})
		}
	})
}

func itemKeys(items []state.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Event.ItemKey)
	}
	return out
}
