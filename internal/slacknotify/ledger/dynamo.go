// Package ledger is the DynamoDB adapter of slacknotify.Ledger: one item per
// alert id, expiring with a TTL, for the deployed notifier. The local
// adapter, slacknotify.MemoryLedger, lives beside the port.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/lease"
	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify"
)

// API is every DynamoDB call the ledger makes; template.yaml grants the
// Slack notifier exactly these, on the ledger table.
type API interface {
	PutItem(ctx context.Context, params *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, params *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// The ledger table's attributes. KeyAttribute is its partition key and
// ExpiresAttribute its TTL attribute (template.yaml declares both).
const (
	KeyAttribute     = "alertId"
	ExpiresAttribute = "expiresAt"
	attrOwner        = "owner"
	attrUntil        = "leaseUntil"
	attrPosted       = "postedAt"
)

// Dynamo is the ledger in a DynamoDB table: one item per alert id, expiring
// Retention after it was claimed.
type Dynamo struct {
	api   API
	table string
}

var (
	_ slacknotify.Ledger = (*Dynamo)(nil)
	_ API                = (*dynamodb.Client)(nil)
)

// NewDynamo returns the ledger in table.
func NewDynamo(api API, table string) *Dynamo { return &Dynamo{api: api, table: table} }

// claim is a ledger item as stored.
type claim struct {
	AlertID    string `dynamodbav:"alertId"`
	Owner      string `dynamodbav:"owner"`
	LeaseUntil int64  `dynamodbav:"leaseUntil"` // unix milliseconds
	ExpiresAt  int64  `dynamodbav:"expiresAt"`  // unix seconds: the TTL
	// PostedAt is set once the alert was posted (unix milliseconds).
	PostedAt *int64 `dynamodbav:"postedAt,omitempty"`
}

func (d *Dynamo) key(id string) map[string]types.AttributeValue {
	k, _ := attributevalue.MarshalMap(struct {
		AlertID string `dynamodbav:"alertId"`
	}{id}) // a string always marshals
	return k
}

// held is where a ledger item keeps its lease.
var held = lease.Attributes{Owner: attrOwner, Until: attrUntil}

// Claim writes the claim unless the item says the alert was posted, or
// another owner's lease runs; a failed condition returns the item, which
// says which.
func (d *Dynamo) Claim(ctx context.Context, id, owner string, now time.Time, lease time.Duration) (slacknotify.Claim, error) {
	item, err := attributevalue.MarshalMap(claim{AlertID: id, Owner: owner, LeaseUntil: now.Add(lease).UnixMilli(),
		ExpiresAt: now.Add(slacknotify.Retention).Unix()})
	if err != nil {
		return slacknotify.Claim{}, fmt.Errorf("ledger: claim %s: %w", id, err)
	}
	cond := expression.Or(expression.AttributeNotExists(expression.Name(KeyAttribute)),
		expression.AttributeNotExists(expression.Name(attrPosted)).And(held.Free(owner, now)))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return slacknotify.Claim{}, fmt.Errorf("ledger: claim %s: %w", id, err)
	}
	_, err = d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(d.table),
		Item:                                item,
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		var old claim
		_ = attributevalue.UnmarshalMap(ccf.Item, &old)
		if old.PostedAt != nil {
			return slacknotify.Claim{Posted: true}, nil
		}
		return slacknotify.Claim{HeldUntil: time.UnixMilli(old.LeaseUntil)}, nil
	case err != nil:
		return slacknotify.Claim{}, fmt.Errorf("ledger: claim %s: %w", id, err)
	}
	return slacknotify.Claim{Claimed: true}, nil
}

// MarkPosted sets postedAt on owner's claim.
func (d *Dynamo) MarkPosted(ctx context.Context, id, owner string, now time.Time) error {
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name(attrPosted), expression.Value(now.UnixMilli()))).
		WithCondition(held.HeldBy(owner)).Build()
	if err != nil {
		return fmt.Errorf("ledger: mark %s posted: %w", id, err)
	}
	_, err = d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.table),
		Key:                       d.key(id),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("ledger: mark %s posted: %w", id, err)
	}
	return nil
}

// Release deletes owner's claim if it is still owner's and not posted.
func (d *Dynamo) Release(ctx context.Context, id, owner string) error {
	expr, err := expression.NewBuilder().
		WithCondition(held.HeldBy(owner).And(expression.AttributeNotExists(expression.Name(attrPosted)))).Build()
	if err != nil {
		return fmt.Errorf("ledger: release %s: %w", id, err)
	}
	_, err = d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(d.table),
		Key:                       d.key(id),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("ledger: release %s: %w", id, err)
	}
	return nil
}
