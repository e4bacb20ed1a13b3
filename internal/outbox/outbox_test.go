package outbox_test

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/alerttest"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
)

// Every caller's outbox is built by New from the same settings, so what it
// publishes carries the deployment's presentation; and Send answers with one
// typed status, whatever the claim found.
func TestSendStampsThePresentationAndAnswersWithATypedStatus(t *testing.T) {
	ctx := context.Background()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.NotDurable())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec := &alerttest.Recorder{Next: consolealert.New(io.Discard)}
	pres := alerttest.Presentation()
	out := outbox.New(store, rec, nil, outbox.Settings{Presentation: &pres})

	owed := statetest.ItemKey()
	d := statetest.Delivery(owed, 305, "mid-1")
	d.Alert = alert.Encode(alert.FromEvent(d.Event, d.MID, alert.KindFailure))
	if _, err := store.Apply(ctx, d); err != nil {
		t.Fatal(err)
	}
	held := statetest.ItemKey()
	h := statetest.Delivery(held, 305, "mid-2")
	h.Alert = alert.Encode(alert.FromEvent(h.Event, h.MID, alert.KindFailure))
	h.AlertOwner, h.AlertLeaseUntil = "another", time.Now().Add(time.Minute)
	if _, err := store.Apply(ctx, h); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		itemKey string
		want    outbox.Status
	}{
		{"an owed alert is published", owed, outbox.Published},
		{"then it is sent already", owed, outbox.AlreadySent},
		{"another publisher's running lease", held, outbox.HeldByAnother},
		{"a cashbill with no alert", statetest.ItemKey(), outbox.NothingOwed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sent, err := out.Send(ctx, tc.itemKey, "owner")
			if err != nil || sent.Status != tc.want {
				t.Errorf("Send = %+v, %v; want %s", sent, err, tc.want)
			}
		})
	}
	published := rec.Drain()
	if len(published) != 1 {
		t.Fatalf("%d alerts published, want 1", len(published))
	}
	if f := published[0].Failure; f.Environment != "prod" || f.BusinessName != "가나다상사" || f.RunbookURL == "" || f.LogsURL == "" {
		t.Errorf("published %+v; want it stamped with the deployment's presentation", f)
	}
}
