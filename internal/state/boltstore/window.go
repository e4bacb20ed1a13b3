package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// sweepBucket keeps the watchdog's watermark on the result queue, under
// watermarkKey, as JSON.
var (
	sweepBucket  = []byte("sweep")
	watermarkKey = []byte("result")
)

// resultPrefix is the result queue's part of dueBucket.
var resultPrefix = []byte(state.QueueResult + "|")

// ResultEntries reads the result queue's index after after, through
// through, in key order, with each entry's item.
func (s *Store) ResultEntries(ctx context.Context, after state.Position, through time.Time, limit int) ([]state.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []state.Entry
	last := fmt.Appendf(nil, "%s|%016d|~", state.QueueResult, through.UnixMilli())
	err := s.db.View(func(tx *bolt.Tx) error {
		due := tx.Bucket(dueBucket)
		if due == nil {
			return nil
		}
		c := due.Cursor()
		k, _ := c.Seek(resultPrefix)
		if !after.DueAt.IsZero() {
			from := fmt.Appendf(nil, "%s|%016d|%s", state.QueueResult, after.DueAt.UnixMilli(), after.ItemKey)
			if k, _ = c.Seek(from); after.ItemKey != "" && bytes.Equal(k, from) {
				k, _ = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, resultPrefix) && bytes.Compare(k, last) <= 0 && len(out) < limit; k, _ = c.Next() {
			e, err := entry(tx, k)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// entry reads the dueBucket key k of the result queue and its item.
func entry(tx *bolt.Tx, k []byte) (state.Entry, error) {
	parts := bytes.SplitN(k, []byte("|"), 3)
	ms, err := strconv.ParseInt(string(parts[1]), 10, 64)
	if err != nil {
		return state.Entry{}, fmt.Errorf("boltstore: due key %q: %w", k, err)
	}
	itemKey := string(parts[2])
	e := state.Entry{At: state.Position{DueAt: time.UnixMilli(ms), ItemKey: itemKey}, Item: state.Item{Event: cashbill.Event{ItemKey: itemKey}}}
	r, found, err := load(tx.Bucket(bucket), itemKey)
	if err != nil || !found {
		return e, err
	}
	e.Item, e.Found = r.view(), true
	return e, nil
}

// awaiting is Due of the result queue: the items still awaiting their
// result, from the watermark's DueAt on.
func (s *Store) awaiting(ctx context.Context, through time.Time, limit int) ([]state.Item, error) {
	from := state.Position{}
	mark, ok, err := s.ResultWatermark(ctx)
	if err != nil {
		return nil, err
	}
	if ok {
		// The watchdog re-examines that far behind its watermark.
		from.DueAt = mark.DueAt.Add(-state.ResultOverlap)
	}
	entries, err := s.ResultEntries(ctx, from, through, int(^uint(0)>>1))
	var out []state.Item
	for _, e := range entries {
		if e.Found && e.Item.AwaitingResult() && len(out) < limit {
			out = append(out, e.Item)
		}
	}
	return out, err
}

// watermark is the stored watermark.
type watermark struct {
	DueAt   time.Time `json:"dueAt"`
	ItemKey string    `json:"itemKey"`
}

// ResultWatermark reads the stored watermark.
func (s *Store) ResultWatermark(ctx context.Context) (state.Position, bool, error) {
	if err := ctx.Err(); err != nil {
		return state.Position{}, false, err
	}
	var (
		w     watermark
		found bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(sweepBucket)
		if b == nil {
			return nil
		}
		v := b.Get(watermarkKey)
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &w)
	})
	if err != nil {
		return state.Position{}, false, fmt.Errorf("boltstore: read watermark: %w", err)
	}
	return state.Position{DueAt: w.DueAt, ItemKey: w.ItemKey}, found, nil
}

// AdvanceResultWatermark stores p unless the stored watermark has a later
// DueAt, in one write transaction.
func (s *Store) AdvanceResultWatermark(ctx context.Context, p state.Position) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(sweepBucket)
		if err != nil {
			return err
		}
		if v := b.Get(watermarkKey); v != nil {
			var w watermark
			if err := json.Unmarshal(v, &w); err != nil {
				return fmt.Errorf("boltstore: read watermark: %w", err)
			}
			if w.DueAt.UnixMilli() > p.DueAt.UnixMilli() {
				return nil // never back in time
			}
		}
		v, err := json.Marshal(watermark{DueAt: p.DueAt.UTC(), ItemKey: p.ItemKey})
		if err != nil {
			return err
		}
		return b.Put(watermarkKey, v)
	})
}
