package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BatchGetAPI is the call that reads the items the due index names, on the
// table: the index projects only the keys, so that an entry costs a key's
// write, not the item's, and only entering or leaving a queue writes it.
type BatchGetAPI interface {
	BatchGetItem(ctx context.Context, params *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// QueueAPI is what the queue reads call: Query on the due index, then
// BatchGetItem on the table.
type QueueAPI interface {
	QueryAPI
	BatchGetAPI
}

// batchGetMax is how many keys one BatchGetItem takes; batchGetTries bounds
// the calls that retry the keys DynamoDB left unprocessed (throttling).
const (
	batchGetMax   = 100
	batchGetTries = 5
)

// queued is where an item waits, as read from the table.
type queued struct {
	DueQueue string `dynamodbav:"dueQueue"`
	DueAt    *int64 `dynamodbav:"dueAt"`
}

// dueItems returns up to limit items of queue due at or before through,
// earliest first: the keys from the due index, the items from the table. An
// item that left the queue (or became due later) between the two reads is
// left out, as one that left before the query would have been. On an error
// it returns the items read so far.
func (q *Queues) dueItems(ctx context.Context, queue string, through time.Time, limit int) ([]map[string]types.AttributeValue, error) {
	in, err := q.dueBefore(queue, through)
	if err != nil {
		return nil, err
	}
	var keys []string
	for len(keys) < limit {
		in.Limit = aws.Int32(int32(min(limit-len(keys), 1000)))
		page, err := q.query.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamostore: query queue %s: %w", queue, err)
		}
		for _, entry := range page.Items {
			var k itemKey
			if err := attributevalue.UnmarshalMap(entry, &k); err != nil {
				return nil, fmt.Errorf("dynamostore: queue %s entry: %w", queue, err)
			}
			keys = append(keys, k.ItemKey)
		}
		if in.ExclusiveStartKey = page.LastEvaluatedKey; len(in.ExclusiveStartKey) == 0 {
			break
		}
	}
	read, err := q.batchGet(ctx, keys)
	var out []map[string]types.AttributeValue
	for _, k := range keys {
		item, ok := read[k]
		if !ok {
			continue
		}
		var w queued
		if attributevalue.UnmarshalMap(item, &w) != nil || w.DueQueue != queue || w.DueAt == nil || *w.DueAt > millis(through) {
			continue
		}
		out = append(out, item)
	}
	return out, err
}

// batchGet reads the items of keys, by itemKey; an item deleted meanwhile is
// absent. Reads are eventually consistent, as the index's are: what the
// sweeper does with an item is conditional on the item as it is.
func (q *Queues) batchGet(ctx context.Context, keys []string) (map[string]map[string]types.AttributeValue, error) {
	read := make(map[string]map[string]types.AttributeValue, len(keys))
	for start := 0; start < len(keys); start += batchGetMax {
		var want []map[string]types.AttributeValue
		for _, k := range keys[start:min(start+batchGetMax, len(keys))] {
			want = append(want, key(k))
		}
		for try := 0; len(want) > 0; try++ {
			if try == batchGetTries {
				return read, fmt.Errorf("dynamostore: read due items: %d left unprocessed after %d tries", len(want), try)
			}
			if try > 0 {
				select {
				case <-ctx.Done():
					return read, ctx.Err()
				case <-time.After(time.Duration(try) * 50 * time.Millisecond):
				}
			}
			out, err := q.query.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{q.table: {Keys: want}},
			})
			if err != nil {
				return read, fmt.Errorf("dynamostore: read due items: %w", err)
			}
			for _, item := range out.Responses[q.table] {
				var k itemKey
				if err := attributevalue.UnmarshalMap(item, &k); err != nil {
					return read, fmt.Errorf("dynamostore: read due items: %w", err)
				}
				read[k.ItemKey] = item
			}
			want = out.UnprocessedKeys[q.table].Keys
		}
	}
	return read, nil
}
