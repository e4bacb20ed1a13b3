//go:build integration

package dynamoarchive_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archivetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/dynamoarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

// TestIndexesHoldOnlyWhatTheirLookupReads pins down what makes the archive
// cheap to write: an accepted delivery is in the by-item and by-mgtkey
// indexes as keys (and corpNum) only and not in the refused index; a refused
// one is in the refused index; no attribute is stored twice.
func TestIndexesHoldOnlyWhatTheirLookupReads(t *testing.T) {
	ctx := context.Background()
	client := dynamodb.NewFromConfig(mototest.Config(t))
	table := motostack.New(t).Refs["ArchiveTable"]
	rec := dynamoarchive.NewRecorder(client, table)
	at := time.Date(2025, 11, 27, 5, 10, 3, 123456000, time.UTC)
	accepted := archivetest.Accepted(archivetest.ItemKey(), at)
	refused := archivetest.Accepted(archivetest.ItemKey(), at.Add(time.Second))
	refused.Status, refused.Outcome = 400, state.Rejected
	for _, d := range []archive.Delivery{accepted, refused} {
		if err := rec.Record(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	names := func(index string) map[string][]string {
		in := &dynamodb.ScanInput{TableName: aws.String(table)}
		if index != "" {
			in.IndexName = aws.String(index)
		}
		out, err := client.Scan(ctx, in)
		if err != nil {
			t.Fatalf("scan %s: %v", index, err)
		}
		got := map[string][]string{}
		for _, item := range out.Items {
			var id string
			var attrs []string
			for name, v := range item {
				attrs = append(attrs, name)
				if name == dynamoarchive.KeyAttribute {
					if s, ok := v.(*types.AttributeValueMemberS); ok {
						id = s.Value
					}
				}
			}
			slices.Sort(attrs)
			got[id] = attrs
		}
		return got
	}
	table0 := names("")
	for id, attrs := range table0 {
		for _, twice := range []string{"receivedAt", "dayOutcome", "corpMgtKey"} {
			if slices.Contains(attrs, twice) {
				t.Errorf("item %s stores %s, which its key or other attributes already hold", id, twice)
			}
		}
	}
	if len(table0) != 2 {
		t.Fatalf("table holds %d items, want 2", len(table0))
	}
	for index, want := range map[string][]string{
		dynamoarchive.IndexByItem:   {"day", "id", "itemKey"},
		dynamoarchive.IndexByMgtKey: {"corpNum", "day", "id", "mgtKey"},
		dynamoarchive.IndexRefused:  {"day", "id", "refused"},
	} {
		got := names(index)
		wantCount := 2
		if index == dynamoarchive.IndexRefused {
			wantCount = 1
		}
		if len(got) != wantCount {
			t.Errorf("%s holds %d deliveries, want %d", index, len(got), wantCount)
		}
		for id, attrs := range got {
			if !slices.Equal(attrs, want) {
				t.Errorf("%s projects %v for %s, want %v", index, attrs, id, want)
			}
		}
	}
}
