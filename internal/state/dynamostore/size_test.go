//go:build integration

package dynamostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

// itemSize is an item's size by DynamoDB's rules ("Item sizes and formats"):
// each attribute's name plus its value (S: UTF-8 bytes; N: a byte per two
// significant digits plus one; BOOL, NULL: one). A write costs one write
// unit per KB of it.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			digits := 0
			for _, c := range v.Value {
				if c >= '0' && c <= '9' {
					digits++
				}
			}
			n += (digits+1)/2 + 1
		default:
			n++
		}
	}
	return n
}

// TestACashbillsItemCostsOneWriteUnitThroughItsLife: every write of a
// cashbill's life, from its issue to its 305's alert sent, leaves an item
// under 1 KB, so that each costs one write unit, with POPBiLL's longest
// mgtKey (24 characters) and message id, and a Lambda request id as the
// lease owner.
func TestACashbillsItemCostsOneWriteUnitThroughItsLife(t *testing.T) {
	client, table := motostack.StateTable(t)
	s := dynamostore.New(client, table)
	ctx := context.Background()
	key := statetest.ItemKey()
	ev := cashbill.Event{
		CorpNum: "6798700433", FranchiseCorpNum: "6798700433", ItemKey: key, TradeDate: "20221221",
		ConfirmNum: "TB0001146", StateCode: 300, StateDT: "20221221161912", IssueDT: "20221221161912",
		MgtKey: "20221221-0000000000000001", EventDT: "20221221161912", EventType: "Issue", InterOPYN: new(bool),
	}
	mid := "016120000002-1777d55c2c41492ab06826d"
	owner := "8f5c2a34-6a0e-4d7b-9a3e-2b1f0c9d8e7a"
	size := func(step string) {
		t.Helper()
		out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
			dynamostore.KeyAttribute: &types.AttributeValueMemberS{Value: key}}})
		if err != nil {
			t.Fatal(err)
		}
		if n := itemSize(out.Item); n >= 1024 {
			t.Errorf("after %s the item is %d bytes: a write of it costs %d write units, want 1", step, n, (n+1023)/1024)
		}
	}
	apply := func(ev cashbill.Event, d state.Delivery) {
		t.Helper()
		d.Event, d.MID, d.ReceivedAt = ev, mid, time.Now()
		if _, err := s.Apply(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	apply(ev, state.Delivery{})
	size("its issue (300)")
	ev.StateCode, ev.EventType, ev.EventDT = 305, "NTS", "20221222100033"
	ev.NTSSendDT, ev.NTSResultDT, ev.NTSResultCode = "20221222000000", "20221222100033", "TS4"
	apply(ev, state.Delivery{Alert: alert.Encode(alert.FromEvent(ev, mid, alert.KindFailure)), AlertOwner: owner, AlertLeaseUntil: time.Now().Add(time.Minute)})
	size("its NTS failure (305), its alert claimed")
	if err := s.MarkAlertSent(ctx, key, owner, "c0ffee00-1111-5222-8333-444455556666", time.Now()); err != nil {
		t.Fatal(err)
	}
	size("its alert sent")
}
