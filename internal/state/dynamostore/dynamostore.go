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
	DueIndex          = "due-keys"
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
	return s.write(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 key(itemKey),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        rv,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
}

// write runs one conditional UpdateItem; a failed condition returns the
// item as it was (the input asks for ALL_OLD), with failed true.
func (s *Store) write(ctx context.Context, in *dynamodb.UpdateItemInput) (item map[string]types.AttributeValue, failed bool, err error) {
	out, err := s.api.UpdateItem(ctx, in)
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

// applyShape is what the expressions of Apply's write depend on: the
// values apart, which applyValues gives.
type applyShape struct {
	removed uint64 // the event's empty fields (removedFields)
	queue   applyQueue
	leased  bool // queueAlert: under the delivery's lease
	guard   bool // the condition adds that the item owes no alert
	extra   bool // the body has fields the event does not name (attrExtra)
}

// applyQueue is the queue an Apply write puts the item in; zero: none.
type applyQueue uint8

const (
	// queueResult: an Issue event awaits the NTS result, unless the item is
	// already in a queue (an alert's).
	queueResult applyQueue = iota + 1
	// queueAlert: the write records a failure alert, pending. The state was
	// below 305, so the slot holds no failure alert.
	queueAlert
)

var applyTemplates = templates[applyShape]{build: func(s applyShape) (expression.UpdateBuilder, expression.ConditionBuilder) {
	u := setEventFields(expression.Set(name(attrState), slot(attrState)), s.removed).
		Set(name(attrMID), slot(attrMID)).
		Set(name(attrReceived), slot(attrReceived)).
		Remove(name(attrBody))
	if s.extra {
		u = u.Set(name(attrExtra), slot(attrExtra))
	} else {
		u = u.Remove(name(attrExtra))
	}
	switch s.queue {
	case queueAlert:
		u = setFailureAlert(u, s.leased)
	case queueResult:
		u = u.Set(name(DueQueueAttribute), expression.IfNotExists(name(DueQueueAttribute), expression.Value(state.QueueResult))).
			Set(name(DueAtAttribute), expression.IfNotExists(name(DueAtAttribute), slot(DueAtAttribute)))
	}
	cond := expression.Or(expression.AttributeNotExists(name(KeyAttribute)), name(attrState).LessThan(slot(attrState)))
	if s.guard {
		cond = cond.And(expression.Or(expression.AttributeNotExists(name(attrAlert)), name(attrAlert).NotEqual(expression.Value(state.AlertPending))))
	}
	return u, cond
}}

// applyWrite is Apply's conditional write; guardPending adds to its condition
// that the item owes no alert.
func (s *Store) applyWrite(ctx context.Context, r state.Delivery, guardPending bool) (old map[string]types.AttributeValue, failed bool, err error) {
	ev := r.Event
	// The event's fields, the key and stateCode among them, are the write's
	// first values.
	values, err := attributevalue.MarshalMap(event(ev))
	if err != nil {
		return nil, false, fmt.Errorf("dynamostore: encode event %s: %w", ev.ItemKey, err)
	}
	shape := applyShape{removed: removedFields(values), guard: guardPending}
	err = marshalInto(values,
		attrMID, r.MID,
		attrReceived, r.ReceivedAt.UTC().Format(time.RFC3339Nano))
	if extra := r.Extra(); err == nil && extra != nil {
		shape.extra = true
		err = marshalInto(values, attrExtra, string(extra))
	}
	switch {
	case err != nil:
	case r.Alert != nil:
		shape.queue, shape.leased = queueAlert, r.AlertOwner != ""
		err = failureValues(values, r)
	case ev.StateCode == cashbill.StateIssued:
		shape.queue = queueResult
		err = marshalInto(values, DueAtAttribute, millis(state.ResultDueAt(ev, r.ReceivedAt)))
	}
	if err != nil {
		return nil, false, err
	}
	return writeTemplate(ctx, s, &applyTemplates, shape, map[string]types.AttributeValue{KeyAttribute: values[KeyAttribute]}, values, types.ReturnValueUpdatedOld)
}

// marshalInto adds to values each name and value of pairs, marshalled.
func marshalInto(values map[string]types.AttributeValue, pairs ...any) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		av, err := attributevalue.Marshal(pairs[i+1])
		if err != nil {
			return fmt.Errorf("dynamostore: encode %v: %w", pairs[i], err)
		}
		values[pairs[i].(string)] = av
	}
	return nil
}

// setFailureAlert fills the alert slot with a failure alert, pending,
// replacing an overdue alert and its lease and record; leased: under the
// delivery's lease. Its values are failureValues'.
func setFailureAlert(u expression.UpdateBuilder, leased bool) expression.UpdateBuilder {
	u = setPendingAlert(u, alert.KindFailure, slot(attrPayload), slot(DueAtAttribute)).Remove(name(attrMsgID)).Remove(name(attrSentAt))
	if leased {
		// held.Set's attributes, from the slots.
		return u.Set(name(held.Owner), slot(held.Owner)).Set(name(held.Until), slot(held.Until))
	}
	return held.Remove(u)
}

// failureValues adds to values those of r's failure alert (setFailureAlert):
// its payload, owed since r was received, and r's lease when it has one.
func failureValues(values map[string]types.AttributeValue, r state.Delivery) error {
	err := marshalInto(values, attrPayload, string(r.Alert), DueAtAttribute, millis(r.ReceivedAt))
	if err == nil && r.AlertOwner != "" {
		err = marshalInto(values, held.Owner, r.AlertOwner, held.Until, r.AlertLeaseUntil.UnixMilli())
	}
	return err
}

// setPendingAlert fills the alert slot and puts the item in the alert queue.
func setPendingAlert(u expression.UpdateBuilder, kind alert.Kind, payload, owedAt expression.ValueBuilder) expression.UpdateBuilder {
	return u.Set(name(attrKind), expression.Value(kind)).
		Set(name(attrAlert), expression.Value(state.AlertPending)).
		Set(name(attrPayload), payload).
		Set(name(DueQueueAttribute), expression.Value(state.QueueAlert)).
		Set(name(DueAtAttribute), owedAt)
}

// failureTemplates are recordFailure's write, leased or not.
var failureTemplates = templates[bool]{build: func(leased bool) (expression.UpdateBuilder, expression.ConditionBuilder) {
	cond := expression.AttributeExists(name(KeyAttribute)).
		And(expression.Or(expression.AttributeNotExists(name(attrAlert)), is(attrKind, alert.KindOverdue)))
	return setFailureAlert(expression.UpdateBuilder{}, leased), cond
}}

// recordFailure stores r's failure alert on an item whose state r did not
// raise, if its slot is empty or holds an overdue alert. It reports whether
// the item then owes an alert, and whether r's owner holds its lease.
func (s *Store) recordFailure(ctx context.Context, r state.Delivery) (pending, claimed bool, err error) {
	values := map[string]types.AttributeValue{}
	if err := failureValues(values, r); err != nil {
		return false, false, err
	}
	// On a failed condition a concurrent 305 recorded it first.
	item, failed, err := writeTemplate(ctx, s, &failureTemplates, r.AlertOwner != "", key(r.Event.ItemKey), values, types.ReturnValueNone)
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
