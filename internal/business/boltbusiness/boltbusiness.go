// Package boltbusiness is the embedded adapter of the business token store,
// in the local server's bbolt file beside the state: one JSON value per
// token, keyed by the token's hash.
package boltbusiness

import (
	"context"
	"encoding/json"

	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/popbill-cashbill-webhook/receiver/internal/business"
)

var bucket = []byte("business-tokens")

// Store implements business.Store on an open bbolt file.
type Store struct{ db *bolt.DB }

var _ business.Store = (*Store)(nil)

// New returns the store in db, creating its bucket unless db is read-only (a
// read-only file without it reads as holding no token). The caller owns db.
func New(db *bolt.DB) (*Store, error) {
	if !db.IsReadOnly() {
		if err := db.Update(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(bucket)
			return err
		}); err != nil {
			return nil, fmt.Errorf("boltbusiness: create bucket: %w", err)
		}
	}
	return &Store{db: db}, nil
}

// Get returns the token with hash, and false when there is none.
func (s *Store) Get(ctx context.Context, hash string) (business.Token, bool, error) {
	var t business.Token
	found := false
	err := s.view(ctx, func(b *bolt.Bucket) error {
		v := b.Get([]byte(hash))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &t)
	})
	return t, found, err
}

// Create stores t unless a token with its hash exists.
func (s *Store) Create(ctx context.Context, t business.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	v, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b.Get([]byte(t.Hash)) != nil {
			return fmt.Errorf("boltbusiness: token %s exists", t.ID())
		}
		return b.Put([]byte(t.Hash), v)
	})
}

// Revoke sets the token's RevokedAt, unless it is set.
func (s *Store) Revoke(ctx context.Context, hash string, at time.Time) error {
	return s.update(ctx, hash, func(t *business.Token) {
		if t.RevokedAt.IsZero() {
			t.RevokedAt = business.Second(at)
		}
	})
}

// Expire sets the token's ValidUntil, unless it ends sooner.
func (s *Store) Expire(ctx context.Context, hash string, until time.Time) error {
	until = business.Second(until)
	return s.update(ctx, hash, func(t *business.Token) {
		if t.ValidUntil.IsZero() || until.Before(t.ValidUntil) {
			t.ValidUntil = business.Second(until)
		}
	})
}

// List returns every token, ordered by hash.
func (s *Store) List(ctx context.Context) ([]business.Token, error) {
	var out []business.Token
	err := s.view(ctx, func(b *bolt.Bucket) error {
		return b.ForEach(func(_, v []byte) error {
			var t business.Token
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

func (s *Store) update(ctx context.Context, hash string, change func(*business.Token)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		v := b.Get([]byte(hash))
		if v == nil {
			return business.ErrNotFound
		}
		var t business.Token
		if err := json.Unmarshal(v, &t); err != nil {
			return err
		}
		change(&t)
		out, err := json.Marshal(t)
		if err != nil {
			return err
		}
		return b.Put([]byte(hash), out)
	})
}

func (s *Store) view(ctx context.Context, fn func(*bolt.Bucket) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return fn(b)
	})
}
