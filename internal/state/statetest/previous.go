package statetest

import (
	"context"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// runPreviousState: an increase reports the stateCode it replaced, read in
// the same write, so that the state-change event carries it; a new item
// reports none.
func runPreviousState(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	cases := []struct {
		name     string
		states   []int // applied in order; the last one is checked
		outcome  state.Outcome
		previous int
	}{
		{"a new cashbill replaced nothing", []int{300}, state.Stored, 0},
		{"an increase replaced the stored state", []int{300, 304}, state.Stored, 300},
		{"a 305 after a 300 replaced the 300", []int{300, 305}, state.Stored, 300},
		{"an increase past a skipped state replaced the one stored", []int{100, 305}, state.Stored, 100},
		{"a duplicate replaced nothing", []int{300, 300}, state.Duplicate, 0},
		{"a stale event replaced nothing", []int{304, 300}, state.Stale, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			key := ItemKey()
			var res state.Result
			for i, sc := range tc.states {
				var err error
				if res, err = s.Apply(ctx, Delivery(key, sc, "m-"+string(rune('a'+i)))); err != nil {
					t.Fatalf("Apply(%d): %v", sc, err)
				}
			}
			if res.Outcome != tc.outcome || res.PreviousStateCode != tc.previous {
				t.Errorf("Apply = %s, previous %d; want %s, previous %d", res.Outcome, res.PreviousStateCode, tc.outcome, tc.previous)
			}
		})
	}
	t.Run("an increase over an alert left owed replaced the stored state", func(t *testing.T) {
		// The second write of dynamostore's Apply (the guard on a pending alert).
		s := newStore(t)
		key := ItemKey()
		for _, sc := range []int{305, 400} {
			res, err := s.Apply(ctx, Delivery(key, sc, "m"))
			if err != nil {
				t.Fatal(err)
			}
			if sc == 400 && (res.Outcome != state.Stored || res.PreviousStateCode != 305 || !res.AlertPending) {
				t.Errorf("Apply(400) = %+v, want stored over 305 with the alert still owed", res)
			}
		}
	})
}
