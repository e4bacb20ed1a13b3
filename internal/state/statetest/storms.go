package statetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// CorpNum returns a business number not used before in this process, so
// that tests sharing a table never share a storm window.
func CorpNum() string { return fmt.Sprintf("9%09d", rand.Uint64N(1e9)) }

// runStorms checks the storm windows: the first alerts of a business in a
// window go out one by one, the rest into one digest each once, and the
// digest is claimed, sent and recorded on every member.
func runStorms(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	const (
		lease     = time.Minute
		size      = 10 * time.Minute
		threshold = 3
	)
	start := time.Date(2022, 12, 22, 1, 0, 0, 0, time.UTC)
	owner := "delivery-1"
	// owed stores n 305s of corp, each claimed by owner, each alert saying
	// the mgtKey and code that route's entry does (the outbox routes an
	// alert with what it says).
	owed := func(t *testing.T, s Adapter, n int) []string {
		t.Helper()
		var keys []string
		for range n {
			key := ItemKey()
			r := Delivery(key, 305, "mid-"+key)
			r.Alert = alert.Encode(alert.Failure{ItemKey: key, MgtKey: "m-" + key, NTSResultCode: "TS4", StateCode: 305, Kind: alert.KindFailure})
			r.AlertOwner, r.AlertLeaseUntil = owner, time.Now().Add(lease)
			if _, err := s.Apply(ctx, r); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, key)
		}
		return keys
	}
	route := func(t *testing.T, s Adapter, corp string, at time.Time, key string) outbox.Routed {
		t.Helper()
		got, err := s.RouteAlert(ctx, corp, at, size, threshold, owner, outbox.StormEntry{ItemKey: key, MgtKey: "m-" + key, Code: "TS4", Kind: "failure"})
		if err != nil {
			t.Fatalf("RouteAlert(%s): %v", key, err)
		}
		return got
	}
	dueWindow := func(t *testing.T, s Adapter, key string, through time.Time) (outbox.Window, bool) {
		t.Helper()
		ws, err := s.DueWindows(ctx, through, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			if w.Key == key {
				return w, true
			}
		}
		return outbox.Window{}, false
	}

	t.Run("the first alerts of a window go one by one and the rest into its digest once each", func(t *testing.T) {
		s := newStore(t)
		corp := CorpNum()
		keys := owed(t, s, threshold+2)
		wantKey := outbox.WindowKey(corp, start)
		for round := range 2 { // the second round is every delivery retried
			for i, key := range keys {
				got := route(t, s, corp, start, key)
				if want := i >= threshold; got.Digested != want || got.WindowKey != wantKey {
					t.Errorf("round %d: alert %d routed %+v, want digested %v in %s", round, i, got, want, wantKey)
				}
			}
		}
		digested := get(t, s, keys[threshold])
		if digested.AlertStatus != state.AlertDigested || digested.AlertWindow != wantKey || digested.DueQueue != "" {
			t.Errorf("digested item: status %q, window %q, queue %q; want digested, %s, in no queue", digested.AlertStatus, digested.AlertWindow, digested.DueQueue, wantKey)
		}
		if c, err := s.ClaimAlert(ctx, keys[threshold], "other", time.Now(), lease); err != nil || c.Status != state.InDigest {
			t.Errorf("ClaimAlert of a digested alert = %v, %v; want %v", c.Status, err, state.InDigest)
		}
		if got := get(t, s, keys[0]); got.AlertStatus != state.AlertPending {
			t.Errorf("an alert sent one by one is %q before its publish is recorded, want pending", got.AlertStatus)
		}
		if _, ok := dueWindow(t, s, wantKey, start.Add(size-time.Millisecond)); ok {
			t.Error("the window is due before it ends")
		}
		w, ok := dueWindow(t, s, wantKey, start.Add(size))
		if !ok {
			t.Fatal("the window is not due at its end")
		}
		if len(w.Entries) != 2 || w.Entries[0].ItemKey != keys[threshold] || w.Entries[1].ItemKey != keys[threshold+1] || w.CorpNum != corp || !w.End.Equal(start.Add(size)) {
			t.Errorf("window = %+v, want the last two alerts once each, in order", w)
		}
		if w.Entries[0].MgtKey != "m-"+keys[threshold] || w.Entries[0].Code != "TS4" {
			t.Errorf("entry = %+v, want its mgtKey and code", w.Entries[0])
		}
	})

	t.Run("a full digest sends further alerts one by one", func(t *testing.T) {
		s := newStore(t)
		corp := CorpNum()
		keys := owed(t, s, threshold+outbox.MaxDigestEntries+2)
		for i, key := range keys {
			got := route(t, s, corp, start, key)
			if want := i >= threshold && i < threshold+outbox.MaxDigestEntries; got.Digested != want {
				t.Fatalf("alert %d routed %+v, want digested %v (threshold %d, digest of at most %d)", i, got, want, threshold, outbox.MaxDigestEntries)
			}
		}
		// A retry of an alert in the full digest stays in it.
		if got := route(t, s, corp, start, keys[threshold]); !got.Digested {
			t.Errorf("a retried member of a full digest routed %+v, want digested", got)
		}
		if got := get(t, s, keys[len(keys)-1]); got.AlertStatus != state.AlertPending {
			t.Errorf("an alert past the full digest is %q, want pending, to be published", got.AlertStatus)
		}
	})

	t.Run("a digest is claimed once, later alerts go to the next window, and every member is marked sent", func(t *testing.T) {
		s := newStore(t)
		corp := CorpNum()
		keys := owed(t, s, threshold+2)
		for _, key := range keys[:threshold+1] {
			route(t, s, corp, start, key)
		}
		key := outbox.WindowKey(corp, start)
		now := start.Add(size)
		w, ok, err := s.ClaimWindow(ctx, key, "sweeper-1", now, lease)
		if err != nil || !ok || len(w.Entries) != 1 {
			t.Fatalf("ClaimWindow = %+v, %v, %v; want the window with one entry", w, ok, err)
		}
		if _, ok, err := s.ClaimWindow(ctx, key, "sweeper-2", now, lease); err != nil || ok {
			t.Errorf("a second owner's ClaimWindow = %v, %v; want refused", ok, err)
		}
		if _, ok, err := s.ClaimWindow(ctx, outbox.WindowKey(corp, start.Add(-size)), "sweeper-1", now, lease); err != nil || ok {
			t.Errorf("ClaimWindow of no window = %v, %v; want refused", ok, err)
		}
		late := route(t, s, corp, start, keys[threshold+1])
		if late.WindowKey != outbox.WindowKey(corp, start.Add(size)) {
			t.Errorf("an alert for a closed window went to %s, want the next window", late.WindowKey)
		}
		if err := s.MarkWindowSent(ctx, key, "sweeper-1", "digest-msg"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkDigestedSent(ctx, keys[threshold], key, "digest-msg", now); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkDigestedSent(ctx, keys[0], key, "digest-msg", now); err != nil {
			t.Fatal(err)
		}
		if got := get(t, s, keys[threshold]); got.AlertStatus != state.AlertSent || got.AlertMessageID != "digest-msg" {
			t.Errorf("member: status %q, message %q; want sent with the digest's id", got.AlertStatus, got.AlertMessageID)
		}
		if got := get(t, s, keys[0]); got.AlertStatus != state.AlertPending {
			t.Errorf("MarkDigestedSent changed an alert not in the digest to %q", got.AlertStatus)
		}
		if w, ok, err := s.ClaimWindow(ctx, key, "sweeper-3", now, lease); err != nil || !ok || w.Status != outbox.WindowSent || w.MessageID != "digest-msg" {
			t.Errorf("ClaimWindow of a sent window = %+v, %v, %v; want it, sent, to finish marking", w, ok, err)
		}
		if err := s.FinishWindow(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, ok := dueWindow(t, s, key, now.Add(time.Hour)); ok {
			t.Error("a finished window is still due")
		}
	})
}

func get(t *testing.T, s Adapter, key string) state.Item {
	t.Helper()
	it, ok, err := s.Get(context.Background(), key)
	if err != nil || !ok {
		t.Fatalf("Get(%s) = %v, %v", key, ok, err)
	}
	return it
}
