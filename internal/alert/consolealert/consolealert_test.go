package consolealert_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/alerttest"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
)

func TestContract(t *testing.T) {
	alerttest.Run(t, func(t *testing.T) alerttest.Harness {
		var buf bytes.Buffer
		return alerttest.Harness{
			Publisher: consolealert.New(&buf),
			Received: func(t *testing.T) []string {
				return strings.Split(buf.String(), "=== ALERT ")[1:]
			},
		}
	})
}

// Two publishers (the receiver's and the cashbill tool's, each counting
// from 1) never hand out the same message id.
func TestMessageIDsAreUniqueAcrossPublishers(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		p := consolealert.New(&bytes.Buffer{})
		for range 2 {
			id, err := p.Publish(context.Background(), alerttest.Failure("022122116191200001"))
			if err != nil {
				t.Fatal(err)
			}
			if seen[id] || !strings.HasPrefix(id, "local-") {
				t.Fatalf("message id %q repeats or is not local-...", id)
			}
			seen[id] = true
		}
	}
}
