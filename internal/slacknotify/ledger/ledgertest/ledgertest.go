// Package ledgertest is the contract every slacknotify.Ledger adapter passes:
// the DynamoDB one against moto_server, the in-memory one in plain go test.
package ledgertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify"
)

// Run checks that a ledger keeps the contract of slacknotify.Ledger.
// newLedger returns an empty ledger for one test.
func Run(t *testing.T, newLedger func(t *testing.T) slacknotify.Ledger) {
	ctx := context.Background()
	now := time.Now()
	const lease = time.Minute
	id := func() string { return fmt.Sprintf("0251127%011d/failure", rand.Int64N(1e11)) }

	type step struct {
		do      string // claim, mark, release
		owner   string
		at      time.Duration // after now
		claimed bool
		posted  bool
		held    bool
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"a new alert is claimed", []step{{do: "claim", owner: "a", claimed: true}}},
		{"the same owner's retried claim succeeds", []step{
			{do: "claim", owner: "a", claimed: true},
			{do: "claim", owner: "a", claimed: true},
		}},
		{"another owner is refused while the lease runs", []step{
			{do: "claim", owner: "a", claimed: true},
			{do: "claim", owner: "b", at: lease - time.Second, held: true},
		}},
		{"an expired lease is taken over", []step{
			{do: "claim", owner: "a", claimed: true},
			{do: "claim", owner: "b", at: lease + time.Second, claimed: true},
		}},
		{"a posted alert is never claimed again", []step{
			{do: "claim", owner: "a", claimed: true},
			{do: "mark", owner: "a"},
			{do: "claim", owner: "a", at: 2 * lease, posted: true},
			{do: "claim", owner: "b", at: 2 * lease, posted: true},
		}},
		{"a released claim is free at once", []step{
			{do: "claim", owner: "a", claimed: true},
			{do: "release", owner: "a"},
			{do: "claim", owner: "b", claimed: true},
		}},
		{"another owner cannot release or mark a claim", []step{
			{do: "claim", owner: "a", claimed: true},
			{do: "release", owner: "b"},
			{do: "mark", owner: "b"},
			{do: "claim", owner: "c", held: true},
		}},
		{"a release after the post keeps it posted", []step{
			{do: "claim", owner: "a", claimed: true},
			{do: "mark", owner: "a"},
			{do: "release", owner: "a"},
			{do: "claim", owner: "b", posted: true},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, alert := newLedger(t), id()
			for i, st := range tc.steps {
				at := now.Add(st.at)
				switch st.do {
				case "claim":
					c, err := l.Claim(ctx, alert, st.owner, at, lease)
					if err != nil {
						t.Fatalf("step %d: Claim: %v", i, err)
					}
					if c.Claimed != st.claimed || c.Posted != st.posted || (!c.HeldUntil.IsZero()) != st.held {
						t.Fatalf("step %d: Claim by %s = %+v, want claimed %v posted %v held %v", i, st.owner, c, st.claimed, st.posted, st.held)
					}
				case "mark":
					if err := l.MarkPosted(ctx, alert, st.owner, at); err != nil {
						t.Fatalf("step %d: MarkPosted: %v", i, err)
					}
				case "release":
					if err := l.Release(ctx, alert, st.owner); err != nil {
						t.Fatalf("step %d: Release: %v", i, err)
					}
				}
			}
		})
	}

	t.Run("one of many concurrent claims wins", func(t *testing.T) {
		l, alert := newLedger(t), id()
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := l.Claim(ctx, alert, fmt.Sprint("owner-", i), now, lease)
				if err != nil {
					t.Error(err)
					return
				}
				if c.Claimed {
					mu.Lock()
					won++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d claims won, want exactly 1", won)
		}
	})
}
