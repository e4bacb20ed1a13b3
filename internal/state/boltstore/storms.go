package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/popbill-cashbill-webhook/receiver/internal/lease"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// stormBucket holds the storm windows by outbox.WindowKey; a window owed a
// digest is in the due bucket under state.QueueDigest, as items are in theirs.
var stormBucket = []byte("storms")

var _ outbox.Storms = (*Store)(nil)

// window is a stored window with its lease.
type window struct {
	outbox.Window
	LeaseOwner string    `json:",omitempty"`
	LeaseUntil time.Time `json:",omitzero"`
	Due        bool      `json:",omitempty"`
}

func windowDueKey(w window) []byte {
	return fmt.Appendf(nil, "%s|%016d|%s", state.QueueDigest, w.End.UnixMilli(), w.Key)
}

// changeWindow runs fn on the window under key in one transaction and saves
// it, keeping its due entry in step.
func (s *Store) changeWindow(ctx context.Context, key string, fn func(w *window, found bool) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(stormBucket)
		if err != nil {
			return err
		}
		var w window
		v := b.Get([]byte(key))
		if v != nil {
			if err := json.Unmarshal(v, &w); err != nil {
				return fmt.Errorf("boltstore: decode window %s: %w", key, err)
			}
		}
		if err := fn(&w, v != nil); err != nil {
			return err
		}
		due := tx.Bucket(dueBucket)
		if w.Due {
			err = due.Put(windowDueKey(w), []byte{})
		} else {
			err = due.Delete(windowDueKey(w))
		}
		if err != nil {
			return err
		}
		out, err := json.Marshal(w)
		if err != nil {
			return fmt.Errorf("boltstore: encode window %s: %w", key, err)
		}
		return b.Put([]byte(key), out)
	})
	if err == errUnchanged {
		return nil
	}
	return err
}

// RouteAlert counts e in corp's window, or adds it to the window's digest
// and then marks the item digested, as the DynamoDB adapter does.
func (s *Store) RouteAlert(ctx context.Context, corp string, start time.Time, size time.Duration, threshold int, owner string, e outbox.StormEntry) (outbox.Routed, error) {
	for range 4 {
		key := outbox.WindowKey(corp, start)
		var closed, digested bool
		err := s.changeWindow(ctx, key, func(w *window, found bool) error {
			if !found {
				w.Key, w.CorpNum, w.Start, w.End = key, corp, start.UTC(), start.Add(size).UTC()
			}
			switch {
			case w.Status != outbox.WindowOpen:
				closed = true
				return errUnchanged
			case slices.Contains(w.SentKeys, e.ItemKey):
				return errUnchanged
			case len(w.SentKeys) < threshold:
				w.SentKeys = append(w.SentKeys, e.ItemKey)
				return nil
			}
			if slices.ContainsFunc(w.Entries, func(x outbox.StormEntry) bool { return x.ItemKey == e.ItemKey }) {
				digested = true
				return errUnchanged
			}
			if len(w.Entries) >= outbox.MaxDigestEntries {
				return errUnchanged // full: published one by one
			}
			digested = true
			w.Entries, w.Due = append(w.Entries, e), true
			return nil
		})
		switch {
		case err != nil:
			return outbox.Routed{}, err
		case closed:
			start = start.Add(size)
			continue
		case !digested:
			return outbox.Routed{WindowKey: key}, nil
		}
		err = s.change(ctx, e.ItemKey, func(r *leasedItem, found bool) error {
			if !found || r.AlertStatus != state.AlertPending || r.LeaseOwner != owner {
				return errUnchanged
			}
			r.AlertStatus, r.AlertWindow = state.AlertDigested, key
			r.LeaseOwner, r.LeaseUntil, r.DueQueue, r.DueAt = "", time.Time{}, "", time.Time{}
			return nil
		})
		return outbox.Routed{Digested: true, WindowKey: key}, err
	}
	return outbox.Routed{}, fmt.Errorf("boltstore: route alert %s: 4 windows in a row were closed", e.ItemKey)
}

// DueWindows reads the due bucket's digest queue.
func (s *Store) DueWindows(ctx context.Context, through time.Time, limit int) ([]outbox.Window, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []outbox.Window
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(stormBucket)
		if b == nil {
			return nil
		}
		prefix := []byte(state.QueueDigest + "|")
		last := fmt.Appendf(nil, "%s|%016d|~", state.QueueDigest, through.UnixMilli())
		c := tx.Bucket(dueBucket).Cursor()
		for k, _ := c.Seek(prefix); k != nil && len(out) < limit && string(k[:len(prefix)]) == string(prefix) && string(k) <= string(last); k, _ = c.Next() {
			key := k[len(prefix)+17:]
			var w window
			if v := b.Get(key); v != nil {
				if err := json.Unmarshal(v, &w); err != nil {
					return fmt.Errorf("boltstore: decode window %s: %w", key, err)
				}
				out = append(out, w.Window)
			}
		}
		return nil
	})
	return out, err
}

// ClaimWindow closes the window and leases it to owner.
func (s *Store) ClaimWindow(ctx context.Context, key, owner string, now time.Time, d time.Duration) (outbox.Window, bool, error) {
	var (
		got outbox.Window
		ok  bool
	)
	err := s.changeWindow(ctx, key, func(w *window, found bool) error {
		switch {
		case !found:
			return errUnchanged
		case w.Status == outbox.WindowSent:
			got, ok = w.Window, true
			return errUnchanged
		case w.Status == outbox.WindowClosed && lease.Lease{Owner: w.LeaseOwner, Until: w.LeaseUntil}.HeldAgainst(owner, now):
			return errUnchanged
		}
		l := lease.Take(owner, now, d)
		w.Status, w.LeaseOwner, w.LeaseUntil = outbox.WindowClosed, l.Owner, l.Until
		got, ok = w.Window, true
		return nil
	})
	return got, ok, err
}

// MarkWindowSent records owner's publish of the digest.
func (s *Store) MarkWindowSent(ctx context.Context, key, owner, messageID string) error {
	return s.changeWindow(ctx, key, func(w *window, found bool) error {
		if !found || w.Status != outbox.WindowClosed || w.LeaseOwner != owner {
			return errUnchanged
		}
		w.Status, w.MessageID, w.LeaseOwner, w.LeaseUntil = outbox.WindowSent, messageID, "", time.Time{}
		return nil
	})
}

// MarkDigestedSent marks a member item sent with the digest's message id.
func (s *Store) MarkDigestedSent(ctx context.Context, itemKey, windowKey, messageID string, at time.Time) error {
	return s.markSent(ctx, itemKey, messageID, at, func(r *leasedItem) bool {
		return r.AlertStatus == state.AlertDigested && r.AlertWindow == windowKey
	})
}

// FinishWindow takes a sent window out of the digest queue.
func (s *Store) FinishWindow(ctx context.Context, key string) error {
	return s.changeWindow(ctx, key, func(w *window, found bool) error {
		if !found || w.Status != outbox.WindowSent {
			return errUnchanged
		}
		w.Due = false
		return nil
	})
}
