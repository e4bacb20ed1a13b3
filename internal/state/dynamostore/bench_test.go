//go:build integration

package dynamostore_test

import (
	"context"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

// BenchmarkApplyIncrease is the webhook's write for an Issue event (a new
// item) then its NTS result (an increase, whose answer carries the replaced
// attributes, ReturnValues UPDATED_OLD): two Applies per iteration, on the
// real SDK against moto_server, so the figure is moto's more than DynamoDB's.
func BenchmarkApplyIncrease(b *testing.B) {
	client, table := motostack.StateTable(b)
	s := dynamostore.New(client, table)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		key := statetest.ItemKey()
		for _, code := range []int{300, 304} {
			res, err := s.Apply(ctx, statetest.Delivery(key, code, "m"))
			if err != nil || res.Outcome != state.Stored {
				b.Fatalf("Apply(%d) = %+v, %v", code, res, err)
			}
		}
	}
}
