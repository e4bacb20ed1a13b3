// Package ledger is the DynamoDB adapter of slacknotify.Ledger: one item per
// alert id, expiring with a TTL, for the deployed notifier. The local
// adapter, slacknotify.MemoryLedger, lives beside the port.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func (d *Dynamo) key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyAttribute: s(id)}
}

// Claim writes the claim unless the item says the alert was posted, or
// another owner's lease runs; a failed condition returns the item, which
// says which.
func (d *Dynamo) Claim(ctx context.Context, id, owner string, now time.Time, lease time.Duration) (slacknotify.Claim, error) {
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.table),
		Item: map[string]types.AttributeValue{
			KeyAttribute:     s(id),
			attrOwner:        s(owner),
			attrUntil:        n(now.Add(lease).UnixMilli()),
			ExpiresAttribute: n(now.Add(slacknotify.Retention).Unix()),
		},
		ConditionExpression: aws.String("attribute_not_exists(#id) OR (attribute_not_exists(#posted) AND (#owner = :owner OR #until < :now))"),
		ExpressionAttributeNames: map[string]string{
			"#id": KeyAttribute, "#posted": attrPosted, "#owner": attrOwner, "#until": attrUntil,
		},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":owner": s(owner), ":now": n(now.UnixMilli())},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		if _, posted := ccf.Item[attrPosted]; posted {
			return slacknotify.Claim{Posted: true}, nil
		}
		until, _ := ccf.Item[attrUntil].(*types.AttributeValueMemberN)
		var ms int64
		if until != nil {
			ms, _ = strconv.ParseInt(until.Value, 10, 64)
		}
		return slacknotify.Claim{HeldUntil: time.UnixMilli(ms)}, nil
	case err != nil:
		return slacknotify.Claim{}, fmt.Errorf("ledger: claim %s: %w", id, err)
	}
	return slacknotify.Claim{Claimed: true}, nil
}

// MarkPosted sets postedAt on owner's claim.
func (d *Dynamo) MarkPosted(ctx context.Context, id, owner string, now time.Time) error {
	_, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.table),
		Key:                       d.key(id),
		UpdateExpression:          aws.String("SET #posted = :now"),
		ConditionExpression:       aws.String("#owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#posted": attrPosted, "#owner": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": n(now.UnixMilli()), ":owner": s(owner)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("ledger: mark %s posted: %w", id, err)
	}
	return nil
}

// Release deletes owner's claim if it is still owner's and not posted.
func (d *Dynamo) Release(ctx context.Context, id, owner string) error {
	_, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(d.table),
		Key:                       d.key(id),
		ConditionExpression:       aws.String("#owner = :owner AND attribute_not_exists(#posted)"),
		ExpressionAttributeNames:  map[string]string{"#owner": attrOwner, "#posted": attrPosted},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": s(owner)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("ledger: release %s: %w", id, err)
	}
	return nil
}
