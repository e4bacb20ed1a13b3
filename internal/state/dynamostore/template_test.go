package dynamostore

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
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

// recorder answers every UpdateItem with success and keeps its input.
type recorder struct{ inputs []*dynamodb.UpdateItemInput }

func (r *recorder) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.inputs = append(r.inputs, in)
	return &dynamodb.UpdateItemOutput{}, nil
}

var placeholder = regexp.MustCompile(`[#:][0-9]+`)

// resolved is in's update and condition with every name and value in place
// of its placeholder, the update's clauses sorted within each action.
func resolved(in *dynamodb.UpdateItemInput) (update, condition string) {
	sub := func(expr string) string {
		return placeholder.ReplaceAllStringFunc(expr, func(p string) string {
			if p[0] == '#' {
				return in.ExpressionAttributeNames[p]
			}
			switch v := in.ExpressionAttributeValues[p].(type) {
			case *types.AttributeValueMemberS:
				return fmt.Sprintf("%q", v.Value)
			case *types.AttributeValueMemberN:
				return v.Value
			case *types.AttributeValueMemberBOOL:
				return fmt.Sprint(v.Value)
			}
			return "?" + p
		})
	}
	var actions []string
	for _, a := range regexp.MustCompile(`(SET|REMOVE) `).Split(sub(*in.UpdateExpression), -1) {
		if a = strings.TrimSpace(a); a != "" {
			clauses := topLevel(a)
			slices.Sort(clauses)
			actions = append(actions, strings.Join(clauses, ", "))
		}
	}
	return strings.Join(actions, " | "), sub(*in.ConditionExpression)
}

// topLevel splits a list of clauses at its commas outside parentheses.
func topLevel(list string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range list {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(list[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(list[start:]))
}

// oracleApply is Apply's write built with the expression package on every
// call, from the delivery's values: what a template must equal.
func oracleApply(t *testing.T, r state.Delivery, guardPending bool) *dynamodb.UpdateItemInput {
	t.Helper()
	ev := r.Event
	u := expression.Set(name(attrState), expression.Value(ev.StateCode))
	fields, err := attributevalue.MarshalMap(event(ev))
	if err != nil {
		t.Fatal(err)
	}
	for n, v := range fields {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			if n == KeyAttribute {
				continue
			}
			if v.Value == "" {
				u = u.Remove(name(n))
				continue
			}
		case *types.AttributeValueMemberNULL:
			u = u.Remove(name(n))
			continue
		case *types.AttributeValueMemberN:
			continue
		}
		u = u.Set(name(n), expression.Value(v))
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
		u = oracleFailureAlert(u, r)
	case ev.StateCode == cashbill.StateIssued:
		u = u.Set(name(DueQueueAttribute), expression.IfNotExists(name(DueQueueAttribute), expression.Value(state.QueueResult))).
			Set(name(DueAtAttribute), expression.IfNotExists(name(DueAtAttribute), expression.Value(millis(state.ResultDueAt(ev, r.ReceivedAt)))))
	}
	cond := expression.Or(expression.AttributeNotExists(name(KeyAttribute)), name(attrState).LessThan(expression.Value(ev.StateCode)))
	if guardPending {
		cond = cond.And(expression.Or(expression.AttributeNotExists(name(attrAlert)), name(attrAlert).NotEqual(expression.Value(state.AlertPending))))
	}
	return oracleInput(t, ev.ItemKey, u, cond, types.ReturnValueUpdatedOld)
}

// oracleFailure is recordFailure's write, built on every call.
func oracleFailure(t *testing.T, r state.Delivery) *dynamodb.UpdateItemInput {
	t.Helper()
	cond := expression.AttributeExists(name(KeyAttribute)).
		And(expression.Or(expression.AttributeNotExists(name(attrAlert)), is(attrKind, alert.KindOverdue)))
	return oracleInput(t, r.Event.ItemKey, oracleFailureAlert(expression.UpdateBuilder{}, r), cond, types.ReturnValueNone)
}

func oracleFailureAlert(u expression.UpdateBuilder, r state.Delivery) expression.UpdateBuilder {
	u = u.Set(name(attrKind), expression.Value(alert.KindFailure)).
		Set(name(attrAlert), expression.Value(state.AlertPending)).
		Set(name(attrPayload), expression.Value(string(r.Alert))).
		Set(name(DueQueueAttribute), expression.Value(state.QueueAlert)).
		Set(name(DueAtAttribute), expression.Value(millis(r.ReceivedAt))).
		Remove(name(attrMsgID)).Remove(name(attrSentAt))
	if r.AlertOwner != "" {
		return held.Set(u, lease.Lease{Owner: r.AlertOwner, Until: r.AlertLeaseUntil})
	}
	return held.Remove(u)
}

func oracleInput(t *testing.T, itemKey string, u expression.UpdateBuilder, cond expression.ConditionBuilder, rv types.ReturnValue) *dynamodb.UpdateItemInput {
	t.Helper()
	expr, err := expression.NewBuilder().WithUpdate(u).WithCondition(cond).Build()
	if err != nil {
		t.Fatal(err)
	}
	return &dynamodb.UpdateItemInput{
		TableName: aws.String("state"), Key: key(itemKey),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues: rv, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// deliveries are Apply's inputs of every shape: each state, each event
// field empty in turn, an alert with and without a lease.
func deliveries() []state.Delivery {
	received := time.Date(2026, 11, 27, 7, 19, 38, 123456789, time.UTC)
	yes, no := true, false
	full := cashbill.Event{
		CorpNum: "6798700433", FranchiseCorpNum: "1234567890", ItemKey: "022122100000000001", TradeDate: "20261127",
		ConfirmNum: "TB0001147", NTSSendDT: "20261128000000", NTSResultDT: "20261128100033", NTSResultCode: "TS4",
		StateCode: 305, StateDT: "20261127161938", IssueDT: "20261127161938", MgtKey: "M-1", EventDT: "20261127161938",
		EventType: "NTS", InterOPYN: &yes,
	}
	var out []state.Delivery
	for _, code := range []int{cashbill.StateIssued, cashbill.StateNTSSuccess, cashbill.StateNTSFailed, 310} {
		ev := full
		ev.StateCode = code
		d := state.Delivery{Event: ev, MID: fmt.Sprintf("mid-%d", code), ReceivedAt: received, Body: []byte(fmt.Sprintf(`{"stateCode":%d}`, code))}
		out = append(out, d)
		if code == cashbill.StateNTSFailed {
			d.Alert = []byte(`{"itemKey":"022122100000000001"}`)
			out = append(out, d)
			d.AlertOwner, d.AlertLeaseUntil = "req/1", received.Add(2*time.Minute)
			out = append(out, d)
		}
	}
	// Each field empty in turn, on an Issue event and on a leased alert.
	fields, _ := attributevalue.MarshalMap(event(full))
	for _, base := range []state.Delivery{out[0], out[len(out)-2]} {
		for n := range fields {
			d := base
			ev, _ := attributevalue.MarshalMap(event(d.Event))
			switch ev[n].(type) {
			case *types.AttributeValueMemberS:
				ev[n] = &types.AttributeValueMemberS{Value: ""}
			case *types.AttributeValueMemberBOOL:
				ev[n] = &types.AttributeValueMemberNULL{Value: true}
			default:
				continue
			}
			var e event
			_ = attributevalue.UnmarshalMap(ev, &e)
			d.Event = cashbill.Event(e)
			out = append(out, d)
		}
	}
	d := out[0]
	d.Event.InterOPYN, d.MID = &no, ""
	// A body with fields the event does not name, kept as extra.
	e := out[1]
	e.Body = []byte(`{"stateCode":304,"memo":"x"}`)
	return append(out, d, e)
}

func TestApplyWritesWhatTheExpressionPackageBuildsForTheDelivery(t *testing.T) {
	for _, guard := range []bool{true, false} {
		for i, d := range deliveries() {
			rec := &recorder{}
			if _, _, err := New(rec, "state").applyWrite(context.Background(), d, guard); err != nil {
				t.Fatal(err)
			}
			gotU, gotC := resolved(rec.inputs[0])
			wantU, wantC := resolved(oracleApply(t, d, guard))
			if gotU != wantU || gotC != wantC {
				t.Errorf("delivery %d (stateCode %d), guard %v:\n got %s\n     %s\nwant %s\n     %s", i, d.Event.StateCode, guard, gotU, gotC, wantU, wantC)
			}
			if !reflect.DeepEqual(rec.inputs[0].Key, key(d.Event.ItemKey)) || rec.inputs[0].ReturnValues != types.ReturnValueUpdatedOld ||
				rec.inputs[0].ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
				t.Errorf("delivery %d: key %v, return values %s/%s", i, rec.inputs[0].Key, rec.inputs[0].ReturnValues, rec.inputs[0].ReturnValuesOnConditionCheckFailure)
			}
		}
	}
}

func TestRecordFailureWritesWhatTheExpressionPackageBuildsForTheDelivery(t *testing.T) {
	for i, d := range deliveries() {
		if d.Alert == nil {
			continue
		}
		rec := &recorder{}
		if _, _, err := New(rec, "state").recordFailure(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		gotU, gotC := resolved(rec.inputs[0])
		wantU, wantC := resolved(oracleFailure(t, d))
		if gotU != wantU || gotC != wantC {
			t.Errorf("delivery %d (owner %q):\n got %s\n     %s\nwant %s\n     %s", i, d.AlertOwner, gotU, gotC, wantU, wantC)
		}
	}
}

func TestAShapesExpressionsAreBuiltOnceAndEachWriteCarriesItsOwnValues(t *testing.T) {
	rec := &recorder{}
	s := New(rec, "state")
	a, b := deliveries()[1], deliveries()[1]
	b.Event.ItemKey, b.MID, b.ReceivedAt = "022122100000000002", "other", a.ReceivedAt.Add(time.Second)
	for _, d := range []state.Delivery{a, b} {
		if _, err := s.Apply(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	if rec.inputs[0].UpdateExpression != rec.inputs[1].UpdateExpression {
		t.Error("two writes of one shape built their update expression twice")
	}
	for i, d := range []state.Delivery{a, b} {
		u, _ := resolved(rec.inputs[i])
		received := d.ReceivedAt.UTC().Format(time.RFC3339Nano)
		if !strings.Contains(u, fmt.Sprintf("mid = %q", d.MID)) || !strings.Contains(u, fmt.Sprintf("receivedAt = %q", received)) {
			t.Errorf("write %d does not carry its own mid and receipt time: %s", i, u)
		}
		if got := rec.inputs[i].Key[KeyAttribute].(*types.AttributeValueMemberS).Value; got != d.Event.ItemKey {
			t.Errorf("write %d has key %s, want %s", i, got, d.Event.ItemKey)
		}
	}
}
