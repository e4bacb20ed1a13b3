package statetest

import (
	"context"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// runAlertSlot checks what readers show of an alert: its payload and, while
// it is claimed, who holds it and until when (the operator's alert list).
func runAlertSlot(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	key := ItemKey()
	rec := Delivery(key, 305, "mid-1")
	if _, err := s.Apply(ctx, rec); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Millisecond)
	mustClaim(t, s, key, "owner-a", now, time.Minute)

	due, err := s.Due(ctx, state.QueueAlert, now.Add(time.Minute), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var fromQueue *state.Item
	for i := range due {
		if due[i].Event.ItemKey == key {
			fromQueue = &due[i]
		}
	}
	got, found, err := s.Get(ctx, key)
	if err != nil || !found || fromQueue == nil {
		t.Fatalf("Get found %v, err %v; in the alert queue %v", found, err, fromQueue != nil)
	}
	for _, c := range []struct {
		name string
		it   state.Item
	}{{"Get", got}, {"Due", *fromQueue}} {
		if c.it.AlertLeaseOwner != "owner-a" || !c.it.AlertLeaseUntil.Equal(now.Add(time.Minute)) || string(c.it.AlertPayload) != string(rec.Alert) {
			t.Errorf("%s shows lease %q until %v, payload %s; want owner-a until %v, the stored alert",
				c.name, c.it.AlertLeaseOwner, c.it.AlertLeaseUntil, c.it.AlertPayload, now.Add(time.Minute))
		}
	}
	if err := s.MarkAlertSent(ctx, key, "owner-a", "sns-1", now); err != nil {
		t.Fatal(err)
	}
	got, _, err = s.Get(ctx, key)
	if err != nil || got.AlertLeaseOwner != "" || string(got.AlertPayload) != string(rec.Alert) {
		t.Errorf("after mark sent: lease %q, payload %s, %v; want no lease and the alert kept", got.AlertLeaseOwner, got.AlertPayload, err)
	}
}
