//go:build integration

package dynamostore_test

import (
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

func TestContract(t *testing.T) {
	statetest.Run(t, func(t *testing.T) statetest.Adapter {
		client, table := motostack.StateTable(t)
		return struct {
			*dynamostore.Queues
			*dynamostore.Reader
		}{dynamostore.NewQueues(client, client, table), dynamostore.NewReader(client, table)}
	})
}
