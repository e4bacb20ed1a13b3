// Package dynamostore is the DynamoDB adapter of the state store: one item per
// cashbill, partition key itemKey (String) and nothing else, the event's fields
// under POPBiLL's names. Condition expressions, not read-then-write, enforce
// the store's rules, so concurrent Lambda invocations cannot race.
package dynamostore

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

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/lease"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// API is every DynamoDB call the store makes; template.yaml grants the
// webhook function exactly these.
type API interface {
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// QueryAPI is the call the sweeper makes, on the due index only.
type QueryAPI interface {
	Query(ctx context.Context, params *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// ReadAPI is the call the reader makes, for the local server and operators'
// lookups; the webhook function is not granted it.
type ReadAPI interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// The sparse index of items due in a queue (state.QueueAlert, state.QueueResult,
// state.QueueDigest): partition DueQueueAttribute (S), sort DueAtAttribute (N,
// unix milliseconds), only the keys projected (due.go reads the items).
// template.yaml declares it.
const (
	DueIndex          = "due"
	DueQueueAttribute = "dueQueue"
	DueAtAttribute    = "dueAt"
)

// Attribute names. The event's own fields keep POPBiLL's names.
const (
	KeyAttribute = "itemKey"
	attrState    = "stateCode"
	attrMID      = "mid"
	attrReceived = "receivedAt"
	attrExtra    = "extra"
	attrKind     = "alertKind"
	attrAlert    = "alertStatus"
	attrPayload  = "alertPayload"
	attrOwner    = "alertLeaseOwner"
	attrUntil    = "alertLeaseUntil"
	attrMsgID    = "alertMessageId"
	attrSentAt   = "alertSentAt"
	// attrBody is the raw body, which items once kept; the state write
	// removes it (extra keeps what the event fields do not).
	attrBody = "body"
)

// Store implements state.Store on one DynamoDB table.
type Store struct {
	api   API
	table string
	full  *fullWindows
}

var _ state.Store = (*Store)(nil)

// New returns a store on table.
func New(api API, table string) *Store { return &Store{api: api, table: table, full: &fullWindows{}} }

// event is cashbill.Event as the item stores it, under POPBiLL's names.
// Converting one to the other (event(ev)) stops compiling if the two part,
// so a new field is stored without a second list to keep in step.
type event struct {
	CorpNum          string `dynamodbav:"corpNum"`
	FranchiseCorpNum string `dynamodbav:"franchiseCorpNum"`
	ItemKey          string `dynamodbav:"itemKey"`
	TradeDate        string `dynamodbav:"tradeDate"`
	ConfirmNum       string `dynamodbav:"confirmNum"`
	NTSSendDT        string `dynamodbav:"ntssendDT"`
	NTSResultDT      string `dynamodbav:"ntsresultDT"`
	NTSResultCode    string `dynamodbav:"ntsresultCode"`
	StateCode        int    `dynamodbav:"stateCode"`
	StateDT          string `dynamodbav:"stateDT"`
	IssueDT          string `dynamodbav:"issueDT"`
	MgtKey           string `dynamodbav:"mgtKey"`
	EventDT          string `dynamodbav:"eventDT"`
	EventType        string `dynamodbav:"eventType"`
	InterOPYN        *bool  `dynamodbav:"interOPYN"`
}

// record is a cashbill's item as stored: the event, the delivery that set
// it, the alert slot and the due queue. Times the item is queried or
// compared on are unix milliseconds; the others RFC 3339 text.
type record struct {
	event
	// Stored is the stateCode as stored; nil: the item has none (not a cashbill).
	Stored          *int              `dynamodbav:"stateCode"`
	MID             string            `dynamodbav:"mid"`
	ReceivedAt      string            `dynamodbav:"receivedAt"`
	Extra           string            `dynamodbav:"extra"`
	Body            string            `dynamodbav:"body"`
	AlertKind       alert.Kind        `dynamodbav:"alertKind"`
	AlertStatus     state.AlertStatus `dynamodbav:"alertStatus"`
	AlertPayload    string            `dynamodbav:"alertPayload"`
	AlertLeaseOwner string            `dynamodbav:"alertLeaseOwner"`
	AlertLeaseUntil *int64            `dynamodbav:"alertLeaseUntil"`
	AlertMessageID  string            `dynamodbav:"alertMessageId"`
	AlertSentAt     string            `dynamodbav:"alertSentAt"`
	DueQueue        string            `dynamodbav:"dueQueue"`
	DueAt           *int64            `dynamodbav:"dueAt"`
	AlertWindow     string            `dynamodbav:"alertWindow"`
}

// readRecord decodes a cashbill's item; an item without a stateCode is not one.
func readRecord(item map[string]types.AttributeValue) (record, error) {
	var r record
	if err := attributevalue.UnmarshalMap(item, &r); err != nil {
		return record{}, fmt.Errorf("dynamostore: decode item: %w", err)
	}
	if r.Stored == nil {
		return record{}, fmt.Errorf("dynamostore: stored item has no numeric %s", attrState)
	}
	r.StateCode = *r.Stored
	return r, nil
}

// setEvent sets the event's fields on the item, the key and stateCode
// apart, and removes an empty text field or an absent interOPYN, so the item
// holds what the event said.
func setEvent(u expression.UpdateBuilder, ev cashbill.Event) (expression.UpdateBuilder, error) {
	fields, err := attributevalue.MarshalMap(event(ev))
	if err != nil {
		return u, fmt.Errorf("dynamostore: encode event %s: %w", ev.ItemKey, err)
	}
	for name, v := range fields {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			if name == KeyAttribute {
				continue
			}
			if v.Value == "" {
				u = u.Remove(expression.Name(name))
				continue
			}
		case *types.AttributeValueMemberNULL:
			u = u.Remove(expression.Name(name))
			continue
		case *types.AttributeValueMemberN:
			continue // stateCode: written with its condition
		}
		u = u.Set(expression.Name(name), expression.Value(v))
	}
	return u, nil
}

// millis is t as the item keeps the times it compares and queries on.
func millis(t time.Time) int64 { return t.UnixMilli() }

// conditional runs one UpdateItem of update under cond and returns what rv
// asks for of the item after it, or, when the condition failed (an expected
// answer, not an error), the item as it was, with failed true.
func (s *Store) conditional(ctx context.Context, itemKey string, update expression.UpdateBuilder, cond expression.ConditionBuilder, rv types.ReturnValue) (item map[string]types.AttributeValue, failed bool, err error) {
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return nil, false, err
	}
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 key(itemKey),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        rv,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return ccf.Item, true, nil
	case err != nil:
		return nil, false, err
	}
	return out.Attributes, false, nil
}

// replacedState is the stateCode an UPDATED_OLD answer carries: the one the
// write replaced, 0 on a new item.
func replacedState(old map[string]types.AttributeValue) int {
	var r struct {
		StateCode int `dynamodbav:"stateCode"`
	}
	_ = attributevalue.UnmarshalMap(old, &r) // absent or unreadable: a new cashbill, 0
	return r.StateCode
}

// itemKey is the table's key.
type itemKey struct {
	ItemKey string `dynamodbav:"itemKey"`
}

func key(k string) map[string]types.AttributeValue {
	m, _ := attributevalue.MarshalMap(itemKey{k}) // a string always marshals
	return m
}

// held is where an item keeps the lease on its alert, or a window on its digest.
var held = lease.Attributes{Owner: attrOwner, Until: attrUntil}

// name is an attribute's name in an expression.
func name(n string) expression.NameBuilder { return expression.Name(n) }

// is is the condition that attribute n equals v.
func is(n string, v any) expression.ConditionBuilder { return name(n).Equal(expression.Value(v)) }

// Apply writes r when the item is new or its stored stateCode is smaller. The
// alert attributes are only ever added here, never removed, so an alert still
// owed survives a later, greater state. A 305 that does not raise the state
// still records its alert when the item holds no failure alert yet.
//
// A write that succeeds returns only the attributes it replaced (ReturnValues
// UPDATED_OLD), for the stateCode it raised: what else the caller needs to
// know follows from the write itself. A delivery without an alert
// writes only onto an item that owes none, so its success means nothing is
// pending; when its condition fails on a pending alert, the old item says so
// and a second write, without that guard, stores it (rare: an alert whose
// publish failed, then a greater state). A failed condition returns the old
// item, which tells a duplicate from a stale event.
func (s *Store) Apply(ctx context.Context, r state.Delivery) (state.Result, error) {
	ev := r.Event
	guardPending := r.Alert == nil
	for {
		item, failed, err := s.applyWrite(ctx, r, guardPending)
		if err != nil {
			return state.Result{}, fmt.Errorf("dynamostore: update %s: %w", ev.ItemKey, err)
		}
		if !failed {
			res := state.Result{Outcome: state.Stored, StateCode: ev.StateCode, AlertPending: r.Alert != nil || !guardPending}
			// UPDATED_OLD: the stateCode replaced, absent on a new item.
			res.PreviousStateCode = replacedState(item)
			res.AlertClaimed = r.Alert != nil && r.AlertOwner != ""
			return res, nil
		}
		old, err := readRecord(item)
		if err != nil {
			return state.Result{}, err
		}
		pending := old.AlertStatus == state.AlertPending
		if old.StateCode < ev.StateCode && guardPending && pending {
			// Refused by the guard only: store it, and report the alert owed.
			guardPending = false
			continue
		}
		// The normal answer to a duplicate or a stale event: the old item comes
		// back with the failure, so no second read is needed.
		outcome := state.Stale
		if old.StateCode == ev.StateCode {
			outcome = state.Duplicate
		}
		res := state.Result{Outcome: outcome, StateCode: old.StateCode, AlertPending: pending}
		if r.Alert != nil && !state.FailureRecorded(old.AlertKind, old.AlertStatus) {
			if res.AlertPending, res.AlertClaimed, err = s.recordFailure(ctx, r); err != nil {
				return state.Result{}, err
			}
		}
		return res, nil
	}
}

// applyWrite is Apply's conditional write; guardPending adds to its condition
// that the item owes no alert.
func (s *Store) applyWrite(ctx context.Context, r state.Delivery, guardPending bool) (old map[string]types.AttributeValue, failed bool, err error) {
	ev := r.Event
	u, err := setEvent(expression.Set(name(attrState), expression.Value(ev.StateCode)), ev)
	if err != nil {
		return nil, false, err
	}
	u = u.Set(name(attrMID), expression.Value(r.MID)).
		Set(name(attrReceived), expression.Value(r.ReceivedAt.UTC().Format(time.RFC3339Nano))).
		Remove(name(attrBody))
	if extra := r.Extra(); extra != nil {
		u = u.Set(name(attrExtra), expression.Value(string(extra)))
	} else {
		u = u.Remove(name(attrExtra))
	}
	switch {
	case r.Alert != nil:
		// The state was below 305, so the slot holds no failure alert.
		u = setFailureAlert(u, r)
	case ev.StateCode == cashbill.StateIssued:
		// Awaiting the NTS result, unless already in a queue (an alert's).
		u = u.Set(name(DueQueueAttribute), expression.IfNotExists(name(DueQueueAttribute), expression.Value(state.QueueResult))).
			Set(name(DueAtAttribute), expression.IfNotExists(name(DueAtAttribute), expression.Value(millis(state.ResultDueAt(ev, r.ReceivedAt)))))
	}
	cond := expression.Or(expression.AttributeNotExists(name(KeyAttribute)), name(attrState).LessThan(expression.Value(ev.StateCode)))
	if guardPending {
		cond = cond.And(expression.Or(expression.AttributeNotExists(name(attrAlert)), name(attrAlert).NotEqual(expression.Value(state.AlertPending))))
	}
	return s.conditional(ctx, ev.ItemKey, u, cond, types.ReturnValueUpdatedOld)
}

// setFailureAlert fills the alert slot with r's failure alert, pending,
// replacing an overdue alert and its lease and record; the lease is r's
// AlertOwner's when it has one.
func setFailureAlert(u expression.UpdateBuilder, r state.Delivery) expression.UpdateBuilder {
	u = setPendingAlert(u, alert.KindFailure, r.Alert, r.ReceivedAt).Remove(name(attrMsgID)).Remove(name(attrSentAt))
	if r.AlertOwner != "" {
		return held.Set(u, lease.Lease{Owner: r.AlertOwner, Until: r.AlertLeaseUntil})
	}
	return held.Remove(u)
}

// setPendingAlert fills the alert slot and puts the item in the alert queue.
func setPendingAlert(u expression.UpdateBuilder, kind alert.Kind, payload []byte, owedAt time.Time) expression.UpdateBuilder {
	return u.Set(name(attrKind), expression.Value(kind)).
		Set(name(attrAlert), expression.Value(state.AlertPending)).
		Set(name(attrPayload), expression.Value(string(payload))).
		Set(name(DueQueueAttribute), expression.Value(state.QueueAlert)).
		Set(name(DueAtAttribute), expression.Value(millis(owedAt)))
}

// recordFailure stores r's failure alert on an item whose state r did not
// raise, if its slot is empty or holds an overdue alert. It reports whether
// the item then owes an alert, and whether r's owner holds its lease.
func (s *Store) recordFailure(ctx context.Context, r state.Delivery) (pending, claimed bool, err error) {
	cond := expression.AttributeExists(name(KeyAttribute)).
		And(expression.Or(expression.AttributeNotExists(name(attrAlert)), is(attrKind, alert.KindOverdue)))
	// On a failed condition a concurrent 305 recorded it first.
	item, failed, err := s.conditional(ctx, r.Event.ItemKey, setFailureAlert(expression.UpdateBuilder{}, r), cond, types.ReturnValueNone)
	if err != nil {
		return false, false, fmt.Errorf("dynamostore: record failure alert %s: %w", r.Event.ItemKey, err)
	}
	if !failed {
		return true, r.AlertOwner != "", nil
	}
	old, err := readRecord(item)
	return old.AlertStatus == state.AlertPending, false, err
}

// ClaimAlert sets a lease on a pending alert whose lease is free, expired, or
// already owner's. A failed condition returns the old item, from which the
// answer is read.
func (s *Store) ClaimAlert(ctx context.Context, itemKey, owner string, now time.Time, d time.Duration) (state.Claim, error) {
	u := held.Set(expression.UpdateBuilder{}, lease.Take(owner, now, d))
	cond := is(attrAlert, state.AlertPending).And(held.Free(owner, now))
	// ALL_NEW: the payload to publish is on the item, not in the update.
	item, failed, err := s.conditional(ctx, itemKey, u, cond, types.ReturnValueAllNew)
	if err != nil {
		return state.Claim{}, fmt.Errorf("dynamostore: claim alert %s: %w", itemKey, err)
	}
	var r record
	if err := attributevalue.UnmarshalMap(item, &r); err != nil {
		return state.Claim{}, fmt.Errorf("dynamostore: claim alert %s: %w", itemKey, err)
	}
	if failed {
		return refusedClaim(itemKey, r, now)
	}
	return state.Claim{Status: state.Claimed, Payload: []byte(r.AlertPayload)}, nil
}

// refusedClaim reads why a claim's condition failed from the old item.
func refusedClaim(itemKey string, old record, now time.Time) (state.Claim, error) {
	switch old.AlertStatus {
	case state.AlertSent:
		return state.Claim{Status: state.AlreadySent, MessageID: old.AlertMessageID}, nil
	case state.AlertDigested:
		return state.Claim{Status: state.InDigest}, nil
	case state.AlertPending:
		if old.AlertLeaseUntil == nil || *old.AlertLeaseUntil < millis(now) {
			// The condition failed on an alert this reading says was free:
			// an answer not to guess at.
			return state.Claim{}, fmt.Errorf("dynamostore: claim alert %s: refused, but the item shows no other lease", itemKey)
		}
		return state.Claim{Status: state.HeldByAnother, HeldBy: old.AlertLeaseOwner, HeldUntil: time.UnixMilli(*old.AlertLeaseUntil)}, nil
	}
	return state.Claim{Status: state.NothingOwed}, nil
}

// ReleaseAlert removes owner's lease, if it still holds it.
func (s *Store) ReleaseAlert(ctx context.Context, itemKey, owner string) error {
	if _, _, err := s.conditional(ctx, itemKey, held.Remove(expression.UpdateBuilder{}), held.HeldBy(owner), types.ReturnValueNone); err != nil {
		return fmt.Errorf("dynamostore: release alert %s: %w", itemKey, err)
	}
	return nil
}

// MarkAlertSent records owner's publish and drops the lease.
func (s *Store) MarkAlertSent(ctx context.Context, itemKey, owner, messageID string, at time.Time) error {
	u := expression.Set(name(attrMsgID), expression.Value(messageID)).
		Set(name(attrSentAt), expression.Value(at.UTC().Format(time.RFC3339Nano))).
		Set(name(attrAlert), expression.Value(state.AlertSent)).
		Remove(name(DueQueueAttribute)).Remove(name(DueAtAttribute))
	cond := is(attrAlert, state.AlertPending).And(held.HeldBy(owner))
	u = held.Remove(u)
	if _, _, err := s.conditional(ctx, itemKey, u, cond, types.ReturnValueNone); err != nil {
		return fmt.Errorf("dynamostore: mark alert sent %s: %w", itemKey, err)
	}
	return nil
}

// Reader implements state.Reader on the table.
type Reader struct {
	api   ReadAPI
	table string
}

var _ state.Reader = (*Reader)(nil)

// NewReader returns a reader of table.
func NewReader(api ReadAPI, table string) *Reader { return &Reader{api: api, table: table} }

// Get reads one item with a strongly consistent read.
func (r *Reader) Get(ctx context.Context, itemKey string) (state.Item, bool, error) {
	out, err := r.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(r.table),
		Key:            key(itemKey),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return state.Item{}, false, fmt.Errorf("dynamostore: get %s: %w", itemKey, err)
	}
	if len(out.Item) == 0 {
		return state.Item{}, false, nil
	}
	it, err := decodeItem(out.Item)
	return it, err == nil, err
}

func decodeItem(item map[string]types.AttributeValue) (state.Item, error) {
	r, err := readRecord(item)
	if err != nil {
		return state.Item{}, err
	}
	it := state.Item{
		Event: cashbill.Event(r.event), MID: r.MID,
		AlertKind: r.AlertKind, AlertStatus: r.AlertStatus, AlertMessageID: r.AlertMessageID,
		DueQueue: r.DueQueue,
		// The lease as stored, expired or not: the reader says who held it last.
		AlertLeaseOwner: r.AlertLeaseOwner,
		AlertWindow:     r.AlertWindow,
	}
	if r.AlertPayload != "" {
		it.AlertPayload = []byte(r.AlertPayload)
	}
	switch {
	case r.Extra != "":
		it.Extra = []byte(r.Extra)
	case r.Body != "":
		it.Extra = cashbill.Extra([]byte(r.Body)) // an item that kept the raw body
	}
	if r.AlertLeaseUntil != nil {
		it.AlertLeaseUntil = time.UnixMilli(*r.AlertLeaseUntil)
	}
	if r.DueAt != nil {
		it.DueAt = time.UnixMilli(*r.DueAt)
	}
	it.ReceivedAt, _ = time.Parse(time.RFC3339Nano, r.ReceivedAt)
	it.AlertSentAt, _ = time.Parse(time.RFC3339Nano, r.AlertSentAt)
	return it, nil
}
