// Package dynamobusiness is the production adapter of the business token
// store: one DynamoDB item per token, keyed by the token's hash (tokenHash),
// with the business number, the creation time and, once set, the time it was
// revoked or its rotation overlap ends (unix seconds).
//
// The webhook only reads (LookupAPI: GetItem); the operators' tool also
// creates, revokes and lists (API). Listing scans the table: it holds one
// small item per issued token, and only the tool lists.
package dynamobusiness

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/business"
)

// KeyAttribute is the table's partition key.
const KeyAttribute = "tokenHash"

// LookupAPI is the one call the webhook makes.
type LookupAPI interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// API is every call the operators' tool makes.
type API interface {
	LookupAPI
	PutItem(ctx context.Context, params *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Scan(ctx context.Context, params *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// item is the stored form of a business.Token.
type item struct {
	Hash       string    `dynamodbav:"tokenHash"`
	CorpNum    string    `dynamodbav:"corpNum"`
	Created    time.Time `dynamodbav:"createdAt,unixtime"`
	RevokedAt  time.Time `dynamodbav:"revokedAt,unixtime,omitempty"`
	ValidUntil time.Time `dynamodbav:"validUntil,unixtime,omitempty"`
}

func (i item) token() business.Token {
	t := business.Token{Hash: i.Hash, CorpNum: i.CorpNum, Created: i.Created.UTC()}
	if !i.RevokedAt.IsZero() {
		t.RevokedAt = i.RevokedAt.UTC()
	}
	if !i.ValidUntil.IsZero() {
		t.ValidUntil = i.ValidUntil.UTC()
	}
	return t
}

func marshal(v any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) { o.OmitEmptyTime = true })
}

// Lookup reads tokens for the webhook.
type Lookup struct {
	api   LookupAPI
	table string
}

var _ business.Lookup = (*Lookup)(nil)

// NewLookup returns the webhook's reader of table.
func NewLookup(api LookupAPI, table string) *Lookup { return &Lookup{api: api, table: table} }

// Get reads the token with hash, strongly consistent so that a revocation
// takes effect at once.
func (l *Lookup) Get(ctx context.Context, hash string) (business.Token, bool, error) {
	key, err := marshal(map[string]string{KeyAttribute: hash})
	if err != nil {
		return business.Token{}, false, err
	}
	out, err := l.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return business.Token{}, false, err
	}
	if out.Item == nil {
		return business.Token{}, false, nil
	}
	var i item
	if err := attributevalue.UnmarshalMap(out.Item, &i); err != nil {
		return business.Token{}, false, fmt.Errorf("dynamobusiness: decode token: %w", err)
	}
	return i.token(), true, nil
}

// Store is the tool's adapter: every call of business.Store.
type Store struct {
	*Lookup
	api API
}

var _ business.Store = (*Store)(nil)

// New returns the token store in table.
func New(api API, table string) *Store { return &Store{Lookup: NewLookup(api, table), api: api} }

// Create puts t unless an item with its hash exists.
func (s *Store) Create(ctx context.Context, t business.Token) error {
	av, err := marshal(item(t))
	if err != nil {
		return err
	}
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(KeyAttribute))).Build()
	if err != nil {
		return err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: av,
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values(),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("dynamobusiness: token %s exists", t.ID())
	}
	return err
}

// Revoke sets revokedAt unless it is set.
func (s *Store) Revoke(ctx context.Context, hash string, at time.Time) error {
	revoked := expression.Name("revokedAt")
	return s.set(ctx, hash, revoked, at, expression.AttributeNotExists(revoked))
}

// Expire sets validUntil unless it is set to an earlier time.
func (s *Store) Expire(ctx context.Context, hash string, until time.Time) error {
	valid := expression.Name("validUntil")
	v, err := attributevalue.Marshal(attributevalue.UnixTime(until))
	if err != nil {
		return err
	}
	return s.set(ctx, hash, valid, until, expression.Or(expression.AttributeNotExists(valid), valid.GreaterThan(expression.Value(v))))
}

// set sets one time attribute of the item with hash when unless holds; an
// item that exists but fails unless is left as it is.
func (s *Store) set(ctx context.Context, hash string, name expression.NameBuilder, at time.Time, unless expression.ConditionBuilder) error {
	v, err := attributevalue.Marshal(attributevalue.UnixTime(at))
	if err != nil {
		return err
	}
	exists := expression.AttributeExists(expression.Name(KeyAttribute))
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Set(name, expression.Value(v))).
		WithCondition(exists.And(unless)).Build()
	if err != nil {
		return err
	}
	key, err := marshal(map[string]string{KeyAttribute: hash})
	if err != nil {
		return err
	}
	_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key,
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return err
	}
	// Either there is no such token, or it is already revoked or ending sooner.
	if _, found, err := s.Get(ctx, hash); err != nil || !found {
		return cmp.Or(err, business.ErrNotFound)
	}
	return nil
}

// List scans the table.
func (s *Store) List(ctx context.Context) ([]business.Token, error) {
	var out []business.Token
	p := dynamodb.NewScanPaginator(s.api, &dynamodb.ScanInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		var items []item
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("dynamobusiness: decode tokens: %w", err)
		}
		for _, i := range items {
			out = append(out, i.token())
		}
	}
	return out, nil
}
