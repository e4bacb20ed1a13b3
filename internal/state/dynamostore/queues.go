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

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// Queues is the store as the sweeper uses it: the state.Store calls plus the
// queue calls, which query the due index and never scan the table.
type Queues struct {
	*Store
	query QueueAPI
}

var (
	_ state.Store  = (*Queues)(nil)
	_ state.Queues = (*Queues)(nil)
)

// NewQueues returns the sweeper's store on table and its due index.
func NewQueues(api API, query QueueAPI, table string) *Queues {
	return &Queues{Store: New(api, table), query: query}
}

// dueBefore is the query of queue's items due at or before through, on the due index.
func (s *Store) dueBefore(queue string, through time.Time) (*dynamodb.QueryInput, error) {
	keyCond := expression.Key(DueQueueAttribute).Equal(expression.Value(queue)).
		And(expression.Key(DueAtAttribute).LessThanEqual(expression.Value(millis(through))))
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return nil, err
	}
	return &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(DueIndex),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}, nil
}

// Due queries the due index, earliest first, and reads the items it names.
func (q *Queues) Due(ctx context.Context, queue string, through time.Time, limit int) ([]state.Item, error) {
	if queue == state.QueueResult {
		return q.awaiting(ctx, through, limit)
	}
	items, err := q.dueItems(ctx, queue, through, limit)
	var out []state.Item
	for _, item := range items {
		it, derr := decodeItem(item)
		if derr != nil {
			return out, derr
		}
		out = append(out, it)
	}
	return out, err
}

// RaiseOverdue stores the overdue alert with one conditional write. When its
// condition fails it writes nothing more: an item that has its result keeps
// its entry in the result queue, which the watchdog's window has passed.
func (q *Queues) RaiseOverdue(ctx context.Context, itemKey string, payload []byte, now time.Time) (state.OverdueOutcome, error) {
	inResult := is(DueQueueAttribute, state.QueueResult)
	cond := inResult.And(name(attrState).LessThan(expression.Value(cashbill.StateNTSSuccess)), expression.AttributeNotExists(name(attrAlert)))
	old, failed, err := q.conditional(ctx, itemKey, setPendingAlert(expression.UpdateBuilder{}, alert.KindOverdue, expression.Value(string(payload)), expression.Value(millis(now))), cond, types.ReturnValueNone)
	switch {
	case err != nil:
		return "", fmt.Errorf("dynamostore: raise overdue alert %s: %w", itemKey, err)
	case !failed:
		return state.OverdueRaised, nil
	}
	var r record
	if err := attributevalue.UnmarshalMap(old, &r); err != nil {
		return "", fmt.Errorf("dynamostore: raise overdue alert %s: %w", itemKey, err)
	}
	if r.DueQueue != state.QueueResult {
		return state.OverdueNotOwed, nil
	}
	return state.ResultKnown, nil
}
