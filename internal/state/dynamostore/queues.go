package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	query QueryAPI
}

var (
	_ state.Store  = (*Queues)(nil)
	_ state.Queues = (*Queues)(nil)
)

// NewQueues returns the sweeper's store on table and its due index.
func NewQueues(api API, query QueryAPI, table string) *Queues {
	return &Queues{Store: New(api, table), query: query}
}

// Due queries the due index, earliest first, page by page up to limit.
func (q *Queues) Due(ctx context.Context, queue string, through time.Time, limit int) ([]state.Item, error) {
	var out []state.Item
	var start map[string]types.AttributeValue
	for len(out) < limit {
		page, err := q.query.Query(ctx, &dynamodb.QueryInput{
			TableName:              aws.String(q.table),
			IndexName:              aws.String(DueIndex),
			KeyConditionExpression: aws.String("#q = :q AND #at <= :through"),
			ExpressionAttributeNames: map[string]string{
				"#q": DueQueueAttribute, "#at": DueAtAttribute,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":q": str(queue), ":through": num(through.UnixMilli()),
			},
			Limit:             aws.Int32(int32(min(limit-len(out), 1000))),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return out, fmt.Errorf("dynamostore: query queue %s: %w", queue, err)
		}
		for _, item := range page.Items {
			it, err := decodeItem(item)
			if err != nil {
				return out, err
			}
			out = append(out, it)
		}
		if start = page.LastEvaluatedKey; len(start) == 0 {
			break
		}
	}
	return out, nil
}

// RaiseOverdue stores the overdue alert with one conditional write; when its
// condition fails on an item still in the result queue, a second one takes
// the item out of it.
func (q *Queues) RaiseOverdue(ctx context.Context, itemKey string, payload []byte, now time.Time) (state.OverdueOutcome, error) {
	u := newUpdate()
	setPendingAlert(u, alert.KindOverdue, payload, now)
	inResult := fmt.Sprintf("%s = %s", u.name(DueQueueAttribute), u.value(str(state.QueueResult)))
	cond := fmt.Sprintf("%s AND %s < %s AND attribute_not_exists(%s)",
		inResult, u.name(attrState), u.value(num(cashbill.StateNTSSuccess)), u.name(attrAlert))
	old, failed, err := q.conditional(ctx, itemKey, u, cond, types.ReturnValueNone)
	switch {
	case err != nil:
		return "", fmt.Errorf("dynamostore: raise overdue alert %s: %w", itemKey, err)
	case !failed:
		return state.OverdueRaised, nil
	case getS(old, DueQueueAttribute) != state.QueueResult:
		return state.OverdueNotOwed, nil
	}
	u = newUpdate()
	u.remove = []string{u.name(DueQueueAttribute), u.name(DueAtAttribute)}
	if _, _, err := q.conditional(ctx, itemKey, u, fmt.Sprintf("%s = %s", u.name(DueQueueAttribute), u.value(str(state.QueueResult))), types.ReturnValueNone); err != nil {
		return "", fmt.Errorf("dynamostore: leave result queue %s: %w", itemKey, err)
	}
	return state.ResultKnown, nil
}
