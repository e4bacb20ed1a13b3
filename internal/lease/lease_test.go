package lease_test

import (
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/lease"
)

func TestAClaimTakesALeaseThatIsFreeExpiredOrItsOwn(t *testing.T) {
	now := time.Date(2025, 11, 27, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		l     lease.Lease
		owner string
		held  bool
	}{
		{"no lease", lease.Lease{}, "b", false},
		{"another owner's, expired", lease.Lease{Owner: "a", Until: now.Add(-time.Millisecond)}, "b", false},
		{"the claimant's own, running (a retried claim)", lease.Take("b", now, time.Minute), "b", false},
		{"another owner's, running", lease.Take("a", now, time.Minute), "b", true},
		{"another owner's, ending this instant", lease.Lease{Owner: "a", Until: now}, "b", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.l.HeldAgainst(tc.owner, now); got != tc.held {
				t.Errorf("HeldAgainst(%q) = %v, want %v", tc.owner, got, tc.held)
			}
		})
	}
}
