package dynamostore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Building a write's expressions with the expression package costs more CPU
// than the UpdateItem call that carries them, and the webhook makes one such
// write per delivery. The expressions of Apply's write depend on the delivery
// only through its shape (applyShape: which event fields are empty, what the
// write queues, its guard), so each shape is built once per process, by the
// expression package, with a marker in place of every value that changes
// from one write to the next (slot); a write of that shape then marshals only
// its values into the markers' places.

// template is a conditional write's expressions, built once, and where each
// of its values comes from.
type template struct {
	update, condition *string
	names             map[string]string
	values            []templateValue
}

// templateValue is one value placeholder of a template: the value of slot,
// or, when slot is "", constant.
type templateValue struct {
	placeholder, slot string
	constant          types.AttributeValue
}

// slotMarker starts the text of a marker value; no value written is text
// starting with a NUL.
const slotMarker = "\x00slot:"

// slot is the operand that a template's write fills with its value named name.
func slot(name string) expression.ValueBuilder { return expression.Value(slotMarker + name) }

// newTemplate builds update and cond, whose values are slots or constants.
func newTemplate(update expression.UpdateBuilder, cond expression.ConditionBuilder) (*template, error) {
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	t := &template{update: expr.Update(), condition: expr.Condition(), names: expr.Names()}
	for placeholder, v := range expr.Values() {
		tv := templateValue{placeholder: placeholder, constant: v}
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			if name, ok := strings.CutPrefix(s.Value, slotMarker); ok {
				tv = templateValue{placeholder: placeholder, slot: name}
			}
		}
		t.values = append(t.values, tv)
	}
	return t, nil
}

// input is t's UpdateItem on key, each slot's value taken from values (marshalled).
func (t *template) input(table string, key, values map[string]types.AttributeValue, rv types.ReturnValue) (*dynamodb.UpdateItemInput, error) {
	filled := make(map[string]types.AttributeValue, len(t.values))
	for _, v := range t.values {
		if v.slot == "" {
			filled[v.placeholder] = v.constant
			continue
		}
		av, ok := values[v.slot]
		if !ok {
			return nil, fmt.Errorf("dynamostore: no value for %s", v.slot)
		}
		filled[v.placeholder] = av
	}
	return &dynamodb.UpdateItemInput{
		TableName:                           aws.String(table),
		Key:                                 key,
		UpdateExpression:                    t.update,
		ConditionExpression:                 t.condition,
		ExpressionAttributeNames:            t.names,
		ExpressionAttributeValues:           filled,
		ReturnValues:                        rv,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, nil
}

// templates holds each shape's template, built on its first write.
type templates[S comparable] struct {
	build func(S) (expression.UpdateBuilder, expression.ConditionBuilder)
	built sync.Map // S -> *template
}

func (ts *templates[S]) get(shape S) (*template, error) {
	if t, ok := ts.built.Load(shape); ok {
		return t.(*template), nil
	}
	t, err := newTemplate(ts.build(shape))
	if err != nil {
		return nil, err
	}
	ts.built.Store(shape, t)
	return t, nil
}

// writeTemplate runs the write of shape's template on key, each slot's value
// taken from values.
func writeTemplate[S comparable](ctx context.Context, s *Store, ts *templates[S], shape S, key, values map[string]types.AttributeValue, rv types.ReturnValue) (item map[string]types.AttributeValue, failed bool, err error) {
	t, err := ts.get(shape)
	if err != nil {
		return nil, false, err
	}
	in, err := t.input(s.table, key, values, rv)
	if err != nil {
		return nil, false, err
	}
	return s.write(ctx, in)
}

// eventFields are the event's attributes a write sets or removes, in a fixed
// order: every one but the key and the numbers (stateCode, written with its
// condition).
var eventFields = func() []string {
	zero, err := attributevalue.MarshalMap(event{})
	if err != nil {
		panic(err)
	}
	var out []string
	for name, v := range zero {
		if _, number := v.(*types.AttributeValueMemberN); number || name == KeyAttribute {
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	if len(out) > 64 {
		panic("dynamostore: more event fields than removedFields has bits")
	}
	return out
}()

// removedFields is the set of eventFields that fields, the event as
// marshalled, leaves empty: bit i for eventFields[i].
func removedFields(fields map[string]types.AttributeValue) uint64 {
	var removed uint64
	for i, name := range eventFields {
		switch v := fields[name].(type) {
		case *types.AttributeValueMemberS:
			if v.Value != "" {
				continue
			}
		case nil, *types.AttributeValueMemberNULL:
		default:
			continue
		}
		removed |= 1 << i
	}
	return removed
}

// setEventFields sets each of eventFields from its slot, or removes it when
// removed says it is empty, so the item holds what the event said.
func setEventFields(u expression.UpdateBuilder, removed uint64) expression.UpdateBuilder {
	for i, name := range eventFields {
		if removed&(1<<i) != 0 {
			u = u.Remove(expression.Name(name))
			continue
		}
		u = u.Set(expression.Name(name), slot(name))
	}
	return u
}
