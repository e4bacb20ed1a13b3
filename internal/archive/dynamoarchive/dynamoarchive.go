// Package dynamoarchive is the DynamoDB adapter of the delivery archive.
//
// One item per delivery, keyed by its KST day (partition) and its
// time-sorted ID (sort key), so that a time window is a key query on the
// table itself, and Get finds the day in the ID. Three global secondary
// indexes serve the other lookups, each projecting no more than that lookup
// needs; the rest of a delivery is read from the table with BatchGetItem:
//
//	by-item    itemKey / id   KEYS_ONLY             the deliveries that named a cashbill
//	by-mgtkey  mgtKey  / id   INCLUDE corpNum       a seller's document, filtered by business
//	refused    refused / id   KEYS_ONLY, sparse     refused deliveries (rejected, failed) only
//
// A refused delivery keeps its outcome in the refused attribute instead of
// outcome, so only refused deliveries are written to that index. No
// attribute is stored twice: the receive time is the ID's (receivedAt is
// kept only when it is not), and the day is the key.
//
// template.yaml declares the same table; internal/systemtest/deploytest checks it.
package dynamoarchive

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

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// API is every DynamoDB call the recorder makes: the webhook function is
// granted exactly this, on the archive table.
type API interface {
	PutItem(ctx context.Context, params *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// ReadAPI is the calls the reader makes, for operators (cmd/cashbill).
type ReadAPI interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, params *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, params *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// Key, TTL and index names, as template.yaml declares them.
const (
	PartitionAttribute = "day"
	KeyAttribute       = "id"
	TTLAttribute       = "expiresAt"

	IndexByItem   = "by-item"
	IndexByMgtKey = "by-mgtkey"
	IndexRefused  = "refused"

	attrItemKey = "itemKey"
	attrMgtKey  = "mgtKey"
	attrRefused = "refused"
	attrCorpNum = "corpNum"
	attrOutcome = "outcome"
)

// Index is one global secondary index: its partition key (every index's
// sort key is KeyAttribute) and the attributes it projects beyond the keys
// (none: KEYS_ONLY).
type Index struct {
	Partition string
	Include   []string
}

// Indexes are the table's global secondary indexes.
var Indexes = map[string]Index{
	IndexByItem:   {Partition: attrItemKey},
	IndexByMgtKey: {Partition: attrMgtKey, Include: []string{attrCorpNum}},
	IndexRefused:  {Partition: attrRefused},
}

// item is a delivery as the table holds it.
type item struct {
	Day string `dynamodbav:"day"`
	ID  string `dynamodbav:"id"`
	// ReceivedAt is set only when the ID does not carry the receive time
	// exactly (a clock finer than the ID's microseconds).
	ReceivedAt string `dynamodbav:"receivedAt,omitempty"`
	Status     int    `dynamodbav:"status,omitempty"`
	// Outcome of an accepted delivery; Refused of a refused one.
	Outcome   state.Outcome `dynamodbav:"outcome,omitempty"`
	Refused   state.Outcome `dynamodbav:"refused,omitempty"`
	Reason    string        `dynamodbav:"reason,omitempty"`
	ItemKey   string        `dynamodbav:"itemKey,omitempty"`
	CorpNum   string        `dynamodbav:"corpNum,omitempty"`
	MgtKey    string        `dynamodbav:"mgtKey,omitempty"`
	StateCode int           `dynamodbav:"stateCode,omitempty"`
	EventType string        `dynamodbav:"eventType,omitempty"`
	MID       string        `dynamodbav:"mid,omitempty"`

	SourceIP      string            `dynamodbav:"sourceIp,omitempty"`
	RequestID     string            `dynamodbav:"requestId,omitempty"`
	APIRequestID  string            `dynamodbav:"apiRequestId,omitempty"`
	Method        string            `dynamodbav:"method,omitempty"`
	Headers       map[string]string `dynamodbav:"headers,omitempty"`
	Body          []byte            `dynamodbav:"body,omitempty"`
	Base64        bool              `dynamodbav:"isBase64Encoded,omitempty"`
	BodySize      int               `dynamodbav:"bodySize,omitempty"`
	Truncated     bool              `dynamodbav:"truncated,omitempty"`
	Authenticated bool              `dynamodbav:"authenticated,omitempty"`
	Credential    string            `dynamodbav:"credential,omitempty"`
	ReplayOf      string            `dynamodbav:"replayOf,omitempty"`
	ResentBy      string            `dynamodbav:"resentBy,omitempty"`
	AlertID       string            `dynamodbav:"alertId,omitempty"`
	MessageID     string            `dynamodbav:"messageId,omitempty"`
	// ExpiresAt is Unix seconds, as DynamoDB's TTL reads it.
	ExpiresAt int64 `dynamodbav:"expiresAt,omitempty"`
}

// key is the table's primary key.
type key struct {
	Day string `dynamodbav:"day"`
	ID  string `dynamodbav:"id"`
}

// keyOf is the primary key of the delivery id, false when id is no
// archive ID (so no delivery has it).
func keyOf(id string) (key, bool) {
	t, ok := archive.IDTime(id)
	if !ok {
		return key{}, false
	}
	return key{Day: archive.Day(t), ID: id}, true
}

func itemOf(d archive.Delivery) (item, error) {
	k, ok := keyOf(d.ID)
	if !ok {
		return item{}, fmt.Errorf("dynamoarchive: %q is not an archive ID", d.ID)
	}
	it := item{
		Day: k.Day, ID: d.ID, Status: d.Status, Reason: d.Reason,
		ItemKey: d.ItemKey, CorpNum: d.CorpNum, MgtKey: d.MgtKey, StateCode: d.StateCode, EventType: d.EventType, MID: d.MID,
		SourceIP: d.SourceIP, RequestID: d.RequestID, APIRequestID: d.APIRequestID, Method: d.Method,
		Headers: d.Headers, Body: d.Body, Base64: d.Base64, BodySize: d.BodySize, Truncated: d.Truncated,
		Authenticated: d.Authenticated, Credential: d.Credential, ReplayOf: d.ReplayOf,
		ResentBy: d.ResentBy, AlertID: d.AlertID, MessageID: d.MessageID,
	}
	if archive.Refused(d.Outcome) {
		it.Refused = d.Outcome
	} else {
		it.Outcome = d.Outcome
	}
	if t, _ := archive.IDTime(d.ID); !t.Equal(d.ReceivedAt) {
		it.ReceivedAt = d.ReceivedAt.UTC().Format(time.RFC3339Nano)
	}
	if !d.ExpiresAt.IsZero() {
		it.ExpiresAt = d.ExpiresAt.Unix()
	}
	return it, nil
}

func (it item) delivery() archive.Delivery {
	d := archive.Delivery{
		ID: it.ID, Status: it.Status, Outcome: it.Outcome, Reason: it.Reason,
		ItemKey: it.ItemKey, CorpNum: it.CorpNum, MgtKey: it.MgtKey, StateCode: it.StateCode, EventType: it.EventType, MID: it.MID,
		SourceIP: it.SourceIP, RequestID: it.RequestID, APIRequestID: it.APIRequestID, Method: it.Method,
		Headers: it.Headers, Body: it.Body, Base64: it.Base64, BodySize: it.BodySize, Truncated: it.Truncated,
		Authenticated: it.Authenticated, Credential: it.Credential, ReplayOf: it.ReplayOf,
		ResentBy: it.ResentBy, AlertID: it.AlertID, MessageID: it.MessageID,
	}
	if it.Refused != "" {
		d.Outcome = it.Refused
	}
	d.ReceivedAt, _ = archive.IDTime(it.ID)
	if it.ReceivedAt != "" {
		d.ReceivedAt, _ = time.Parse(time.RFC3339Nano, it.ReceivedAt)
	}
	if it.ExpiresAt != 0 {
		d.ExpiresAt = time.Unix(it.ExpiresAt, 0).UTC()
	}
	return d
}

// Recorder implements archive.Recorder on a table.
type Recorder struct {
	api   API
	table string
	// once is the condition that keeps an ID as first written, built once.
	once expression.Expression
}

var _ archive.Recorder = (*Recorder)(nil)

// NewRecorder returns a recorder into table.
func NewRecorder(api API, table string) *Recorder {
	once, err := expression.NewBuilder().
		WithCondition(expression.AttributeNotExists(expression.Name(KeyAttribute))).Build()
	if err != nil {
		panic("dynamoarchive: the put condition does not build: " + err.Error())
	}
	return &Recorder{api: api, table: table, once: once}
}

// Record writes d as one item. An ID written twice is kept as first written.
func (r *Recorder) Record(ctx context.Context, d archive.Delivery) error {
	it, err := itemOf(d)
	if err != nil {
		return err
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("dynamoarchive: encode %s: %w", d.ID, err)
	}
	_, err = r.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(r.table),
		Item:                     av,
		ConditionExpression:      r.once.Condition(),
		ExpressionAttributeNames: r.once.Names(),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamoarchive: put %s: %w", d.ID, err)
	}
	return nil
}

// Reader implements archive.Reader on a table.
type Reader struct {
	api   ReadAPI
	table string
	now   func() time.Time
}

var _ archive.Reader = (*Reader)(nil)

// NewReader returns a reader of table.
func NewReader(api ReadAPI, table string) *Reader {
	return &Reader{api: api, table: table, now: time.Now}
}

// expired: DynamoDB deletes an expired item within days, not at once, and
// until then reads still return it.
func (r *Reader) expired(d archive.Delivery) bool {
	return !d.ExpiresAt.IsZero() && d.ExpiresAt.Before(r.now())
}

func decode(av map[string]types.AttributeValue) (archive.Delivery, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return archive.Delivery{}, fmt.Errorf("dynamoarchive: decode: %w", err)
	}
	return it.delivery(), nil
}

// Get reads one delivery.
func (r *Reader) Get(ctx context.Context, id string) (archive.Delivery, bool, error) {
	k, ok := keyOf(id)
	if !ok {
		return archive.Delivery{}, false, nil
	}
	av, err := attributevalue.MarshalMap(k)
	if err != nil {
		return archive.Delivery{}, false, fmt.Errorf("dynamoarchive: get %s: %w", id, err)
	}
	out, err := r.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.table), Key: av})
	if err != nil {
		return archive.Delivery{}, false, fmt.Errorf("dynamoarchive: get %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return archive.Delivery{}, false, nil
	}
	d, err := decode(out.Item)
	if err != nil || r.expired(d) {
		return archive.Delivery{}, false, err
	}
	return d, true, nil
}

// ByItem queries the by-item index, then reads the deliveries.
func (r *Reader) ByItem(ctx context.Context, itemKey string, limit int) ([]archive.Delivery, error) {
	return r.query(ctx, lookup{index: IndexByItem, partition: expression.Key(attrItemKey).Equal(expression.Value(itemKey))}, archive.Limit(limit), nil)
}

// ByMgtKey queries the by-mgtkey index for corpNum's document, then reads
// the deliveries.
func (r *Reader) ByMgtKey(ctx context.Context, corpNum, mgtKey string, limit int) ([]archive.Delivery, error) {
	corp := expression.Name(attrCorpNum).Equal(expression.Value(corpNum))
	return r.query(ctx, lookup{index: IndexByMgtKey, partition: expression.Key(attrMgtKey).Equal(expression.Value(mgtKey)), filter: &corp},
		archive.Limit(limit), nil)
}

// Window reads refused deliveries from the sparse refused index, and every
// other selection from the table itself, one key query per KST day of the
// window, newest day first, with the window as an ID range.
func (r *Reader) Window(ctx context.Context, q archive.Query) ([]archive.Delivery, error) {
	limit := archive.Limit(q.Limit)
	between := expression.Key(KeyAttribute).Between(expression.Value(archive.IDBound(q.From)), expression.Value(archive.IDBound(q.To)))
	// BETWEEN includes its upper end: an ID equal to the bound (none is:
	// IDs carry a suffix) is dropped here.
	keep := func(d archive.Delivery) bool { return d.ID < archive.IDBound(q.To) && q.Matches(d) }
	if archive.Refused(q.Outcome) {
		l := lookup{index: IndexRefused, partition: expression.Key(attrRefused).Equal(expression.Value(q.Outcome)), sort: &between}
		return r.query(ctx, l, limit, keep)
	}
	var filter *expression.ConditionBuilder
	and := func(c expression.ConditionBuilder) {
		if filter != nil {
			c = filter.And(c)
		}
		filter = &c
	}
	if q.Outcome != "" {
		and(expression.Name(attrOutcome).Equal(expression.Value(q.Outcome)))
	}
	if q.CorpNum != "" {
		and(expression.Name(attrCorpNum).Equal(expression.Value(q.CorpNum)))
	}
	var out []archive.Delivery
	for _, day := range archive.Days(q.From, q.To) {
		l := lookup{partition: expression.Key(PartitionAttribute).Equal(expression.Value(day)), sort: &between, filter: filter}
		got, err := r.query(ctx, l, limit-len(out), keep)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		if len(out) >= limit {
			break
		}
	}
	return out, nil
}

// lookup is one key query: on the table when index is empty, else on that
// index, whose items hold only keys (and filter's attributes).
type lookup struct {
	index     string
	partition expression.KeyConditionBuilder
	sort      *expression.KeyConditionBuilder
	filter    *expression.ConditionBuilder
}

// query reads l newest first, keeping what keep accepts (and is not
// expired), until limit or the partition's end.
func (r *Reader) query(ctx context.Context, l lookup, limit int, keep func(archive.Delivery) bool) ([]archive.Delivery, error) {
	cond := l.partition
	if l.sort != nil {
		cond = cond.And(*l.sort)
	}
	b := expression.NewBuilder().WithKeyCondition(cond)
	if l.filter != nil {
		b = b.WithFilter(*l.filter)
	}
	expr, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("dynamoarchive: query %s: %w", l.index, err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(r.table),
		KeyConditionExpression:    expr.KeyCondition(),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(min(limit, 1000))),
	}
	if l.index != "" {
		in.IndexName = aws.String(l.index)
	}
	var out []archive.Delivery
	for {
		page, err := r.api.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamoarchive: query %s: %w", or(l.index, "table"), err)
		}
		items := page.Items
		if l.index != "" {
			if items, err = r.fetch(ctx, items); err != nil {
				return nil, err
			}
		}
		for _, av := range items {
			d, err := decode(av)
			if err != nil {
				return nil, err
			}
			if r.expired(d) || (keep != nil && !keep(d)) {
				continue
			}
			out = append(out, d)
			if len(out) == limit {
				return out, nil
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// batchMax is the most keys one BatchGetItem takes.
const batchMax = 100

// fetch reads the whole items of index entries, in the entries' order
// (BatchGetItem answers in any order, and may leave keys unprocessed).
func (r *Reader) fetch(ctx context.Context, entries []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	keys := make([]key, len(entries))
	if err := attributevalue.UnmarshalListOfMaps(entries, &keys); err != nil {
		return nil, fmt.Errorf("dynamoarchive: decode: %w", err)
	}
	got := make(map[string]map[string]types.AttributeValue, len(entries))
	for start := 0; start < len(keys); start += batchMax {
		batch, err := attributevalue.MarshalList(keys[start:min(start+batchMax, len(keys))])
		if err != nil {
			return nil, fmt.Errorf("dynamoarchive: batch get: %w", err)
		}
		ka := types.KeysAndAttributes{}
		for _, k := range batch {
			ka.Keys = append(ka.Keys, k.(*types.AttributeValueMemberM).Value)
		}
		req := map[string]types.KeysAndAttributes{r.table: ka}
		for wait := 10 * time.Millisecond; len(req) > 0; wait *= 2 {
			out, err := r.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("dynamoarchive: batch get: %w", err)
			}
			for _, av := range out.Responses[r.table] {
				var k key
				if err := attributevalue.UnmarshalMap(av, &k); err != nil {
					return nil, fmt.Errorf("dynamoarchive: decode: %w", err)
				}
				got[k.ID] = av
			}
			req = out.UnprocessedKeys
			if len(req) > 0 {
				select {
				case <-ctx.Done():
					return nil, fmt.Errorf("dynamoarchive: batch get: %w", ctx.Err())
				case <-time.After(wait):
				}
			}
		}
	}
	out := make([]map[string]types.AttributeValue, 0, len(entries))
	for _, k := range keys {
		if av, ok := got[k.ID]; ok { // gone since the index was read (TTL)
			out = append(out, av)
		}
	}
	return out, nil
}

func or(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}
