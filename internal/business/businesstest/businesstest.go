// Package businesstest is the contract every business token store passes,
// run against each adapter by its own tests.
package businesstest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/business"
)

// Two businesses of the contract: valid numbers, each its own.
const (
	CorpA = "6798700433"
	CorpB = "2208162517"
)

// NewStore returns an empty store for one test.
type NewStore func(t *testing.T) business.Store

// clock is a settable now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// Run runs the contract on stores newStore makes.
func Run(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	setup := func(t *testing.T) (business.Store, *business.Resolver, *clock) {
		t.Helper()
		c := &clock{start}
		s := newStore(t)
		return s, business.NewResolver(s, c.now), c
	}
	issue := func(t *testing.T, s business.Store, corp string, now time.Time) string {
		t.Helper()
		raw, _, err := business.Issue(ctx, s, corp, now)
		if err != nil {
			t.Fatalf("Issue(%s): %v", corp, err)
		}
		return raw
	}
	resolves := func(t *testing.T, r *business.Resolver, token, want string) {
		t.Helper()
		got, err := r.Resolve(ctx, token)
		if err != nil {
			t.Fatalf("Resolve = %v, want business %s", err, want)
		}
		if got.CorpNum != want {
			t.Fatalf("Resolve = business %s, want %s", got.CorpNum, want)
		}
	}
	refused := func(t *testing.T, r *business.Resolver, token string) {
		t.Helper()
		if got, err := r.Resolve(ctx, token); !errors.Is(err, business.ErrUnknown) {
			t.Fatalf("Resolve = %+v, %v; want ErrUnknown", got, err)
		}
	}

	t.Run("a token resolves to the business it was issued for", func(t *testing.T) {
		s, r, _ := setup(t)
		resolves(t, r, issue(t, s, CorpA, start), CorpA)
	})
	t.Run("each business token resolves to its own business and never another", func(t *testing.T) {
		s, r, _ := setup(t)
		a, b := issue(t, s, CorpA, start), issue(t, s, CorpB, start)
		resolves(t, r, a, CorpA)
		resolves(t, r, b, CorpB)
	})
	t.Run("an unknown or malformed token is refused as unknown", func(t *testing.T) {
		s, r, _ := setup(t)
		issued := issue(t, s, CorpA, start)
		never, err := business.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{never, "", "short", issued + "x", issued[:len(issued)-1], business.Hash(issued), strings.ToUpper(issued)} {
			if tok == issued {
				continue
			}
			refused(t, r, tok)
		}
	})
	t.Run("a revoked token is refused at once as an unknown one is", func(t *testing.T) {
		s, r, c := setup(t)
		raw, tok, err := business.Issue(ctx, s, CorpA, start)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Revoke(ctx, tok.Hash, start.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		c.t = start.Add(time.Second)
		refused(t, r, raw)
		// A second revocation keeps the first time.
		if err := s.Revoke(ctx, tok.Hash, start.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, found, err := s.Get(ctx, tok.Hash)
		if err != nil || !found || !got.RevokedAt.Equal(start.Add(time.Minute)) {
			t.Fatalf("Get = %+v, %v, %v; want revoked at %v", got, found, err, start.Add(time.Minute))
		}
	})
	t.Run("revoking or limiting a token never issued is ErrNotFound", func(t *testing.T) {
		s, _, _ := setup(t)
		h := business.Hash("never-issued")
		if err := s.Revoke(ctx, h, start); !errors.Is(err, business.ErrNotFound) {
			t.Errorf("Revoke = %v, want ErrNotFound", err)
		}
		if err := s.Expire(ctx, h, start); !errors.Is(err, business.ErrNotFound) {
			t.Errorf("Expire = %v, want ErrNotFound", err)
		}
	})
	t.Run("after a rotation both tokens work for the overlap and then only the new one", func(t *testing.T) {
		s, r, c := setup(t)
		old := issue(t, s, CorpA, start)
		other := issue(t, s, CorpB, start)
		rotatedAt := start.Add(time.Hour)
		fresh, _, limited, err := business.Rotate(ctx, s, CorpA, 24*time.Hour, rotatedAt)
		if err != nil {
			t.Fatal(err)
		}
		if len(limited) != 1 || !limited[0].ValidUntil.Equal(rotatedAt.Add(24*time.Hour)) {
			t.Fatalf("Rotate limited %+v, want the old token until %v", limited, rotatedAt.Add(24*time.Hour))
		}
		c.t = rotatedAt.Add(23 * time.Hour)
		resolves(t, r, old, CorpA)
		resolves(t, r, fresh, CorpA)
		c.t = rotatedAt.Add(24 * time.Hour)
		refused(t, r, old)
		resolves(t, r, fresh, CorpA)
		resolves(t, r, other, CorpB) // another business's token is untouched
	})
	t.Run("a later overlap never extends an earlier end", func(t *testing.T) {
		s, _, _ := setup(t)
		_, tok, err := business.Issue(ctx, s, CorpA, start)
		if err != nil {
			t.Fatal(err)
		}
		early, late := start.Add(time.Hour), start.Add(48*time.Hour)
		if err := s.Expire(ctx, tok.Hash, early); err != nil {
			t.Fatal(err)
		}
		if err := s.Expire(ctx, tok.Hash, late); err != nil {
			t.Fatal(err)
		}
		got, _, err := s.Get(ctx, tok.Hash)
		if err != nil || !got.ValidUntil.Equal(early) {
			t.Fatalf("ValidUntil = %v (%v), want %v", got.ValidUntil, err, early)
		}
	})
	t.Run("the store keeps hashes and never the tokens themselves", func(t *testing.T) {
		s, _, _ := setup(t)
		raw := issue(t, s, CorpA, start)
		issue(t, s, CorpB, start)
		all, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 {
			t.Fatalf("List = %d tokens, want 2", len(all))
		}
		for _, tok := range all {
			if strings.Contains(tok.Hash, raw) || tok.Hash == raw {
				t.Fatalf("stored token %+v holds the token itself", tok)
			}
			if !tok.Created.Equal(start) {
				t.Errorf("Created = %v, want %v", tok.Created, start)
			}
		}
		if found, err := business.Find(ctx, s, business.Hash(raw)[:12]); err != nil || len(found) != 1 || found[0].CorpNum != CorpA {
			t.Fatalf("Find by ID = %+v, %v; want business A's token", found, err)
		}
	})
	t.Run("a business number that is not 10 digits gets no token", func(t *testing.T) {
		s, _, _ := setup(t)
		for _, corp := range []string{"", "123", "67987004330", "679870043a"} {
			if _, _, err := business.Issue(ctx, s, corp, start); err == nil {
				t.Errorf("Issue(%q) succeeded", corp)
			}
		}
		raw, tok, err := business.Issue(ctx, s, "679-87-00433", start)
		if err != nil || tok.CorpNum != CorpA || raw == "" {
			t.Fatalf("Issue(679-87-00433) = %+v, %v; want business %s", tok, err, CorpA)
		}
	})
}
