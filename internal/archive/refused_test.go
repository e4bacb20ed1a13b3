package archive_test

import (
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// TestRefusedOutcomesAreTheWebhooks pins the archive's refused outcomes
// (those whose request logarchive keeps) to the webhook's 4xx and 5xx answers: of every
// outcome, only rejected and failed.
func TestRefusedOutcomesAreTheWebhooks(t *testing.T) {
	refused := map[state.Outcome]bool{state.Rejected: true, state.Failed: true}
	for _, outcome := range state.Outcomes {
		if got := archive.Refused(outcome); got != refused[outcome] {
			t.Errorf("Refused(%q) = %v, want %v", outcome, got, refused[outcome])
		}
	}
}
