// Package dynamostore is the DynamoDB adapter of the state store: one item per
// cashbill, partition key itemKey (String) and nothing else, the event's fields
// under POPBiLL's names. Condition expressions, not read-then-write, enforce
// the store's rules, so concurrent Lambda invocations cannot race.
package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
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

// The sparse index of items due in a queue (state.QueueAlert, state.QueueResult):
// partition DueQueueAttribute (S), sort DueAtAttribute (N, unix milliseconds),
// all attributes projected. template.yaml declares it.
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
	attrBody     = "body"
	attrKind     = "alertKind"
	attrAlert    = "alertStatus"
	attrPayload  = "alertPayload"
	attrOwner    = "alertLeaseOwner"
	attrUntil    = "alertLeaseUntil"
	attrMsgID    = "alertMessageId"
	attrSentAt   = "alertSentAt"
)

// Store implements state.Store on one DynamoDB table.
type Store struct {
	api   API
	table string
}

var _ state.Store = (*Store)(nil)

// New returns a store on table.
func New(api API, table string) *Store { return &Store{api: api, table: table} }

// eventFields are cashbill.Event's fields under their JSON names (POPBiLL's),
// read from the struct's tags so that a new field is stored without a second
// list to keep. The key and stateCode are written apart; an empty text field
// or an absent interOPYN is removed, so the item holds what the event said.
var eventFields = func() []eventField {
	t := reflect.TypeFor[cashbill.Event]()
	var out []eventField
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == KeyAttribute || name == attrState {
			continue
		}
		switch f.Type {
		case reflect.TypeFor[string](), reflect.TypeFor[*bool]():
		default:
			panic(fmt.Sprintf("dynamostore: cashbill.Event.%s is a %s, which the store does not map", f.Name, f.Type))
		}
		out = append(out, eventField{name: name, index: i})
	}
	return out
}()

type eventField struct {
	name  string
	index int
}

// attribute is the field's value in ev, or nil when it is empty.
func (f eventField) attribute(ev *cashbill.Event) types.AttributeValue {
	switch v := reflect.ValueOf(ev).Elem().Field(f.index).Interface().(type) {
	case string:
		if v != "" {
			return str(v)
		}
	case *bool:
		if v != nil {
			return &types.AttributeValueMemberBOOL{Value: *v}
		}
	}
	return nil
}

// set stores the item's attribute, if it has one, into ev.
func (f eventField) set(ev *cashbill.Event, item map[string]types.AttributeValue) {
	field := reflect.ValueOf(ev).Elem().Field(f.index)
	switch v := item[f.name].(type) {
	case *types.AttributeValueMemberS:
		field.SetString(v.Value)
	case *types.AttributeValueMemberBOOL:
		field.Set(reflect.ValueOf(aws.Bool(v.Value)))
	}
}

// update builds an UpdateItem expression with every name and value bound to a
// placeholder, so no attribute can collide with a DynamoDB reserved word.
type update struct {
	set, remove, add []string
	names            map[string]string
	values           map[string]types.AttributeValue
}

func newUpdate() *update {
	return &update{names: map[string]string{}, values: map[string]types.AttributeValue{}}
}

func (u *update) name(n string) string {
	p := "#" + n
	u.names[p] = n
	return p
}

func (u *update) value(v types.AttributeValue) string {
	p := fmt.Sprintf(":v%d", len(u.values))
	u.values[p] = v
	return p
}

func (u *update) setAttr(n string, v types.AttributeValue) {
	u.set = append(u.set, u.name(n)+" = "+u.value(v))
}

func (u *update) expression() *string {
	var parts []string
	if len(u.set) > 0 {
		parts = append(parts, "SET "+strings.Join(u.set, ", "))
	}
	if len(u.remove) > 0 {
		parts = append(parts, "REMOVE "+strings.Join(u.remove, ", "))
	}
	if len(u.add) > 0 {
		parts = append(parts, "ADD "+strings.Join(u.add, ", "))
	}
	return aws.String(strings.Join(parts, " "))
}

func (s *Store) input(itemKey string, u *update, cond string) *dynamodb.UpdateItemInput {
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(itemKey),
		UpdateExpression:          u.expression(),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  u.names,
		ExpressionAttributeValues: u.values,
	}
	if len(in.ExpressionAttributeValues) == 0 {
		in.ExpressionAttributeValues = nil
	}
	return in
}

// conditional runs a conditional UpdateItem and returns what rv asks for of
// the item after it, or, when the condition failed (an expected answer, not an error), the item
// as it was, with failed true.
func (s *Store) conditional(ctx context.Context, itemKey string, u *update, cond string, rv types.ReturnValue) (item map[string]types.AttributeValue, failed bool, err error) {
	in := s.input(itemKey, u, cond)
	in.ReturnValues = rv
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
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

func key(itemKey string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyAttribute: str(itemKey)}
}

func str[T ~string](s T) types.AttributeValue { return &types.AttributeValueMemberS{Value: string(s)} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// Apply writes r when the item is new or its stored stateCode is smaller. The
// alert attributes are only ever added here, never removed, so an alert still
// owed survives a later, greater state. A 305 that does not raise the state
// still records its alert when the item holds no failure alert yet.
//
// A write that succeeds returns nothing (ReturnValues NONE): what the caller
// needs to know follows from the write itself. A delivery without an alert
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
			res.AlertClaimed = r.Alert != nil && r.AlertOwner != ""
			return res, nil
		}
		old, err := decodeState(item)
		if err != nil {
			return state.Result{}, err
		}
		if old < ev.StateCode && guardPending && alertPending(item) {
			// Refused by the guard only: store it, and report the alert owed.
			guardPending = false
			continue
		}
		// The normal answer to a duplicate or a stale event: the old item comes
		// back with the failure, so no second read is needed.
		outcome := state.Stale
		if old == ev.StateCode {
			outcome = state.Duplicate
		}
		res := state.Result{Outcome: outcome, StateCode: old, AlertPending: alertPending(item)}
		if r.Alert != nil && !state.FailureRecorded(alert.Kind(getS(item, attrKind)), state.AlertStatus(getS(item, attrAlert))) {
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
	u := newUpdate()
	stateValue := u.value(num(int64(ev.StateCode)))
	u.set = append(u.set, u.name(attrState)+" = "+stateValue)
	for _, f := range eventFields {
		if v := f.attribute(&ev); v != nil {
			u.setAttr(f.name, v)
		} else {
			u.remove = append(u.remove, u.name(f.name))
		}
	}
	u.setAttr(attrMID, str(r.MID))
	u.setAttr(attrReceived, str(r.ReceivedAt.UTC().Format(time.RFC3339Nano)))
	u.setAttr(attrBody, str(string(r.Body)))
	switch {
	case r.Alert != nil:
		// The state was below 305, so the slot holds no failure alert.
		setFailureAlert(u, r)
	case ev.StateCode == cashbill.StateIssued:
		// Awaiting the NTS result, unless already in a queue (an alert's).
		q, at := u.name(DueQueueAttribute), u.name(DueAtAttribute)
		u.set = append(u.set,
			q+" = if_not_exists("+q+", "+u.value(str(state.QueueResult))+")",
			at+" = if_not_exists("+at+", "+u.value(num(state.IssueDay(ev, r.ReceivedAt).UnixMilli()))+")")
	}
	cond := "(attribute_not_exists(" + u.name(KeyAttribute) + ") OR " + u.name(attrState) + " < " + stateValue + ")"
	if guardPending {
		a := u.name(attrAlert)
		cond += " AND (attribute_not_exists(" + a + ") OR " + a + " <> " + u.value(str(state.AlertPending)) + ")"
	}
	return s.conditional(ctx, ev.ItemKey, u, cond, types.ReturnValueNone)
}

// setFailureAlert fills the alert slot with r's failure alert, pending,
// replacing an overdue alert and its lease and record; the lease is r's
// AlertOwner's when it has one.
func setFailureAlert(u *update, r state.Delivery) {
	setPendingAlert(u, alert.KindFailure, r.Alert, r.ReceivedAt)
	u.remove = append(u.remove, u.name(attrMsgID), u.name(attrSentAt))
	if r.AlertOwner != "" {
		u.setAttr(attrOwner, str(r.AlertOwner))
		u.setAttr(attrUntil, num(r.AlertLeaseUntil.UnixMilli()))
		return
	}
	u.remove = append(u.remove, u.name(attrOwner), u.name(attrUntil))
}

// setPendingAlert fills the alert slot and puts the item in the alert queue.
func setPendingAlert(u *update, kind alert.Kind, payload []byte, owedAt time.Time) {
	u.setAttr(attrKind, str(kind))
	u.setAttr(attrAlert, str(state.AlertPending))
	u.setAttr(attrPayload, str(string(payload)))
	u.setAttr(DueQueueAttribute, str(state.QueueAlert))
	u.setAttr(DueAtAttribute, num(owedAt.UnixMilli()))
}

// recordFailure stores r's failure alert on an item whose state r did not
// raise, if its slot is empty or holds an overdue alert. It reports whether
// the item then owes an alert, and whether r's owner holds its lease.
func (s *Store) recordFailure(ctx context.Context, r state.Delivery) (pending, claimed bool, err error) {
	u := newUpdate()
	setFailureAlert(u, r)
	cond := fmt.Sprintf("attribute_exists(%s) AND (attribute_not_exists(%s) OR %s = %s)",
		u.name(KeyAttribute), u.name(attrAlert), u.name(attrKind), u.value(str(alert.KindOverdue)))
	// On a failed condition a concurrent 305 recorded it first.
	item, failed, err := s.conditional(ctx, r.Event.ItemKey, u, cond, types.ReturnValueNone)
	if err != nil {
		return false, false, fmt.Errorf("dynamostore: record failure alert %s: %w", r.Event.ItemKey, err)
	}
	if !failed {
		return true, r.AlertOwner != "", nil
	}
	return alertPending(item), false, nil
}

func decodeState(item map[string]types.AttributeValue) (int, error) {
	n, ok := item[attrState].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("dynamostore: stored item has no numeric %s", attrState)
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		return 0, fmt.Errorf("dynamostore: stored %s %q: %w", attrState, n.Value, err)
	}
	return v, nil
}

func alertPending(item map[string]types.AttributeValue) bool {
	return state.AlertStatus(getS(item, attrAlert)) == state.AlertPending
}

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// ClaimAlert sets a lease on a pending alert whose lease is free, expired, or
// already owner's. A failed condition returns the old item, from which the
// answer is read.
func (s *Store) ClaimAlert(ctx context.Context, itemKey, owner string, now time.Time, lease time.Duration) (state.Claim, error) {
	u := newUpdate()
	ownerValue := u.value(str(owner))
	u.set = append(u.set, u.name(attrOwner)+" = "+ownerValue)
	u.setAttr(attrUntil, num(now.Add(lease).UnixMilli()))
	cond := fmt.Sprintf("%s = %s AND (attribute_not_exists(%s) OR %s < %s OR %s = %s)",
		u.name(attrAlert), u.value(str(state.AlertPending)), u.name(attrUntil), u.name(attrUntil),
		u.value(num(now.UnixMilli())), u.name(attrOwner), ownerValue)
	// ALL_NEW: the payload to publish is on the item, not in the update.
	item, failed, err := s.conditional(ctx, itemKey, u, cond, types.ReturnValueAllNew)
	switch {
	case err != nil:
		return state.Claim{}, fmt.Errorf("dynamostore: claim alert %s: %w", itemKey, err)
	case failed:
		return refusedClaim(itemKey, item, now)
	}
	return state.Claim{Status: state.Claimed, Payload: []byte(getS(item, attrPayload))}, nil
}

// refusedClaim reads why a claim's condition failed from the old item.
func refusedClaim(itemKey string, old map[string]types.AttributeValue, now time.Time) (state.Claim, error) {
	switch state.AlertStatus(getS(old, attrAlert)) {
	case state.AlertSent:
		return state.Claim{Status: state.AlreadySent, MessageID: getS(old, attrMsgID)}, nil
	case state.AlertDigested:
		return state.Claim{Status: state.InDigest}, nil
	case state.AlertPending:
		until, err := decodeMillis(old, attrUntil)
		if err != nil || until.UnixMilli() < now.UnixMilli() {
			// The condition failed on an alert this reading says was free:
			// an answer not to guess at.
			return state.Claim{}, fmt.Errorf("dynamostore: claim alert %s: refused, but the item shows no other lease", itemKey)
		}
		return state.Claim{Status: state.HeldByAnother, HeldBy: getS(old, attrOwner), HeldUntil: until}, nil
	}
	return state.Claim{Status: state.NothingOwed}, nil
}

func decodeMillis(item map[string]types.AttributeValue, name string) (time.Time, error) {
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return time.Time{}, fmt.Errorf("dynamostore: no numeric %s", name)
	}
	ms, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("dynamostore: %s %q: %w", name, n.Value, err)
	}
	return time.UnixMilli(ms), nil
}

// ReleaseAlert removes owner's lease, if it still holds it.
func (s *Store) ReleaseAlert(ctx context.Context, itemKey, owner string) error {
	u := newUpdate()
	u.remove = []string{u.name(attrOwner), u.name(attrUntil)}
	cond := fmt.Sprintf("%s = %s", u.name(attrOwner), u.value(str(owner)))
	_, err := s.api.UpdateItem(ctx, s.input(itemKey, u, cond))
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("dynamostore: release alert %s: %w", itemKey, err)
	}
	return nil
}

// MarkAlertSent records owner's publish and drops the lease.
func (s *Store) MarkAlertSent(ctx context.Context, itemKey, owner, messageID string, at time.Time) error {
	u := newUpdate()
	u.setAttr(attrMsgID, str(messageID))
	u.setAttr(attrSentAt, str(at.UTC().Format(time.RFC3339Nano)))
	pending := u.value(str(state.AlertPending))
	u.set = append(u.set, u.name(attrAlert)+" = "+u.value(str(state.AlertSent)))
	u.remove = []string{u.name(attrOwner), u.name(attrUntil), u.name(DueQueueAttribute), u.name(DueAtAttribute)}
	cond := fmt.Sprintf("%s = %s AND %s = %s", u.name(attrAlert), pending, u.name(attrOwner), u.value(str(owner)))
	_, err := s.api.UpdateItem(ctx, s.input(itemKey, u, cond))
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
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
	sc, err := decodeState(item)
	if err != nil {
		return state.Item{}, err
	}
	it := state.Item{
		Event:          cashbill.Event{ItemKey: getS(item, KeyAttribute), StateCode: sc},
		MID:            getS(item, attrMID),
		Body:           []byte(getS(item, attrBody)),
		AlertKind:      alert.Kind(getS(item, attrKind)),
		AlertStatus:    state.AlertStatus(getS(item, attrAlert)),
		AlertMessageID: getS(item, attrMsgID),
		DueQueue:       getS(item, DueQueueAttribute),
		// The lease as stored, expired or not: the reader says who held it last.
		AlertLeaseOwner: getS(item, attrOwner),
		AlertWindow:     getS(item, attrWindow),
	}
	if p := getS(item, attrPayload); p != "" {
		it.AlertPayload = []byte(p)
	}
	if until, err := decodeMillis(item, attrUntil); err == nil {
		it.AlertLeaseUntil = until
	}
	for _, f := range eventFields {
		f.set(&it.Event, item)
	}
	it.ReceivedAt, _ = time.Parse(time.RFC3339Nano, getS(item, attrReceived))
	it.AlertSentAt, _ = time.Parse(time.RFC3339Nano, getS(item, attrSentAt))
	if at, err := decodeMillis(item, DueAtAttribute); err == nil {
		it.DueAt = at
	}
	return it, nil
}
