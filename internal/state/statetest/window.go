package statetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// runResultEntries checks what the watchdog's moving window reads: the
// result queue's entries in index order, from a position, with their items,
// and the watermark that only moves forward.
func runResultEntries(newStore NewStore) func(t *testing.T) {
	return func(t *testing.T) {
		ctx := context.Background()
		// Three cashbills issued on one day share a dueAt: the itemKey orders them.
		day := time.Date(2025, 11, 27, 0, 0, 0, 0, kst)
		issue := func(t *testing.T, s Adapter, key string, stateCodes ...int) {
			t.Helper()
			for _, sc := range stateCodes {
				d := Delivery(key, sc, "mid")
				d.Event.IssueDT, d.Event.EventDT = "20251127141000", "20251127141000"
				d.ReceivedAt = day.Add(14 * time.Hour)
				if _, err := s.Apply(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
		}
		keysOf := func(entries []state.Entry) []string {
			var out []string
			for _, e := range entries {
				out = append(out, e.At.ItemKey)
			}
			return out
		}
		setup := func(t *testing.T) (Adapter, []string) {
			s := newStore(t)
			keys := []string{ItemKey(), ItemKey(), ItemKey()}
			issue(t, s, keys[0], 300)
			issue(t, s, keys[1], 300, 304)
			issue(t, s, keys[2], 300)
			// The index's own order of one dueAt's entries.
			all, err := s.ResultEntries(ctx, state.Position{}, day, 10)
			if err != nil {
				t.Fatal(err)
			}
			if got := keysOf(all); !sameSet(got, keys) {
				t.Fatalf("entries %v, want %v", got, keys)
			}
			return s, keysOf(all)
		}

		cases := []struct {
			name    string
			after   func(keys []string) state.Position
			through time.Time
			limit   int
			want    func(keys []string) []string
		}{
			{"from the start: every entry, the one with its result too",
				func([]string) state.Position { return state.Position{} }, day, 10, func(k []string) []string { return k }},
			{"at most the limit, in the same order", func([]string) state.Position { return state.Position{} }, day, 2, func(k []string) []string { return k[:2] }},
			{"after a position: the entries past it",
				func(k []string) state.Position { return state.Position{DueAt: day, ItemKey: k[0]} }, day, 10, func(k []string) []string { return k[1:] }},
			{"a position with no itemKey is before every entry of its time",
				func([]string) state.Position { return state.Position{DueAt: day} }, day, 10, func(k []string) []string { return k }},
			{"a position after a time is after its entries",
				func([]string) state.Position { return state.Position{DueAt: day.Add(time.Millisecond)} }, day.Add(time.Hour), 10, func([]string) []string { return nil }},
			{"nothing due after through", func([]string) state.Position { return state.Position{} }, day.Add(-time.Millisecond), 10, func([]string) []string { return nil }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s, keys := setup(t)
				got, err := s.ResultEntries(ctx, tc.after(keys), tc.through, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				if want := tc.want(keys); !slices.Equal(keysOf(got), want) {
					t.Fatalf("entries %v, want %v", keysOf(got), want)
				}
				for _, e := range got {
					if !e.Found || !e.At.DueAt.Equal(day) || e.Item.Event.ItemKey != e.At.ItemKey {
						t.Errorf("entry %+v: want its item, due at %v", e.At, day)
					}
					if awaiting := e.Item.Event.StateCode == cashbill.StateIssued; e.Item.AwaitingResult() != awaiting {
						t.Errorf("%s at %d: awaiting its result %v, want %v", e.At.ItemKey, e.Item.Event.StateCode, !awaiting, awaiting)
					}
				}
			})
		}

		t.Run("an entry whose cashbill has its result stays, and RaiseOverdue writes nothing to it", func(t *testing.T) {
			s, keys := setup(t)
			if out, err := s.RaiseOverdue(ctx, keys[1], []byte(`{}`), time.Now()); err != nil || out != state.ResultKnown {
				t.Fatalf("RaiseOverdue = %q, %v; want %q", out, err, state.ResultKnown)
			}
			got, err := s.ResultEntries(ctx, state.Position{}, day, 10)
			if err != nil || !sameSet(keysOf(got), keys) {
				t.Fatalf("entries %v, %v; want %v", keysOf(got), err, keys)
			}
			awaiting, err := s.Due(ctx, state.QueueResult, day, 10)
			var want []string
			for _, k := range keys {
				if k != keys[1] {
					want = append(want, k)
				}
			}
			if err != nil || !sameSet(itemKeys(awaiting), want) {
				t.Errorf("Due(result) = %v, %v; want the two awaiting %v", itemKeys(awaiting), err, want)
			}
		})

		t.Run("the watermark only moves forward", func(t *testing.T) {
			s := newStore(t)
			if _, ok, err := s.ResultWatermark(ctx); err != nil || ok {
				t.Fatalf("a new store's watermark: found %v, %v; want none", ok, err)
			}
			steps := []struct {
				name string
				to   state.Position
				want state.Position
			}{
				{"set", state.Position{DueAt: day, ItemKey: "022112700000000002"}, state.Position{DueAt: day, ItemKey: "022112700000000002"}},
				{"another entry of the same time", state.Position{DueAt: day, ItemKey: "022112700000000001"}, state.Position{DueAt: day, ItemKey: "022112700000000001"}},
				{"an earlier time changes nothing", state.Position{DueAt: day.Add(-time.Millisecond), ItemKey: "022112799999999999"}, state.Position{DueAt: day, ItemKey: "022112700000000001"}},
				{"a later time", state.Position{DueAt: day.Add(time.Millisecond)}, state.Position{DueAt: day.Add(time.Millisecond)}},
			}
			for _, st := range steps {
				if err := s.AdvanceResultWatermark(ctx, st.to); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				got, ok, err := s.ResultWatermark(ctx)
				if err != nil || !ok || !got.DueAt.Equal(st.want.DueAt) || got.ItemKey != st.want.ItemKey {
					t.Fatalf("%s: watermark %+v (found %v, %v), want %+v", st.name, got, ok, err, st.want)
				}
			}
		})
	}
}

// sameSet reports whether a and b hold the same itemKeys, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
