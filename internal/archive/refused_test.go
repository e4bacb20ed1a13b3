package archive_test

import (
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// TestRefusedOutcomesAreTheWebhooks pins the archive's refused outcomes
// (those of its sparse index) to the webhook's names for them.
func TestRefusedOutcomesAreTheWebhooks(t *testing.T) {
	for outcome, want := range map[string]bool{
		string(webhook.Rejected): true, string(webhook.Failed): true,
		string(state.Stored): false, string(state.Duplicate): false, string(state.Stale): false,
		archive.OutcomeResent: false,
	} {
		if got := archive.Refused(outcome); got != want {
			t.Errorf("Refused(%q) = %v, want %v", outcome, got, want)
		}
	}
}
