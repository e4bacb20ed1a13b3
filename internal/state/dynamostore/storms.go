package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/lease"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// A storm window is an item of its own in the table, keyed by
// outbox.WindowKey. Its attributes:
const (
	attrWinCorp    = "corpNum"
	attrWinStart   = "windowStart" // N, unix milliseconds
	attrWinEnd     = "windowEnd"   // N, unix milliseconds
	attrWinSent    = "sentKeys"    // SS: itemKeys published one by one
	attrWinMembers = "members"     // L of S: itemKeys in the digest, in arrival order
	attrWinStatus  = "windowStatus"
	attrWindow     = "alertWindow" // on a cashbill: the window whose digest carries its alert
)

// A digest's entries are not copied into its window: each member's item
// holds its alert (mgtKey, code), read when the window is. Windows once kept
// them (digestKeys, SS; entries, L of each entry's JSON); such a window is
// still read, and its later members go to members.

var (
	_ outbox.StormRouter = (*Store)(nil)
	_ outbox.Storms      = (*Queues)(nil)
)

// maxWindowHops bounds how many closed windows a late alert skips.
const maxWindowHops = 4

// window is a storm window's item as stored.
type window struct {
	Key     string `dynamodbav:"itemKey"`
	CorpNum string `dynamodbav:"corpNum"`
	// Start and End are unix milliseconds; nil: not a window.
	Start    *int64   `dynamodbav:"windowStart"`
	End      *int64   `dynamodbav:"windowEnd"`
	SentKeys []string `dynamodbav:"sentKeys,stringset"`
	// Members are the digest's itemKeys, in arrival order.
	Members   []string `dynamodbav:"members"`
	Status    string   `dynamodbav:"windowStatus"`
	MessageID string   `dynamodbav:"alertMessageId"`
	// DigestKeys and Entries are a window's digest as it was once kept.
	DigestKeys []string `dynamodbav:"digestKeys,stringset"`
	Entries    []string `dynamodbav:"entries"`
}

// has reports whether the window's digest already lists itemKey.
func (w window) has(itemKey string) bool {
	return slices.Contains(w.Members, itemKey) || slices.Contains(w.DigestKeys, itemKey)
}

func readWindow(item map[string]types.AttributeValue) (window, error) {
	var w window
	if err := attributevalue.UnmarshalMap(item, &w); err != nil {
		return window{}, fmt.Errorf("dynamostore: decode window: %w", err)
	}
	return w, nil
}

// itemKeys is a string set of itemKeys, for ADD.
func itemKeys(keys ...string) expression.ValueBuilder {
	return expression.Value(&types.AttributeValueMemberSS{Value: keys})
}

// RouteAlert counts e in corp's window with one conditional write (the set
// of itemKeys sent one by one, bounded by threshold); when the window is
// full, a second adds e to the digest and a third marks the item digested.
// Once this process has seen a window full (its set of itemKeys sent one by
// one never shrinks), it skips the first write, whose condition would fail:
// in a storm, a digested alert then costs two writes, not three.
func (s *Store) RouteAlert(ctx context.Context, corp string, start time.Time, size time.Duration, threshold int, owner string, e outbox.StormEntry) (outbox.Routed, error) {
	open := expression.AttributeNotExists(name(attrWinStatus))
	for range maxWindowHops {
		key := outbox.WindowKey(corp, start)
		if !s.full.has(key, threshold) {
			u := windowFields(corp, start, size).Add(name(attrWinSent), itemKeys(e.ItemKey))
			cond := open.And(expression.Or(
				expression.AttributeNotExists(name(attrWinSent)),
				expression.LessThan(name(attrWinSent).Size(), expression.Value(threshold)),
				expression.Contains(name(attrWinSent), e.ItemKey)))
			item, failed, err := s.conditional(ctx, key, u, cond, types.ReturnValueNone)
			if err != nil {
				return outbox.Routed{}, fmt.Errorf("dynamostore: count alert %s in %s: %w", e.ItemKey, key, err)
			}
			if !failed {
				return outbox.Routed{WindowKey: key}, nil
			}
			if old, err := readWindow(item); err != nil {
				return outbox.Routed{}, err
			} else if old.Status != "" {
				start = start.Add(size)
				continue
			}
			s.full.add(key, threshold, start.Add(size)) // open, and refused: full
		}
		members := name(attrWinMembers)
		u := windowFields(corp, start, size).
			Set(members, expression.ListAppend(expression.IfNotExists(members, expression.Value([]string{})), expression.Value([]string{e.ItemKey}))).
			Set(name(DueQueueAttribute), expression.Value(state.QueueDigest)).
			Set(name(DueAtAttribute), expression.Value(millis(start.Add(size))))
		// Not one sent one by one: a retry of it is published again.
		cond := open.And(
			expression.Not(expression.Contains(members, e.ItemKey)),
			expression.Not(expression.Contains(name(attrWinSent), e.ItemKey)),
			expression.Or(expression.AttributeNotExists(members),
				expression.LessThan(members.Size(), expression.Value(outbox.MaxDigestEntries))))
		item, failed, err := s.conditional(ctx, key, u, cond, types.ReturnValueNone)
		if err != nil {
			return outbox.Routed{}, fmt.Errorf("dynamostore: add alert %s to %s: %w", e.ItemKey, key, err)
		}
		if failed {
			old, err := readWindow(item)
			switch {
			case err != nil:
				return outbox.Routed{}, err
			case old.has(e.ItemKey):
				// Already in the digest: a retry; mark the item below.
			case old.Status != "":
				start = start.Add(size) // closed meanwhile
				continue
			default:
				// The digest is full, or e was sent one by one: published one by one.
				return outbox.Routed{WindowKey: key}, nil
			}
		}
		if err := s.markDigested(ctx, e.ItemKey, owner, key); err != nil {
			return outbox.Routed{}, err
		}
		return outbox.Routed{Digested: true, WindowKey: key}, nil
	}
	return outbox.Routed{}, fmt.Errorf("dynamostore: route alert %s: %d windows in a row were closed", e.ItemKey, maxWindowHops)
}

func windowFields(corp string, start time.Time, size time.Duration) expression.UpdateBuilder {
	return expression.Set(name(attrWinCorp), expression.Value(corp)).
		Set(name(attrWinStart), expression.Value(millis(start))).
		Set(name(attrWinEnd), expression.Value(millis(start.Add(size))))
}

// markDigested records that the window's digest carries the item's alert,
// if owner still holds it pending.
func (s *Store) markDigested(ctx context.Context, itemKey, owner, windowKey string) error {
	u := expression.Set(name(attrAlert), expression.Value(state.AlertDigested)).
		Set(name(attrWindow), expression.Value(windowKey)).
		Remove(name(DueQueueAttribute)).Remove(name(DueAtAttribute))
	u = held.Remove(u)
	cond := is(attrAlert, state.AlertPending).And(held.HeldBy(owner))
	if _, _, err := s.conditional(ctx, itemKey, u, cond, types.ReturnValueNone); err != nil {
		return fmt.Errorf("dynamostore: mark alert %s digested: %w", itemKey, err)
	}
	return nil
}

// DueWindows queries the due index's digest queue and reads the windows it names.
func (q *Queues) DueWindows(ctx context.Context, through time.Time, limit int) ([]outbox.Window, error) {
	items, err := q.dueItems(ctx, state.QueueDigest, through, limit)
	ws, rerr := q.windows(ctx, items)
	if rerr != nil {
		return ws, rerr
	}
	return ws, err
}

// ClaimWindow closes the window and leases it to owner.
func (q *Queues) ClaimWindow(ctx context.Context, key, owner string, now time.Time, d time.Duration) (outbox.Window, bool, error) {
	u := held.Set(expression.Set(name(attrWinStatus), expression.Value(outbox.WindowClosed)), lease.Take(owner, now, d))
	cond := expression.AttributeExists(name(KeyAttribute)).And(expression.Or(
		expression.AttributeNotExists(name(attrWinStatus)),
		is(attrWinStatus, outbox.WindowClosed).And(held.Free(owner, now))))
	item, failed, err := q.conditional(ctx, key, u, cond, types.ReturnValueAllNew)
	if err != nil {
		return outbox.Window{}, false, fmt.Errorf("dynamostore: claim window %s: %w", key, err)
	}
	if failed {
		if old, err := readWindow(item); err != nil || old.Status != outbox.WindowSent {
			return outbox.Window{}, false, err
		}
	}
	ws, err := q.windows(ctx, []map[string]types.AttributeValue{item})
	if err != nil {
		return outbox.Window{}, false, err
	}
	return ws[0], true, nil
}

// MarkWindowSent records the digest's message id; the window stays due until FinishWindow.
func (q *Queues) MarkWindowSent(ctx context.Context, key, owner, messageID string) error {
	u := expression.Set(name(attrWinStatus), expression.Value(outbox.WindowSent)).
		Set(name(attrMsgID), expression.Value(messageID))
	u = held.Remove(u)
	cond := is(attrWinStatus, outbox.WindowClosed).And(held.HeldBy(owner))
	if _, _, err := q.conditional(ctx, key, u, cond, types.ReturnValueNone); err != nil {
		return fmt.Errorf("dynamostore: mark window sent %s: %w", key, err)
	}
	return nil
}

// MarkDigestedSent marks a member item sent with the digest's message id.
func (q *Queues) MarkDigestedSent(ctx context.Context, itemKey, windowKey, messageID string, at time.Time) error {
	u := expression.Set(name(attrAlert), expression.Value(state.AlertSent)).
		Set(name(attrMsgID), expression.Value(messageID)).
		Set(name(attrSentAt), expression.Value(at.UTC().Format(time.RFC3339Nano)))
	cond := is(attrAlert, state.AlertDigested).And(is(attrWindow, windowKey))
	if _, _, err := q.conditional(ctx, itemKey, u, cond, types.ReturnValueNone); err != nil {
		return fmt.Errorf("dynamostore: mark digested alert sent %s: %w", itemKey, err)
	}
	return nil
}

// FinishWindow takes a sent window out of the digest queue.
func (q *Queues) FinishWindow(ctx context.Context, key string) error {
	u := expression.Remove(name(DueQueueAttribute)).Remove(name(DueAtAttribute))
	if _, _, err := q.conditional(ctx, key, u, is(attrWinStatus, outbox.WindowSent), types.ReturnValueNone); err != nil {
		return fmt.Errorf("dynamostore: finish window %s: %w", key, err)
	}
	return nil
}

// windows decodes window items, each with its digest's entries: a member's
// mgtKey and code are read from its own item's alert (one BatchGetItem per
// 100 members), as the outbox routed them from it.
func (q *Queues) windows(ctx context.Context, items []map[string]types.AttributeValue) ([]outbox.Window, error) {
	ws := make([]outbox.Window, 0, len(items))
	var members [][]string
	var keys []string
	for _, item := range items {
		w, r, err := decodeWindow(item)
		if err != nil {
			return ws, err
		}
		var add []string
		for _, k := range r.Members {
			if !slices.ContainsFunc(w.Entries, func(e outbox.StormEntry) bool { return e.ItemKey == k }) && !slices.Contains(add, k) {
				add = append(add, k)
			}
		}
		ws, members, keys = append(ws, w), append(members, add), append(keys, add...)
	}
	read, err := q.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: read digest members: %w", err)
	}
	for i, add := range members {
		for _, k := range add {
			ws[i].Entries = append(ws[i].Entries, memberEntry(k, read[k]))
		}
	}
	return ws, nil
}

// memberEntry is a digest member's entry as its item's alert says; a member
// whose item or alert cannot be read is listed by its itemKey alone.
func memberEntry(itemKey string, item map[string]types.AttributeValue) outbox.StormEntry {
	e := outbox.StormEntry{ItemKey: itemKey, Kind: alert.KindFailure}
	var r record
	if item == nil || attributevalue.UnmarshalMap(item, &r) != nil {
		return e
	}
	e.MgtKey = r.MgtKey
	if f, err := alert.Decode([]byte(r.AlertPayload)); err == nil {
		e.MgtKey, e.Code, e.Kind = f.MgtKey, f.NTSResultCode, alert.KindOf(f)
	}
	return e
}

// decodeWindow reads a window's item: the entries it keeps itself (a window
// kept as it once was), the rest of its members left to windows.
func decodeWindow(item map[string]types.AttributeValue) (outbox.Window, window, error) {
	r, err := readWindow(item)
	if err != nil {
		return outbox.Window{}, r, err
	}
	if r.Start == nil || r.End == nil {
		return outbox.Window{}, r, fmt.Errorf("dynamostore: window %s has no numeric %s or %s", r.Key, attrWinStart, attrWinEnd)
	}
	w := outbox.Window{Key: r.Key, CorpNum: r.CorpNum, Start: time.UnixMilli(*r.Start), End: time.UnixMilli(*r.End),
		SentKeys: r.SentKeys, Status: r.Status, MessageID: r.MessageID}
	for _, raw := range r.Entries {
		var e outbox.StormEntry
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return outbox.Window{}, r, fmt.Errorf("dynamostore: window %s entry: %w", w.Key, err)
		}
		w.Entries = append(w.Entries, e)
	}
	slices.Sort(w.SentKeys)
	return w, r, nil
}
