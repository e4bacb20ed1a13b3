package consolealert_test

import (
	"bytes"
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
