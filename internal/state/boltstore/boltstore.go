// Package boltstore is the embedded adapter of the state store, for running the
// receiver on a workstation with no AWS account: one bbolt file, one JSON value
// per cashbill. bbolt serialises write transactions, which gives it the same
// conditional-write guarantees the DynamoDB adapter gets from condition
// expressions, and each write returns only once its commit is fsynced, so state
// survives a restart; concurrent writes are grouped into one commit (DB.Batch).
package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/lease"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

var (
	bucket = []byte("cashbills")
	// dueBucket is the queues' index, kept in the same transaction as the
	// items: key "<queue>|<dueAt, unix ms, 16 digits>|<itemKey>", no value.
	dueBucket = []byte("due")
)

// Store implements state.Store in a bbolt file.
type Store struct{ db *bolt.DB }

var (
	_ state.Store  = (*Store)(nil)
	_ state.Reader = (*Store)(nil)
	_ state.Queues = (*Store)(nil)
)

// leasedItem is the stored form of a state.Item: the item plus its alert lease.
type leasedItem struct {
	state.Item
	AlertPayload []byte    `json:",omitempty"`
	LeaseOwner   string    `json:",omitempty"`
	LeaseUntil   time.Time `json:",omitzero"`
}

// Option changes how Open sets up the file.
type Option func(*bolt.DB)

// NotDurable skips the fsync of each commit and bbolt's batch delay (10 ms per
// sequential write), for tests that do not test durability: a crash may lose
// the last commits, which a test's temporary file does not outlive anyway.
func NotDurable() Option {
	return func(db *bolt.DB) {
		db.NoSync = true
		db.MaxBatchDelay = 0
	}
}

// Open opens or creates the store file, creating its folder if needed.
func Open(path string, opts ...Option) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("boltstore: create folder for %s: %w", path, err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s (is another receiver using it?): %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(dueBucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: init %s: %w", path, err)
	}
	// Writes go through db.Batch (the delivery archive's too: same file).
	// A batch commits after bbolt's MaxBatchDelay (10 ms) or as soon as it
	// holds MaxBatchSize writes: 32 instead of 1,000 lets a busy server
	// commit without waiting out the delay (make loadtest, 64 workers: 2,650-
	// 3,550 deliveries/s at p99 37-56 ms, against 1,800 at p99 70 ms), while
	// a quiet one still groups. A shorter delay measured worse: 1 ms made
	// more, smaller commits, 2.7x the server's CPU and half the throughput.
	db.MaxBatchSize = 32
	for _, o := range opts {
		o(db)
	}
	return &Store{db: db}, nil
}

// Wrap returns the store in a file the caller has opened (and closes), such
// as the operator tool's read-only one; a read-only file is only read.
func Wrap(db *bolt.DB) (*Store, error) {
	if !db.IsReadOnly() {
		if err := db.Update(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(bucket)
			return err
		}); err != nil {
			return nil, fmt.Errorf("boltstore: init: %w", err)
		}
	}
	return &Store{db: db}, nil
}

// Close releases the file.
func (s *Store) Close() error { return s.db.Close() }

// DB is the open file, for the other buckets kept in it (the delivery
// archive): bbolt lets one process open a file once.
func (s *Store) DB() *bolt.DB { return s.db }

func load(b *bolt.Bucket, itemKey string) (leasedItem, bool, error) {
	v := b.Get([]byte(itemKey))
	if v == nil {
		return leasedItem{}, false, nil
	}
	var r leasedItem
	if err := json.Unmarshal(v, &r); err != nil {
		return leasedItem{}, false, fmt.Errorf("boltstore: decode %s: %w", itemKey, err)
	}
	return r, true, nil
}

func save(b *bolt.Bucket, r leasedItem) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("boltstore: encode %s: %w", r.Event.ItemKey, err)
	}
	return b.Put([]byte(r.Event.ItemKey), v)
}

// dueKey is the item's key in dueBucket, nil when it is in no queue.
func dueKey(it state.Item) []byte {
	if it.DueQueue == "" {
		return nil
	}
	return fmt.Appendf(nil, "%s|%016d|%s", it.DueQueue, it.DueAt.UnixMilli(), it.Event.ItemKey)
}

// errUnchanged is fn's way to leave the item as it was.
var errUnchanged = errors.New("unchanged")

// change runs fn on the item in one write transaction; fn returns
// errUnchanged to leave the item as it was.
func (s *Store) change(ctx context.Context, itemKey string, fn func(r *leasedItem, found bool) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Batch: concurrent deliveries' changes share one transaction and one
	// fsync; each call returns once the commit is on disk. fn may run more
	// than once (bbolt reruns a batch when one of its functions fails), so
	// every fn sets what it reports on each path. errUnchanged is not an
	// error here: it would roll back and rerun the whole batch.
	return s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		r, found, err := load(b, itemKey)
		if err != nil {
			return err
		}
		before := dueKey(r.Item)
		if err := fn(&r, found); errors.Is(err, errUnchanged) {
			return nil
		} else if err != nil {
			return err
		}
		if after := dueKey(r.Item); found && before != nil && string(after) != string(before) {
			if err := tx.Bucket(dueBucket).Delete(before); err != nil {
				return err
			}
		}
		if after := dueKey(r.Item); after != nil {
			if err := tx.Bucket(dueBucket).Put(after, []byte{}); err != nil {
				return err
			}
		}
		return save(b, r)
	})
}

// Apply stores r when the item is new or its stateCode is smaller.
func (s *Store) Apply(ctx context.Context, in state.Delivery) (state.Result, error) {
	var res state.Result
	err := s.change(ctx, in.Event.ItemKey, func(r *leasedItem, found bool) error {
		owesFailure := in.Alert != nil && !state.FailureRecorded(r.AlertKind, r.AlertStatus)
		if found && r.Event.StateCode >= in.Event.StateCode {
			res = state.Result{Outcome: state.Stale, StateCode: r.Event.StateCode}
			if r.Event.StateCode == in.Event.StateCode {
				res.Outcome = state.Duplicate
			}
			if !owesFailure {
				res.AlertPending = r.AlertStatus == state.AlertPending
				return errUnchanged
			}
			// A 305 that does not raise the state still owes its alert.
			r.setFailureAlert(in)
			res.AlertPending, res.AlertClaimed = true, in.AlertOwner != ""
			return nil
		}
		previous := r.Event.StateCode
		r.Event, r.MID, r.ReceivedAt, r.Extra = in.Event, in.MID, in.ReceivedAt.UTC(), in.Extra()
		switch {
		case owesFailure:
			r.setFailureAlert(in)
		case in.Event.StateCode == cashbill.StateIssued && r.DueQueue == "":
			r.DueQueue, r.DueAt = state.QueueResult, state.ResultDueAt(in.Event, in.ReceivedAt)
		}
		res = state.Result{Outcome: state.Stored, StateCode: in.Event.StateCode, AlertPending: r.AlertStatus == state.AlertPending}
		res.PreviousStateCode = previous // 0 when not found
		res.AlertClaimed = owesFailure && in.AlertOwner != ""
		return nil
	})
	return res, err
}

// setFailureAlert fills the slot with in's pending failure alert, replacing an
// overdue alert with its lease and record; the lease is in's AlertOwner's
// when it has one.
func (r *leasedItem) setFailureAlert(in state.Delivery) {
	r.setPendingAlert(alert.KindFailure, in.Alert, in.ReceivedAt)
	r.LeaseOwner, r.LeaseUntil, r.AlertMessageID, r.AlertSentAt = "", time.Time{}, "", time.Time{}
	if in.AlertOwner != "" {
		r.LeaseOwner, r.LeaseUntil = in.AlertOwner, in.AlertLeaseUntil
	}
}

// setPendingAlert fills the slot and puts the item in the alert queue.
func (r *leasedItem) setPendingAlert(kind alert.Kind, payload []byte, owedAt time.Time) {
	r.AlertKind, r.AlertStatus, r.AlertPayload = kind, state.AlertPending, payload
	r.DueQueue, r.DueAt = state.QueueAlert, owedAt.UTC()
}

// ClaimAlert leases a pending alert whose lease is free, expired, or owner's.
func (s *Store) ClaimAlert(ctx context.Context, itemKey, owner string, now time.Time, d time.Duration) (state.Claim, error) {
	var c state.Claim
	err := s.change(ctx, itemKey, func(r *leasedItem, found bool) error {
		switch {
		case !found || r.AlertStatus == "":
			c = state.Claim{Status: state.NothingOwed}
			return errUnchanged
		case r.AlertStatus == state.AlertSent:
			c = state.Claim{Status: state.AlreadySent, MessageID: r.AlertMessageID}
			return errUnchanged
		case r.AlertStatus == state.AlertDigested:
			c = state.Claim{Status: state.InDigest}
			return errUnchanged
		case lease.Lease{Owner: r.LeaseOwner, Until: r.LeaseUntil}.HeldAgainst(owner, now):
			c = state.Claim{Status: state.HeldByAnother, HeldBy: r.LeaseOwner, HeldUntil: r.LeaseUntil}
			return errUnchanged
		}
		l := lease.Take(owner, now, d)
		r.LeaseOwner, r.LeaseUntil = l.Owner, l.Until
		c = state.Claim{Status: state.Claimed, Payload: r.AlertPayload}
		return nil
	})
	if err != nil {
		return state.Claim{}, err
	}
	return c, nil
}

// ReleaseAlert drops owner's lease, if it still holds it.
func (s *Store) ReleaseAlert(ctx context.Context, itemKey, owner string) error {
	return s.change(ctx, itemKey, func(r *leasedItem, found bool) error {
		if !found || r.LeaseOwner != owner {
			return errUnchanged
		}
		r.LeaseOwner, r.LeaseUntil = "", time.Time{}
		return nil
	})
}

// MarkAlertSent records owner's publish of a pending alert.
func (s *Store) MarkAlertSent(ctx context.Context, itemKey, owner, messageID string, at time.Time) error {
	return s.markSent(ctx, itemKey, messageID, at, func(r *leasedItem) bool {
		return r.AlertStatus == state.AlertPending && r.LeaseOwner == owner
	})
}

// markSent records a publish with messageID on the item if mine says the
// alert is the caller's to mark.
func (s *Store) markSent(ctx context.Context, itemKey, messageID string, at time.Time, mine func(r *leasedItem) bool) error {
	return s.change(ctx, itemKey, func(r *leasedItem, found bool) error {
		if !found || !mine(r) {
			return errUnchanged
		}
		r.AlertStatus, r.AlertMessageID, r.AlertSentAt = state.AlertSent, messageID, at.UTC()
		r.LeaseOwner, r.LeaseUntil = "", time.Time{}
		r.DueQueue, r.DueAt = "", time.Time{}
		return nil
	})
}

// Get returns the stored item.
func (s *Store) Get(ctx context.Context, itemKey string) (state.Item, bool, error) {
	if err := ctx.Err(); err != nil {
		return state.Item{}, false, err
	}
	var (
		r     leasedItem
		found bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			// A read-only file the receiver never wrote to.
			return nil
		}
		var err error
		r, found, err = load(b, itemKey)
		return err
	})
	return r.view(), found, err
}

// view is the item as readers see it: with its alert's lease and payload.
func (r leasedItem) view() state.Item {
	it := r.Item
	it.AlertLeaseOwner, it.AlertLeaseUntil, it.AlertPayload = r.LeaseOwner, r.LeaseUntil, r.AlertPayload
	return it
}

// Due reads the queue's index in key order, which is dueAt order.
func (s *Store) Due(ctx context.Context, queue string, through time.Time, limit int) ([]state.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if queue == state.QueueResult {
		return s.awaiting(ctx, through, limit)
	}
	var out []state.Item
	prefix := []byte(queue + "|")
	last := fmt.Appendf(nil, "%s|%016d|~", queue, through.UnixMilli())
	err := s.db.View(func(tx *bolt.Tx) error {
		due := tx.Bucket(dueBucket)
		if due == nil {
			// A read-only file written before the queues existed.
			return nil
		}
		c := due.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && bytes.Compare(k, last) <= 0 && len(out) < limit; k, _ = c.Next() {
			itemKey := string(k[bytes.LastIndexByte(k, '|')+1:])
			r, found, err := load(tx.Bucket(bucket), itemKey)
			if err != nil {
				return err
			}
			if found {
				out = append(out, r.view())
			}
		}
		return nil
	})
	return out, err
}

// RaiseOverdue raises the overdue alert of an item still awaiting its result
// with an empty slot; it changes nothing otherwise.
func (s *Store) RaiseOverdue(ctx context.Context, itemKey string, payload []byte, now time.Time) (state.OverdueOutcome, error) {
	var out state.OverdueOutcome
	err := s.change(ctx, itemKey, func(r *leasedItem, found bool) error {
		switch {
		case !found || r.DueQueue != state.QueueResult:
			out = state.OverdueNotOwed
			return errUnchanged
		case !r.Item.AwaitingResult():
			out = state.ResultKnown
			return errUnchanged
		}
		r.setPendingAlert(alert.KindOverdue, payload, now)
		out = state.OverdueRaised
		return nil
	})
	return out, err
}
