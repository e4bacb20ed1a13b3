//go:build integration

package ledger_test

import (
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify"
	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify/ledger"
	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify/ledger/ledgertest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

func TestDynamoKeepsTheLedgerContract(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) slacknotify.Ledger {
		client, table := mototest.Table(t, ledger.KeyAttribute)
		return ledger.NewDynamo(client, table)
	})
}
