package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// A storm window is an item of its own in the table, keyed by
// state.WindowKey. Its attributes:
const (
	attrWinCorp     = "corpNum"
	attrWinStart    = "windowStart" // N, unix milliseconds
	attrWinEnd      = "windowEnd"   // N, unix milliseconds
	attrWinSent     = "sentKeys"    // SS: itemKeys published one by one
	attrWinDigested = "digestKeys"  // SS: itemKeys in the digest
	attrWinEntries  = "entries"     // L of S: each entry's JSON, in arrival order
	attrWinStatus   = "windowStatus"
	attrWindow      = "alertWindow" // on a cashbill: the window whose digest carries its alert
)

var (
	_ state.StormRouter = (*Store)(nil)
	_ state.Storms      = (*Queues)(nil)
)

// maxWindowHops bounds how many closed windows a late alert skips.
const maxWindowHops = 4

// RouteAlert counts e in corp's window with one conditional write (the set
// of itemKeys sent one by one, bounded by threshold); when the window is
// full, a second adds e to the digest and a third marks the item digested.
func (s *Store) RouteAlert(ctx context.Context, corp string, start time.Time, size time.Duration, threshold int, owner string, e state.StormEntry) (state.Routed, error) {
	for range maxWindowHops {
		key := state.WindowKey(corp, start)
		u := newUpdate()
		kset := &types.AttributeValueMemberSS{Value: []string{e.ItemKey}}
		s.windowFields(u, corp, start, size)
		sent := u.name(attrWinSent)
		u.add = append(u.add, sent+" "+u.value(kset))
		kv := u.value(str(e.ItemKey))
		cond := fmt.Sprintf("attribute_not_exists(%s) AND (attribute_not_exists(%s) OR size(%s) < %s OR contains(%s, %s))",
			u.name(attrWinStatus), sent, sent, u.value(num(int64(threshold))), sent, kv)
		old, failed, err := s.conditional(ctx, key, u, cond, types.ReturnValueNone)
		switch {
		case err != nil:
			return state.Routed{}, fmt.Errorf("dynamostore: count alert %s in %s: %w", e.ItemKey, key, err)
		case !failed:
			return state.Routed{WindowKey: key}, nil
		case getS(old, attrWinStatus) != "":
			start = start.Add(size)
			continue
		}
		entry, _ := json.Marshal(e)
		u = newUpdate()
		s.windowFields(u, corp, start, size)
		entries := u.name(attrWinEntries)
		u.set = append(u.set, entries+" = list_append(if_not_exists("+entries+", "+u.value(&types.AttributeValueMemberL{Value: []types.AttributeValue{}})+"), "+
			u.value(&types.AttributeValueMemberL{Value: []types.AttributeValue{str(string(entry))}})+")")
		u.setAttr(DueQueueAttribute, str(state.QueueDigest))
		u.setAttr(DueAtAttribute, num(start.Add(size).UnixMilli()))
		digested := u.name(attrWinDigested)
		u.add = append(u.add, digested+" "+u.value(kset))
		cond = fmt.Sprintf("attribute_not_exists(%s) AND NOT contains(%s, %s) AND (attribute_not_exists(%s) OR size(%s) < %s)",
			u.name(attrWinStatus), digested, u.value(str(e.ItemKey)), digested, digested, u.value(num(state.MaxDigestEntries)))
		old, failed, err = s.conditional(ctx, key, u, cond, types.ReturnValueNone)
		switch {
		case err != nil:
			return state.Routed{}, fmt.Errorf("dynamostore: add alert %s to %s: %w", e.ItemKey, key, err)
		case failed && slices.Contains(getSS(old, attrWinDigested), e.ItemKey):
			// Already in the digest: a retry; mark the item below.
		case failed && getS(old, attrWinStatus) != "":
			start = start.Add(size) // closed meanwhile
			continue
		case failed:
			return state.Routed{WindowKey: key}, nil // the digest is full: published one by one
		}
		if err := s.markDigested(ctx, e.ItemKey, owner, key); err != nil {
			return state.Routed{}, err
		}
		return state.Routed{Digested: true, WindowKey: key}, nil
	}
	return state.Routed{}, fmt.Errorf("dynamostore: route alert %s: %d windows in a row were closed", e.ItemKey, maxWindowHops)
}

func (s *Store) windowFields(u *update, corp string, start time.Time, size time.Duration) {
	u.setAttr(attrWinCorp, str(corp))
	u.setAttr(attrWinStart, num(start.UnixMilli()))
	u.setAttr(attrWinEnd, num(start.Add(size).UnixMilli()))
}

// markDigested records that the window's digest carries the item's alert,
// if owner still holds it pending.
func (s *Store) markDigested(ctx context.Context, itemKey, owner, windowKey string) error {
	u := newUpdate()
	u.setAttr(attrAlert, str(state.AlertDigested))
	u.setAttr(attrWindow, str(windowKey))
	u.remove = []string{u.name(attrOwner), u.name(attrUntil), u.name(DueQueueAttribute), u.name(DueAtAttribute)}
	cond := fmt.Sprintf("%s = %s AND %s = %s", u.name(attrAlert), u.value(str(state.AlertPending)), u.name(attrOwner), u.value(str(owner)))
	if _, _, err := s.conditional(ctx, itemKey, u, cond, types.ReturnValueNone); err != nil {
		return fmt.Errorf("dynamostore: mark alert %s digested: %w", itemKey, err)
	}
	return nil
}

// DueWindows queries the due index's digest queue.
func (q *Queues) DueWindows(ctx context.Context, through time.Time, limit int) ([]state.Window, error) {
	out, err := q.query.Query(ctx, &dynamodb.QueryInput{
		TableName:                aws.String(q.table),
		IndexName:                aws.String(DueIndex),
		KeyConditionExpression:   aws.String("#q = :q AND #at <= :through"),
		ExpressionAttributeNames: map[string]string{"#q": DueQueueAttribute, "#at": DueAtAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":q": str(state.QueueDigest), ":through": num(through.UnixMilli()),
		},
		Limit: aws.Int32(int32(min(limit, 1000))),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: query queue %s: %w", state.QueueDigest, err)
	}
	var ws []state.Window
	for _, item := range out.Items {
		w, err := decodeWindow(item)
		if err != nil {
			return ws, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// ClaimWindow closes the window and leases it to owner.
func (q *Queues) ClaimWindow(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (state.Window, bool, error) {
	u := newUpdate()
	status, until, who := u.name(attrWinStatus), u.name(attrUntil), u.name(attrOwner)
	closed, me := u.value(str(state.WindowClosed)), u.value(str(owner))
	u.set = append(u.set, status+" = "+closed, who+" = "+me)
	u.setAttr(attrUntil, num(now.Add(lease).UnixMilli()))
	cond := fmt.Sprintf("attribute_exists(%s) AND (attribute_not_exists(%s) OR (%s = %s AND (%s < %s OR %s = %s)))",
		u.name(KeyAttribute), status, status, closed, until, u.value(num(now.UnixMilli())), who, me)
	item, failed, err := q.conditional(ctx, key, u, cond, types.ReturnValueAllNew)
	if err != nil {
		return state.Window{}, false, fmt.Errorf("dynamostore: claim window %s: %w", key, err)
	}
	if failed && getS(item, attrWinStatus) != state.WindowSent {
		return state.Window{}, false, nil
	}
	w, err := decodeWindow(item)
	return w, err == nil, err
}

// MarkWindowSent records the digest's message id; the window stays due until FinishWindow.
func (q *Queues) MarkWindowSent(ctx context.Context, key, owner, messageID string) error {
	u := newUpdate()
	u.setAttr(attrWinStatus, str(state.WindowSent))
	u.setAttr(attrMsgID, str(messageID))
	u.remove = []string{u.name(attrOwner), u.name(attrUntil)}
	cond := fmt.Sprintf("%s = %s AND %s = %s", u.name(attrWinStatus), u.value(str(state.WindowClosed)), u.name(attrOwner), u.value(str(owner)))
	if _, _, err := q.conditional(ctx, key, u, cond, types.ReturnValueNone); err != nil {
		return fmt.Errorf("dynamostore: mark window sent %s: %w", key, err)
	}
	return nil
}

// MarkDigestedSent marks a member item sent with the digest's message id.
func (q *Queues) MarkDigestedSent(ctx context.Context, itemKey, windowKey, messageID string, at time.Time) error {
	u := newUpdate()
	u.setAttr(attrAlert, str(state.AlertSent))
	u.setAttr(attrMsgID, str(messageID))
	u.setAttr(attrSentAt, str(at.UTC().Format(time.RFC3339Nano)))
	cond := fmt.Sprintf("%s = %s AND %s = %s", u.name(attrAlert), u.value(str(state.AlertDigested)), u.name(attrWindow), u.value(str(windowKey)))
	if _, _, err := q.conditional(ctx, itemKey, u, cond, types.ReturnValueNone); err != nil {
		return fmt.Errorf("dynamostore: mark digested alert sent %s: %w", itemKey, err)
	}
	return nil
}

// FinishWindow takes a sent window out of the digest queue.
func (q *Queues) FinishWindow(ctx context.Context, key string) error {
	u := newUpdate()
	u.remove = []string{u.name(DueQueueAttribute), u.name(DueAtAttribute)}
	cond := fmt.Sprintf("%s = %s", u.name(attrWinStatus), u.value(str(state.WindowSent)))
	if _, _, err := q.conditional(ctx, key, u, cond, types.ReturnValueNone); err != nil {
		return fmt.Errorf("dynamostore: finish window %s: %w", key, err)
	}
	return nil
}

func decodeWindow(item map[string]types.AttributeValue) (state.Window, error) {
	w := state.Window{
		Key: getS(item, KeyAttribute), CorpNum: getS(item, attrWinCorp),
		SentKeys: getSS(item, attrWinSent), Status: getS(item, attrWinStatus), MessageID: getS(item, attrMsgID),
	}
	var err error
	if w.Start, err = decodeMillis(item, attrWinStart); err != nil {
		return state.Window{}, err
	}
	if w.End, err = decodeMillis(item, attrWinEnd); err != nil {
		return state.Window{}, err
	}
	if l, ok := item[attrWinEntries].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			var e state.StormEntry
			if err := json.Unmarshal([]byte(getSValue(v)), &e); err != nil {
				return state.Window{}, fmt.Errorf("dynamostore: window %s entry: %w", w.Key, err)
			}
			w.Entries = append(w.Entries, e)
		}
	}
	slices.Sort(w.SentKeys)
	return w, nil
}

func getSS(item map[string]types.AttributeValue, name string) []string {
	if v, ok := item[name].(*types.AttributeValueMemberSS); ok {
		return v.Value
	}
	return nil
}

func getSValue(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
