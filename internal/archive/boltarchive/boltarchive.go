// Package boltarchive is the embedded adapter of the delivery archive, in the
// local server's bbolt file beside the state (its own buckets): one JSON value
// per delivery keyed by its time-sorted ID, and two index buckets (by itemKey,
// by business number and mgtKey) whose keys end in that ID, so every lookup
// is a cursor over a key range, never a pass over the whole archive.
package boltarchive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
)

var (
	deliveries = []byte("deliveries")
	byItem     = []byte("deliveries-by-item")
	byMgtKey   = []byte("deliveries-by-mgtkey")
)

// Archive implements archive.Recorder and archive.Reader on an open bbolt file.
type Archive struct {
	db  *bolt.DB
	now func() time.Time
}

var (
	_ archive.Recorder = (*Archive)(nil)
	_ archive.Reader   = (*Archive)(nil)
)

// New returns the archive in db, creating its buckets unless db is read-only
// (a read-only file without them reads as an empty archive). The caller owns
// db and closes it.
func New(db *bolt.DB) (*Archive, error) {
	if !db.IsReadOnly() {
		err := db.Update(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{deliveries, byItem, byMgtKey} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("boltarchive: create buckets: %w", err)
		}
	}
	return &Archive{db: db, now: time.Now}, nil
}

// indexKey is prefix, a 0 byte (which no itemKey, business number or mgtKey
// holds) and the delivery's ID.
func indexKey(prefix, id string) []byte {
	return append(append([]byte(prefix), 0), id...)
}

// Record stores d and its index entries in one transaction.
func (a *Archive) Record(ctx context.Context, d archive.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.ID == "" {
		return errors.New("boltarchive: a delivery without an ID")
	}
	v, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("boltarchive: encode %s: %w", d.ID, err)
	}
	// Batch: concurrent deliveries share one commit and one fsync. The
	// function may run twice; it is idempotent.
	return a.db.Batch(func(tx *bolt.Tx) error {
		main := tx.Bucket(deliveries)
		if main.Get([]byte(d.ID)) != nil {
			// Kept as first written, as DynamoDB's conditional put does.
			return nil
		}
		if err := main.Put([]byte(d.ID), v); err != nil {
			return err
		}
		if d.ItemKey != "" {
			if err := tx.Bucket(byItem).Put(indexKey(d.ItemKey, d.ID), nil); err != nil {
				return err
			}
		}
		if d.CorpNum != "" && d.MgtKey != "" {
			return tx.Bucket(byMgtKey).Put(indexKey(d.CorpNum+"#"+d.MgtKey, d.ID), nil)
		}
		return nil
	})
}

// view runs fn in a read transaction; a file without the archive's buckets
// (opened read-only before the receiver ever archived) reads as empty.
func (a *Archive) view(ctx context.Context, fn func(main, items, mgt *bolt.Bucket) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return a.db.View(func(tx *bolt.Tx) error {
		main := tx.Bucket(deliveries)
		if main == nil {
			return nil
		}
		return fn(main, tx.Bucket(byItem), tx.Bucket(byMgtKey))
	})
}

func (a *Archive) load(main *bolt.Bucket, id []byte) (archive.Delivery, bool, error) {
	v := main.Get(id)
	if v == nil {
		return archive.Delivery{}, false, nil
	}
	var d archive.Delivery
	if err := json.Unmarshal(v, &d); err != nil {
		return archive.Delivery{}, false, fmt.Errorf("boltarchive: decode %s: %w", id, err)
	}
	// DynamoDB drops expired items within days; here they are hidden at once.
	if !d.ExpiresAt.IsZero() && d.ExpiresAt.Before(a.now()) {
		return archive.Delivery{}, false, nil
	}
	return d, true, nil
}

// Get returns one delivery.
func (a *Archive) Get(ctx context.Context, id string) (archive.Delivery, bool, error) {
	var (
		d     archive.Delivery
		found bool
	)
	err := a.view(ctx, func(main, _, _ *bolt.Bucket) error {
		var err error
		d, found, err = a.load(main, []byte(id))
		return err
	})
	return d, found, err
}

// ByItem returns one cashbill's deliveries, newest first.
func (a *Archive) ByItem(ctx context.Context, itemKey string, limit int) ([]archive.Delivery, error) {
	return a.indexed(ctx, func(_, items, _ *bolt.Bucket) *bolt.Bucket { return items }, itemKey, limit)
}

// ByMgtKey returns one document's deliveries, newest first.
func (a *Archive) ByMgtKey(ctx context.Context, corpNum, mgtKey string, limit int) ([]archive.Delivery, error) {
	return a.indexed(ctx, func(_, _, mgt *bolt.Bucket) *bolt.Bucket { return mgt }, corpNum+"#"+mgtKey, limit)
}

// indexed walks the index entries under prefix backwards (newest ID first).
func (a *Archive) indexed(ctx context.Context, pick func(main, items, mgt *bolt.Bucket) *bolt.Bucket, prefix string, limit int) ([]archive.Delivery, error) {
	limit = archive.Limit(limit)
	var out []archive.Delivery
	err := a.view(ctx, func(main, items, mgt *bolt.Bucket) error {
		idx := pick(main, items, mgt)
		start := indexKey(prefix, "")
		c := idx.Cursor()
		// The last key of the prefix is just before prefix+1 (0 is followed by 1).
		k, _ := c.Seek(append([]byte(prefix), 1))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, start) && len(out) < limit; k, _ = c.Prev() {
			d, found, err := a.load(main, k[len(start):])
			if err != nil {
				return err
			}
			if found {
				out = append(out, d)
			}
		}
		return nil
	})
	return out, err
}

// Window walks the IDs of q's time window backwards.
func (a *Archive) Window(ctx context.Context, q archive.Query) ([]archive.Delivery, error) {
	limit := archive.Limit(q.Limit)
	from, to := []byte(archive.IDBound(q.From)), []byte(archive.IDBound(q.To))
	var out []archive.Delivery
	err := a.view(ctx, func(main, _, _ *bolt.Bucket) error {
		c := main.Cursor()
		k, _ := c.Seek(to)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.Compare(k, from) >= 0 && len(out) < limit; k, _ = c.Prev() {
			d, found, err := a.load(main, k)
			if err != nil {
				return err
			}
			if found && q.Matches(d) {
				out = append(out, d)
			}
		}
		return nil
	})
	return out, err
}
