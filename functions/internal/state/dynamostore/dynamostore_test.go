//go:build integration

package dynamostore_test

import (
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/functions/internal/mototest"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/state/statetest"
)

func TestContract(t *testing.T) {
	statetest.Run(t, func(t *testing.T) statetest.Adapter {
		client, table := mototest.Table(t, dynamostore.KeyAttribute)
		return struct {
			state.Store
			state.Reader
		}{dynamostore.New(client, table), dynamostore.NewReader(client, table)}
	})
}
