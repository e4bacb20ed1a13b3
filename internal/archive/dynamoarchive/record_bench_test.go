package dynamoarchive

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archivetest"
)

// BenchmarkRecordItem is the archive record's share of a delivery's CPU:
// a delivery turned into the item PutItem sends, before the SDK's own cost.
func BenchmarkRecordItem(b *testing.B) {
	d := archivetest.Accepted(archivetest.ItemKey(), time.Date(2025, 11, 27, 5, 10, 3, 123456000, time.UTC))
	b.ReportAllocs()
	for b.Loop() {
		it, err := itemOf(d)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := attributevalue.MarshalMap(it); err != nil {
			b.Fatal(err)
		}
	}
}
