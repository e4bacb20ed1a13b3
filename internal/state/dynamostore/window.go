package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// WatermarkKey is the itemKey of the item that keeps the watchdog's
// watermark on the result queue: never an 18-digit itemKey, never in the
// due index, and with no stateCode, so the state-change forwarder skips it.
const WatermarkKey = "watermark#result"

// The watermark item's attributes: the position through which the result
// queue was examined.
const (
	attrMarkDueAt = "markDueAt" // N, unix milliseconds
	attrMarkKey   = "markItemKey"
)

// watermark is the watermark item as stored.
type watermark struct {
	DueAt   *int64 `dynamodbav:"markDueAt"`
	ItemKey string `dynamodbav:"markItemKey"`
}

// entryKey is an entry of the due index: its keys (KEYS_ONLY).
type entryKey struct {
	ItemKey string `dynamodbav:"itemKey"`
	DueAt   int64  `dynamodbav:"dueAt"`
}

// ResultEntries queries the result queue after after, through through, and
// reads the items its entries name. Where after names an item, the query
// resumes after it (ExclusiveStartKey); otherwise it starts at after's DueAt.
func (q *Queues) ResultEntries(ctx context.Context, after state.Position, through time.Time, limit int) ([]state.Entry, error) {
	if after.DueAt.After(through) || limit <= 0 {
		return nil, nil
	}
	keyCond := expression.Key(DueQueueAttribute).Equal(expression.Value(state.QueueResult)).
		And(expression.Key(DueAtAttribute).Between(expression.Value(millis(after.DueAt)), expression.Value(millis(through))))
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(q.table),
		IndexName:                 aws.String(DueIndex),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}
	if after.ItemKey != "" {
		if in.ExclusiveStartKey, err = attributevalue.MarshalMap(struct {
			DueQueue string `dynamodbav:"dueQueue"`
			entryKey
		}{state.QueueResult, entryKey{after.ItemKey, millis(after.DueAt)}}); err != nil {
			return nil, err
		}
	}
	var entries []entryKey
	for len(entries) < limit {
		in.Limit = aws.Int32(int32(min(limit-len(entries), 1000)))
		page, err := q.query.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamostore: query result queue: %w", err)
		}
		for _, raw := range page.Items {
			var e entryKey
			if err := attributevalue.UnmarshalMap(raw, &e); err != nil {
				return nil, fmt.Errorf("dynamostore: result queue entry: %w", err)
			}
			entries = append(entries, e)
		}
		if in.ExclusiveStartKey = page.LastEvaluatedKey; len(in.ExclusiveStartKey) == 0 {
			break
		}
	}
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.ItemKey
	}
	read, err := q.batchGet(ctx, keys)
	out := make([]state.Entry, 0, len(entries))
	for _, e := range entries {
		at := state.Position{DueAt: time.UnixMilli(e.DueAt), ItemKey: e.ItemKey}
		item, ok := read[e.ItemKey]
		if !ok {
			if err != nil {
				break // not read: the caller must not pass it
			}
			out = append(out, state.Entry{At: at, Item: state.Item{Event: cashbill.Event{ItemKey: e.ItemKey}}})
			continue
		}
		it, derr := decodeItem(item)
		if derr != nil {
			return out, derr
		}
		out = append(out, state.Entry{At: at, Item: it, Found: true})
	}
	return out, err
}

// awaiting is Due of the result queue: the items still awaiting their
// result, from the watermark's DueAt on (before it, every entry was examined).
func (q *Queues) awaiting(ctx context.Context, through time.Time, limit int) ([]state.Item, error) {
	from, err := q.awaitingFrom(ctx)
	if err != nil {
		return nil, err
	}
	var out []state.Item
	for len(out) < limit {
		entries, err := q.ResultEntries(ctx, from, through, batchGetMax)
		for _, e := range entries {
			if e.Found && e.Item.AwaitingResult() && len(out) < limit {
				out = append(out, e.Item)
			}
		}
		if err != nil || len(entries) < batchGetMax {
			return out, err
		}
		from = entries[len(entries)-1].At
	}
	return out, nil
}

// ResultWatermark reads the watermark item, strongly consistent, with the
// BatchGetItem the queue reads already make.
func (q *Queues) ResultWatermark(ctx context.Context) (state.Position, bool, error) {
	out, err := q.query.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
		RequestItems: map[string]types.KeysAndAttributes{q.table: {Keys: []map[string]types.AttributeValue{key(WatermarkKey)}, ConsistentRead: aws.Bool(true)}},
	})
	if err != nil {
		return state.Position{}, false, fmt.Errorf("dynamostore: read watermark: %w", err)
	}
	if len(out.UnprocessedKeys) > 0 {
		return state.Position{}, false, fmt.Errorf("dynamostore: read watermark: left unprocessed")
	}
	items := out.Responses[q.table]
	if len(items) == 0 {
		return state.Position{}, false, nil
	}
	var w watermark
	if err := attributevalue.UnmarshalMap(items[0], &w); err != nil || w.DueAt == nil {
		return state.Position{}, false, fmt.Errorf("dynamostore: read watermark: not a watermark item")
	}
	return state.Position{DueAt: time.UnixMilli(*w.DueAt), ItemKey: w.ItemKey}, true, nil
}

// AdvanceResultWatermark moves the watermark to p with one conditional
// write, never back in time, so that of two runs at once the later one's
// stays. Within one dueAt it does not compare itemKeys: the index's order
// of one dueAt's entries is its own.
func (q *Queues) AdvanceResultWatermark(ctx context.Context, p state.Position) error {
	at := expression.Value(millis(p.DueAt))
	u := expression.Set(name(attrMarkDueAt), at).Set(name(attrMarkKey), expression.Value(p.ItemKey))
	cond := expression.Or(expression.AttributeNotExists(name(KeyAttribute)), name(attrMarkDueAt).LessThanEqual(at))
	if _, _, err := q.conditional(ctx, WatermarkKey, u, cond, types.ReturnValueNone); err != nil {
		return fmt.Errorf("dynamostore: advance watermark: %w", err)
	}
	return nil
}

// awaitingFrom is where entries may still await their result: ResultOverlap
// before the watermark (the watchdog re-examines that far), or the start.
func (q *Queues) awaitingFrom(ctx context.Context) (state.Position, error) {
	mark, ok, err := q.ResultWatermark(ctx)
	if err != nil || !ok {
		return state.Position{}, err
	}
	return state.Position{DueAt: mark.DueAt.Add(-state.ResultOverlap)}, nil
}
