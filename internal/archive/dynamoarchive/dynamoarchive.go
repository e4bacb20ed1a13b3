// Package dynamoarchive is the DynamoDB adapter of the delivery archive: one
// item per delivery under its time-sorted ID, a TTL attribute, and four
// global secondary indexes, one per lookup, all sorted by ID so each answers
// newest first with a key condition (no scans):
//
//	by-item      itemKey            / id   sparse: deliveries that named a cashbill
//	by-mgtkey    corpMgtKey         / id   sparse: "corpNum#mgtKey", when both are known
//	by-day       day (KST date)     / id   every delivery: a time window
//	by-outcome   dayOutcome         / id   every delivery: "day#outcome" in a time window
//
// template.yaml declares the same names; internal/deploytest checks it.
package dynamoarchive

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
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
}

// Key, TTL and index names, as template.yaml declares them.
const (
	KeyAttribute = "id"
	TTLAttribute = "expiresAt"

	IndexByItem    = "by-item"
	IndexByMgtKey  = "by-mgtkey"
	IndexByDay     = "by-day"
	IndexByOutcome = "by-outcome"

	attrItemKey    = "itemKey"
	attrCorpMgtKey = "corpMgtKey"
	attrDay        = "day"
	attrDayOutcome = "dayOutcome"
)

// Indexes maps each index to its partition key; every index's sort key is
// KeyAttribute.
var Indexes = map[string]string{
	IndexByItem:    attrItemKey,
	IndexByMgtKey:  attrCorpMgtKey,
	IndexByDay:     attrDay,
	IndexByOutcome: attrDayOutcome,
}

// Recorder implements archive.Recorder on a table.
type Recorder struct {
	api   API
	table string
}

var _ archive.Recorder = (*Recorder)(nil)

// NewRecorder returns a recorder into table.
func NewRecorder(api API, table string) *Recorder { return &Recorder{api: api, table: table} }

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func b(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }

// Record writes d as one item. An ID written twice is kept as first written.
func (r *Recorder) Record(ctx context.Context, d archive.Delivery) error {
	if d.ID == "" {
		return errors.New("dynamoarchive: a delivery without an ID")
	}
	day := archive.Day(d.ReceivedAt)
	item := map[string]types.AttributeValue{
		KeyAttribute:    s(d.ID),
		"receivedAt":    s(d.ReceivedAt.UTC().Format(time.RFC3339Nano)),
		attrDay:         s(day),
		attrDayOutcome:  s(day + "#" + d.Outcome),
		"status":        n(int64(d.Status)),
		"outcome":       s(d.Outcome),
		"bodySize":      n(int64(d.BodySize)),
		"authenticated": b(d.Authenticated),
	}
	for name, v := range map[string]string{
		"reason": d.Reason, attrItemKey: d.ItemKey, "corpNum": d.CorpNum, "mgtKey": d.MgtKey,
		"eventType": d.EventType, "mid": d.MID, "sourceIp": d.SourceIP, "requestId": d.RequestID,
		"apiRequestId": d.APIRequestID, "method": d.Method, "credential": d.Credential, "replayOf": d.ReplayOf,
		"resentBy": d.ResentBy, "alertId": d.AlertID, "messageId": d.MessageID,
	} {
		if v != "" {
			item[name] = s(v)
		}
	}
	if d.CorpNum != "" && d.MgtKey != "" {
		item[attrCorpMgtKey] = s(d.CorpNum + "#" + d.MgtKey)
	}
	if d.StateCode != 0 {
		item["stateCode"] = n(int64(d.StateCode))
	}
	if len(d.Body) > 0 {
		item["body"] = &types.AttributeValueMemberB{Value: d.Body}
	}
	if d.Base64 {
		item["isBase64Encoded"] = b(true)
	}
	if d.Truncated {
		item["truncated"] = b(true)
	}
	if len(d.Headers) > 0 {
		m := make(map[string]types.AttributeValue, len(d.Headers))
		for k, v := range d.Headers {
			m[k] = s(v)
		}
		item["headers"] = &types.AttributeValueMemberM{Value: m}
	}
	if !d.ExpiresAt.IsZero() {
		item[TTLAttribute] = n(d.ExpiresAt.Unix())
	}
	_, err := r.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(r.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": KeyAttribute},
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

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		i, _ := strconv.ParseInt(v.Value, 10, 64)
		return i
	}
	return 0
}

func getB(item map[string]types.AttributeValue, name string) bool {
	v, ok := item[name].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

func decode(item map[string]types.AttributeValue) archive.Delivery {
	d := archive.Delivery{
		ID: getS(item, KeyAttribute), Status: int(getN(item, "status")), Outcome: getS(item, "outcome"),
		Reason: getS(item, "reason"), ItemKey: getS(item, attrItemKey), CorpNum: getS(item, "corpNum"),
		MgtKey: getS(item, "mgtKey"), StateCode: int(getN(item, "stateCode")), EventType: getS(item, "eventType"),
		MID: getS(item, "mid"), SourceIP: getS(item, "sourceIp"), RequestID: getS(item, "requestId"),
		APIRequestID: getS(item, "apiRequestId"), Method: getS(item, "method"),
		Base64: getB(item, "isBase64Encoded"), BodySize: int(getN(item, "bodySize")), Truncated: getB(item, "truncated"),
		Authenticated: getB(item, "authenticated"), Credential: getS(item, "credential"), ReplayOf: getS(item, "replayOf"),
		ResentBy: getS(item, "resentBy"), AlertID: getS(item, "alertId"), MessageID: getS(item, "messageId"),
	}
	d.ReceivedAt, _ = time.Parse(time.RFC3339Nano, getS(item, "receivedAt"))
	if v, ok := item["body"].(*types.AttributeValueMemberB); ok {
		d.Body = v.Value
	}
	if v, ok := item["headers"].(*types.AttributeValueMemberM); ok {
		d.Headers = map[string]string{}
		for k, hv := range v.Value {
			if sv, ok := hv.(*types.AttributeValueMemberS); ok {
				d.Headers[k] = sv.Value
			}
		}
	}
	if e := getN(item, TTLAttribute); e != 0 {
		d.ExpiresAt = time.Unix(e, 0).UTC()
	}
	return d
}

// expired: DynamoDB deletes an expired item within days, not at once, and
// until then reads still return it.
func (r *Reader) expired(d archive.Delivery) bool {
	return !d.ExpiresAt.IsZero() && d.ExpiresAt.Before(r.now())
}

// Get reads one delivery.
func (r *Reader) Get(ctx context.Context, id string) (archive.Delivery, bool, error) {
	out, err := r.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(r.table), Key: map[string]types.AttributeValue{KeyAttribute: s(id)},
	})
	if err != nil {
		return archive.Delivery{}, false, fmt.Errorf("dynamoarchive: get %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return archive.Delivery{}, false, nil
	}
	d := decode(out.Item)
	if r.expired(d) {
		return archive.Delivery{}, false, nil
	}
	return d, true, nil
}

// ByItem queries the by-item index.
func (r *Reader) ByItem(ctx context.Context, itemKey string, limit int) ([]archive.Delivery, error) {
	return r.query(ctx, IndexByItem, itemKey, nil, archive.Query{Limit: limit}, nil)
}

// ByMgtKey queries the by-mgtkey index.
func (r *Reader) ByMgtKey(ctx context.Context, corpNum, mgtKey string, limit int) ([]archive.Delivery, error) {
	return r.query(ctx, IndexByMgtKey, corpNum+"#"+mgtKey, nil, archive.Query{Limit: limit}, nil)
}

// Window queries by-day (or by-outcome when q names an outcome) once per KST
// day of the window, newest day first, with the window as an ID range.
func (r *Reader) Window(ctx context.Context, q archive.Query) ([]archive.Delivery, error) {
	limit := archive.Limit(q.Limit)
	ids := &[2]string{archive.IDBound(q.From), archive.IDBound(q.To)}
	var out []archive.Delivery
	for _, day := range archive.Days(q.From, q.To) {
		index, partition := IndexByDay, day
		if q.Outcome != "" {
			index, partition = IndexByOutcome, day+"#"+q.Outcome
		}
		sub := q
		sub.Limit = limit - len(out)
		got, err := r.query(ctx, index, partition, ids, sub, q.Matches)
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

// query reads index's partition newest first, within ids [from, to) when
// given, keeping what keep accepts, until q's limit or the partition's end.
func (r *Reader) query(ctx context.Context, index, partition string, ids *[2]string, q archive.Query, keep func(archive.Delivery) bool) ([]archive.Delivery, error) {
	limit := archive.Limit(q.Limit)
	in := &dynamodb.QueryInput{
		TableName:                aws.String(r.table),
		IndexName:                aws.String(index),
		KeyConditionExpression:   aws.String("#p = :p"),
		ExpressionAttributeNames: map[string]string{"#p": Indexes[index]},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": s(partition),
		},
		ScanIndexForward: aws.Bool(false),
	}
	if ids != nil {
		// BETWEEN includes its upper end: an ID equal to the bound (none is:
		// IDs carry a suffix) would be dropped below.
		*in.KeyConditionExpression += " AND #id BETWEEN :from AND :to"
		in.ExpressionAttributeNames["#id"] = KeyAttribute
		in.ExpressionAttributeValues[":from"] = s(ids[0])
		in.ExpressionAttributeValues[":to"] = s(ids[1])
	}
	if q.CorpNum != "" {
		in.FilterExpression = aws.String("#c = :c")
		in.ExpressionAttributeNames["#c"] = "corpNum"
		in.ExpressionAttributeValues[":c"] = s(q.CorpNum)
	}
	var out []archive.Delivery
	for {
		page, err := r.api.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamoarchive: query %s: %w", index, err)
		}
		for _, item := range page.Items {
			d := decode(item)
			if r.expired(d) || (ids != nil && d.ID >= ids[1]) || (keep != nil && !keep(d)) {
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
