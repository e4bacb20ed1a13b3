package slacknotify_test

import (
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify"
	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify/ledger/ledgertest"
)

func TestMemoryKeepsTheLedgerContract(t *testing.T) {
	ledgertest.Run(t, func(*testing.T) slacknotify.Ledger { return slacknotify.NewMemoryLedger() })
}
