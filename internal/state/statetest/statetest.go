// Package statetest is the contract every state.Store adapter passes: the
// DynamoDB one against moto_server, the embedded one on a temporary file.
package statetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// Adapter is what an adapter provides: the store, its reader and its queues.
type Adapter interface {
	state.Store
	state.Reader
	state.Queues
	outbox.Storms
}

// NewStore returns an empty store for one test.
type NewStore func(t *testing.T) Adapter

var keySeq = rand.Uint64N(1e12)

// ItemKey returns an 18-digit itemKey not used before in this process.
func ItemKey() string {
	keySeq++
	return fmt.Sprintf("0221221%011d", keySeq%1e11)
}

// Delivery is a valid delivery for itemKey at stateCode.
func Delivery(itemKey string, stateCode int, mid string) state.Delivery {
	ev := cashbill.Event{
		CorpNum: "6798700433", FranchiseCorpNum: "6798700433", ItemKey: itemKey,
		TradeDate: "20221221", ConfirmNum: "TB0001147", StateCode: stateCode,
		StateDT: "20221221161938", IssueDT: "20221221161938", MgtKey: "20221221-001",
		EventDT: "20221221161938", EventType: "Issue",
	}
	if stateCode >= cashbill.StateNTSSuccess {
		ev.EventType, ev.NTSSendDT, ev.NTSResultDT = "NTS", "20221222000000", "20221222100033"
		ev.NTSResultCode = map[bool]string{true: "TS4", false: "0000"}[stateCode == cashbill.StateNTSFailed]
	}
	r := state.Delivery{Event: ev, MID: mid, ReceivedAt: time.Now(), Body: []byte(`{"itemKey":"` + itemKey + `"}`)}
	if stateCode == cashbill.StateNTSFailed {
		r.Alert = []byte(`{"itemKey":"` + itemKey + `","stateCode":305}`)
	}
	return r
}

// Run checks that a store keeps the contract of state.Store.
func Run(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	const lease = time.Minute

	apply := func(t *testing.T, s Adapter, r state.Delivery) state.Result {
		t.Helper()
		res, err := s.Apply(ctx, r)
		if err != nil {
			t.Fatalf("Apply(%s, %d): %v", r.Event.ItemKey, r.Event.StateCode, err)
		}
		return res
	}
	get := func(t *testing.T, s Adapter, key string) state.Item {
		t.Helper()
		it, ok, err := s.Get(ctx, key)
		if err != nil || !ok {
			t.Fatalf("Get(%s) = found %v, err %v", key, ok, err)
		}
		return it
	}

	t.Run("state only increases", func(t *testing.T) {
		cases := []struct {
			name     string
			sequence []int
			outcomes []state.Outcome
			final    int
		}{
			{"in order 300 then 304", []int{300, 304}, []state.Outcome{state.Stored, state.Stored}, 304},
			{"late 300 after 304 is stale", []int{304, 300}, []state.Outcome{state.Stored, state.Stale}, 304},
			{"same state twice is a duplicate", []int{300, 300}, []state.Outcome{state.Stored, state.Duplicate}, 300},
			{"unknown codes order like any other", []int{100, 300, 399, 305}, []state.Outcome{state.Stored, state.Stored, state.Stored, state.Stale}, 399},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				key := ItemKey()
				for i, sc := range tc.sequence {
					res := apply(t, s, Delivery(key, sc, fmt.Sprintf("mid-%d", i)))
					if res.Outcome != tc.outcomes[i] {
						t.Errorf("delivery %d (stateCode %d): outcome %q, want %q", i, sc, res.Outcome, tc.outcomes[i])
					}
				}
				if res := apply(t, s, Delivery(key, 100, "mid-late")); res.Outcome != state.Stale || res.StateCode != tc.final {
					t.Errorf("a late 100: %+v, want stale reporting the stored %d", res, tc.final)
				}
				if it := get(t, s, key); it.Event.StateCode != tc.final {
					t.Errorf("stored stateCode %d, want %d", it.Event.StateCode, tc.final)
				}
			})
		}
	})

	t.Run("stored item keeps the latest event's fields, message id and the body's other fields", func(t *testing.T) {
		s := newStore(t)
		key := ItemKey()
		withBody := func(d state.Delivery, body string) state.Delivery {
			d.Body = []byte(body)
			return d
		}
		apply(t, s, withBody(Delivery(key, 300, "mid-issue"), `{"itemKey":"`+key+`","stateMemo":"issued"}`))
		want := withBody(Delivery(key, 304, "mid-nts"), `{"itemKey":"`+key+`","ntsresultMessage":"filed", "x": [1, {"y":null}]}`)
		want.Event.InterOPYN = new(bool)
		want.Event.MgtKey = ""
		apply(t, s, want)
		apply(t, s, withBody(Delivery(key, 300, "mid-stale"), `{"itemKey":"`+key+`","stateMemo":"stale"}`))
		it := get(t, s, key)
		if it.MID != "mid-nts" || string(it.Extra) != `{"ntsresultMessage":"filed","x":[1,{"y":null}]}` {
			t.Errorf("MID %q extra %s, want mid-nts and the 304's fields beyond the event", it.MID, it.Extra)
		}
		wantEvent(t, it.Event, want.Event)
		if it.ReceivedAt.IsZero() {
			t.Error("receivedAt not stored")
		}
		apply(t, s, Delivery(key, 400, "mid-later"))
		if it := get(t, s, key); len(it.Extra) != 0 {
			t.Errorf("extra %s after a greater state whose body had no other field, want none", it.Extra)
		}
	})

	t.Run("every field of the event is stored and read back", func(t *testing.T) {
		s := newStore(t)
		want := Delivery(ItemKey(), 305, "mid-1")
		want.Event.InterOPYN = new(bool)
		*want.Event.InterOPYN = true
		ev := reflect.ValueOf(want.Event)
		for i := range ev.NumField() {
			if ev.Field(i).IsZero() {
				t.Fatalf("the contract's record leaves cashbill.Event.%s empty: set it in this test, so that every store is checked to keep it", ev.Type().Field(i).Name)
			}
		}
		apply(t, s, want)
		wantEvent(t, get(t, s, want.Event.ItemKey).Event, want.Event)
	})

	t.Run("missing item is not found", func(t *testing.T) {
		s := newStore(t)
		if _, ok, err := s.Get(ctx, ItemKey()); ok || err != nil {
			t.Fatalf("Get(unknown) = found %v, err %v", ok, err)
		}
	})

	t.Run("305 owes one alert until it is marked sent", func(t *testing.T) {
		s := newStore(t)
		key := ItemKey()
		rec := Delivery(key, 305, "mid-1")
		if res := apply(t, s, rec); res.Outcome != state.Stored || !res.AlertPending {
			t.Fatalf("first 305: %+v, want stored with alert pending", res)
		}
		if res := apply(t, s, Delivery(key, 305, "mid-2")); res.Outcome != state.Duplicate || !res.AlertPending {
			t.Fatalf("redelivered 305 before publish: %+v, want duplicate with alert pending", res)
		}
		now := time.Now()
		c, err := s.ClaimAlert(ctx, key, "owner-a", now, lease)
		if err != nil || c.Status != state.Claimed || string(c.Payload) != string(rec.Alert) {
			t.Fatalf("ClaimAlert = %+v, %v; want the stored alert claimed", c, err)
		}
		if err := s.MarkAlertSent(ctx, key, "owner-a", "sns-message-1", now); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.ClaimAlert(ctx, key, "owner-b", now.Add(2*lease), lease); c.Status != state.AlreadySent || c.MessageID != "sns-message-1" {
			t.Errorf("claim of an alert marked sent = %+v, want already sent as sns-message-1", c)
		}
		if res := apply(t, s, Delivery(key, 305, "mid-3")); res.AlertPending {
			t.Errorf("after publish, a redelivery still reports the alert pending: %+v", res)
		}
		it := get(t, s, key)
		if it.AlertStatus != state.AlertSent || it.AlertMessageID != "sns-message-1" || it.AlertSentAt.IsZero() {
			t.Errorf("alert record = %q %q %v, want sent, sns-message-1, a time", it.AlertStatus, it.AlertMessageID, it.AlertSentAt)
		}
		if err := s.MarkAlertSent(ctx, key, "owner-a", "sns-message-2", now); err != nil {
			t.Errorf("marking an already sent alert: %v, want no error", err)
		}
		if it := get(t, s, key); it.AlertMessageID != "sns-message-1" {
			t.Errorf("second mark replaced the message id with %q", it.AlertMessageID)
		}
	})

	t.Run("the delivery that records an owed alert holds its lease from the same write", func(t *testing.T) {
		now := time.Now().Truncate(time.Millisecond)
		cases := []struct {
			name string
			// before runs on the item before the 305 owned by owner-a.
			before      func(t *testing.T, s Adapter, key string)
			owner       string
			wantOutcome state.Outcome
			wantClaimed bool
		}{
			{"a new cashbill's 305", func(*testing.T, Adapter, string) {}, "owner-a", state.Stored, true},
			{"a 305 raising a 300", func(t *testing.T, s Adapter, key string) { apply(t, s, Delivery(key, 300, "mid-0")) }, "owner-a", state.Stored, true},
			{"a stale 305 behind a greater state", func(t *testing.T, s Adapter, key string) { apply(t, s, Delivery(key, 399, "mid-0")) }, "owner-a", state.Stale, true},
			{"a redelivered 305 does not take the lease of the alert already owed", func(t *testing.T, s Adapter, key string) {
				apply(t, s, Delivery(key, 305, "mid-0"))
			}, "owner-a", state.Duplicate, false},
			{"without an owner the alert is recorded unclaimed", func(*testing.T, Adapter, string) {}, "", state.Stored, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				key := ItemKey()
				tc.before(t, s, key)
				rec := Delivery(key, 305, "mid-1")
				rec.AlertOwner, rec.AlertLeaseUntil = tc.owner, now.Add(lease)
				res := apply(t, s, rec)
				if res.Outcome != tc.wantOutcome || !res.AlertPending || res.AlertClaimed != tc.wantClaimed {
					t.Fatalf("Apply = %+v, want %s, alert pending, claimed %v", res, tc.wantOutcome, tc.wantClaimed)
				}
				other, err := s.ClaimAlert(ctx, key, "owner-b", now.Add(lease/2), lease)
				if err != nil {
					t.Fatal(err)
				}
				if tc.wantClaimed {
					if other.Status != state.HeldByAnother || other.HeldBy != "owner-a" || !other.HeldUntil.Equal(now.Add(lease)) {
						t.Fatalf("another owner's claim = %+v, want held by owner-a until the delivery's lease", other)
					}
					if err := s.MarkAlertSent(ctx, key, "owner-a", "sns-1", now); err != nil {
						t.Fatal(err)
					}
					if it := get(t, s, key); it.AlertStatus != state.AlertSent || it.AlertMessageID != "sns-1" || it.DueQueue != "" {
						t.Errorf("after the owner marks it sent: status %q message %q queue %q, want sent, sns-1, no queue", it.AlertStatus, it.AlertMessageID, it.DueQueue)
					}
				} else if other.Status == state.HeldByAnother && other.HeldBy == "owner-a" {
					t.Errorf("another owner's claim = %+v: the delivery took a lease it should not", other)
				}
			})
		}
	})

	t.Run("a greater state reports the alert an earlier delivery left owed", func(t *testing.T) {
		s := newStore(t)
		key := ItemKey()
		apply(t, s, Delivery(key, 305, "mid-1"))
		res := apply(t, s, Delivery(key, 399, "mid-2"))
		if res.Outcome != state.Stored || !res.AlertPending || res.AlertClaimed {
			t.Fatalf("Apply(399) = %+v, want stored, alert pending, not claimed", res)
		}
		if it := get(t, s, key); it.Event.StateCode != 399 || it.AlertStatus != state.AlertPending || it.MID != "mid-2" {
			t.Errorf("stored %d %q %q, want 399, the alert still pending, mid-2", it.Event.StateCode, it.AlertStatus, it.MID)
		}
		if res := apply(t, s, Delivery(key, 400, "mid-3")); res.Outcome != state.Stored || !res.AlertPending {
			t.Errorf("Apply(400) = %+v, want stored with the alert still pending", res)
		}
	})

	t.Run("a claimed alert cannot be claimed again until released or expired", func(t *testing.T) {
		cases := []struct {
			name    string
			between func(s Adapter, key string) error
			at      time.Duration
			want    bool
		}{
			{"while the lease runs", func(Adapter, string) error { return nil }, lease / 2, false},
			{"after the lease expires", func(Adapter, string) error { return nil }, lease + time.Second, true},
			{"after the owner releases it", func(s Adapter, key string) error { return s.ReleaseAlert(ctx, key, "owner-a") }, 0, true},
			{"release by another owner does not free it", func(s Adapter, key string) error { return s.ReleaseAlert(ctx, key, "owner-x") }, 0, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				key := ItemKey()
				apply(t, s, Delivery(key, 305, "mid-1"))
				now := time.Now()
				if c, err := s.ClaimAlert(ctx, key, "owner-a", now, lease); c.Status != state.Claimed || err != nil {
					t.Fatalf("first claim = %+v, %v", c, err)
				}
				if err := tc.between(s, key); err != nil {
					t.Fatal(err)
				}
				c, err := s.ClaimAlert(ctx, key, "owner-b", now.Add(tc.at), lease)
				if err != nil || (c.Status == state.Claimed) != tc.want {
					t.Errorf("second claim = %+v, %v; want claimed %v", c, err, tc.want)
				}
			})
		}
	})

	t.Run("a claim answers what the item holds, never a guess", func(t *testing.T) {
		now := time.Now().Truncate(time.Millisecond)
		cases := []struct {
			name string
			// before runs on an item with a pending alert, before the claim
			// by owner-a at now+at.
			before func(t *testing.T, s Adapter, key string)
			at     time.Duration
			want   state.Claim
		}{
			{"a retried claim by the same owner succeeds", func(t *testing.T, s Adapter, key string) {
				mustClaim(t, s, key, "owner-a", now, lease)
			}, time.Second, state.Claim{Status: state.Claimed}},
			{"another owner is refused while the lease holds", func(t *testing.T, s Adapter, key string) {
				mustClaim(t, s, key, "owner-b", now, lease)
			}, lease / 2, state.Claim{Status: state.HeldByAnother, HeldBy: "owner-b", HeldUntil: now.Add(lease)}},
			{"an expired lease is taken over", func(t *testing.T, s Adapter, key string) {
				mustClaim(t, s, key, "owner-b", now, lease)
			}, lease + time.Second, state.Claim{Status: state.Claimed}},
			{"a sent alert is never claimed again", func(t *testing.T, s Adapter, key string) {
				mustClaim(t, s, key, "owner-b", now, lease)
				if err := s.MarkAlertSent(ctx, key, "owner-b", "sns-1", now); err != nil {
					t.Fatal(err)
				}
			}, 10 * lease, state.Claim{Status: state.AlreadySent, MessageID: "sns-1"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				key := ItemKey()
				rec := Delivery(key, 305, "mid-1")
				apply(t, s, rec)
				tc.before(t, s, key)
				got, err := s.ClaimAlert(ctx, key, "owner-a", now.Add(tc.at), lease)
				if err != nil {
					t.Fatal(err)
				}
				if tc.want.Status == state.Claimed {
					tc.want.Payload = rec.Alert
				}
				if got.Status != tc.want.Status || string(got.Payload) != string(tc.want.Payload) ||
					got.MessageID != tc.want.MessageID || got.HeldBy != tc.want.HeldBy || !got.HeldUntil.Equal(tc.want.HeldUntil) {
					t.Errorf("claim = %+v\nwant    %+v", got, tc.want)
				}
			})
		}
	})

	t.Run("the first 305 owes its alert whatever was stored before", func(t *testing.T) {
		type step struct {
			stateCode int
			// sent marks the alert sent after this delivery.
			sent bool
		}
		cases := []struct {
			name    string
			steps   []step
			pending bool // after the last delivery
			final   int
		}{
			{"400 then 305", []step{{400, false}, {305, false}}, true, 400},
			{"999 then 305", []step{{999, false}, {305, false}}, true, 999},
			{"305 then 305 owes one alert", []step{{305, false}, {305, false}}, true, 305},
			{"a 305 after the alert was sent owes none", []step{{305, true}, {305, false}}, false, 305},
			{"a stale 305 after a sent alert owes none", []step{{305, true}, {400, false}, {305, false}}, false, 400},
			{"a stale 305 after 400 then a second one", []step{{400, false}, {305, true}, {305, false}}, false, 400},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				key := ItemKey()
				now := time.Now()
				var last state.Result
				for i, st := range tc.steps {
					last = apply(t, s, Delivery(key, st.stateCode, fmt.Sprint("mid-", i)))
					if st.sent {
						mustClaim(t, s, key, "owner", now, lease)
						if err := s.MarkAlertSent(ctx, key, "owner", "sns-1", now); err != nil {
							t.Fatal(err)
						}
					}
				}
				if last.AlertPending != tc.pending {
					t.Errorf("last delivery reports alert pending %v, want %v", last.AlertPending, tc.pending)
				}
				it := get(t, s, key)
				if it.Event.StateCode != tc.final {
					t.Errorf("stored stateCode %d, want %d: a 305 never lowers the state", it.Event.StateCode, tc.final)
				}
				c, err := s.ClaimAlert(ctx, key, "owner-2", now.Add(2*lease), lease)
				if err != nil {
					t.Fatal(err)
				}
				if (c.Status == state.Claimed) != tc.pending {
					t.Errorf("claim = %v, want claimed %v", c.Status, tc.pending)
				}
				if tc.pending && it.AlertKind != alert.KindFailure {
					t.Errorf("alert kind %q, want %q", it.AlertKind, alert.KindFailure)
				}
			})
		}
	})

	t.Run("no alert is owed without a 305", func(t *testing.T) {
		s := newStore(t)
		key := ItemKey()
		if res := apply(t, s, Delivery(key, 304, "mid-1")); res.AlertPending {
			t.Errorf("304 reported an alert pending")
		}
		if c, err := s.ClaimAlert(ctx, key, "owner", time.Now(), lease); c.Status != state.NothingOwed || err != nil {
			t.Errorf("claim on 304 = %+v, %v; want nothing owed", c, err)
		}
		if c, err := s.ClaimAlert(ctx, ItemKey(), "owner", time.Now(), lease); c.Status != state.NothingOwed || err != nil {
			t.Errorf("claim on unknown item = %+v, %v; want nothing owed", c, err)
		}
	})

	t.Run("an owed alert survives a later greater state and is reported by stale deliveries", func(t *testing.T) {
		s := newStore(t)
		key := ItemKey()
		apply(t, s, Delivery(key, 305, "mid-1"))
		if res := apply(t, s, Delivery(key, 399, "mid-2")); res.Outcome != state.Stored || !res.AlertPending {
			t.Errorf("greater state after unsent 305: %+v, want stored with alert pending", res)
		}
		if res := apply(t, s, Delivery(key, 300, "mid-3")); res.Outcome != state.Stale || !res.AlertPending {
			t.Errorf("stale delivery: %+v, want stale with alert pending", res)
		}
		if c, _ := s.ClaimAlert(ctx, key, "owner", time.Now(), lease); c.Status != state.Claimed {
			t.Errorf("the owed alert could not be claimed: %+v", c)
		}
	})

	t.Run("an increase reports the stateCode it replaced", func(t *testing.T) { runPreviousState(t, newStore) })
	t.Run("queues", func(t *testing.T) { runQueues(t, newStore) })
	t.Run("storms", func(t *testing.T) { runStorms(t, newStore) })
	t.Run("a reader shows the alert payload and who holds its lease", func(t *testing.T) { runAlertSlot(t, newStore) })

	t.Run("concurrent deliveries end at the highest state", func(t *testing.T) {
		s := newStore(t)
		key := ItemKey()
		codes := []int{300, 304, 300, 304, 300, 304, 300, 300}
		var wg sync.WaitGroup
		errs := make(chan error, len(codes))
		stored := make(chan int, len(codes))
		for i, sc := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := s.Apply(ctx, Delivery(key, sc, fmt.Sprint("mid-", i)))
				if err != nil {
					errs <- err
				}
				if res.Outcome == state.Stored {
					stored <- sc
				}
			}()
		}
		wg.Wait()
		close(errs)
		close(stored)
		for err := range errs {
			t.Fatal(err)
		}
		if it := get(t, s, key); it.Event.StateCode != 304 {
			t.Errorf("final stateCode %d, want 304", it.Event.StateCode)
		}
		n304 := 0
		for sc := range stored {
			if sc == 304 {
				n304++
			}
		}
		if n304 != 1 {
			t.Errorf("304 stored %d times, want exactly once", n304)
		}
	})
}

func mustClaim(t *testing.T, s Adapter, key, owner string, now time.Time, lease time.Duration) {
	t.Helper()
	if c, err := s.ClaimAlert(context.Background(), key, owner, now, lease); err != nil || c.Status != state.Claimed {
		t.Fatalf("claim by %s = %+v, %v; want claimed", owner, c, err)
	}
}

// wantEvent fails t unless the stored event equals the applied one, field for field.
func wantEvent(t *testing.T, got, want cashbill.Event) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored event differs from the applied one:\n got %s\nwant %s", eventString(got), eventString(want))
	}
}

func eventString(ev cashbill.Event) string {
	interOP := "<nil>"
	if ev.InterOPYN != nil {
		interOP = fmt.Sprint(*ev.InterOPYN)
	}
	ev.InterOPYN = nil
	return fmt.Sprintf("%+v, interOPYN %s", ev, interOP)
}
