// Package business binds POPBiLL's Individual Webhooks to client businesses:
// each business gets its own webhook address, POST /pbconnect/{token}, where
// token is a long random capability issued for that one business number. An
// event that arrives at a business's address for another business number is
// refused, so a leaked address can write only its own business's state.
//
// Tokens are kept hashed (SHA-256): the store never holds one, a log line or
// an archived delivery never shows one, and a lookup compares hashes in
// constant time. An unknown, revoked or expired token is one answer, ErrUnknown.
//
// Adapters of the Store port: dynamobusiness (production) and boltbusiness
// (the local server's bbolt file). Both pass the contract in businesstest.
package business

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// TokenBytes is a token's length before encoding: 256 random bits.
const TokenBytes = 32

// ErrUnknown is the one answer for a token that is not valid: never issued,
// revoked, past its rotation overlap, or not even of a token's form.
var ErrUnknown = errors.New("unknown, revoked or expired token")

// Token is one issued token as stored: its hash, never itself.
type Token struct {
	// Hash is the token's SHA-256, hex: the store's key.
	Hash    string    `json:"tokenHash"`
	CorpNum string    `json:"corpNum"`
	Created time.Time `json:"createdAt"`
	// RevokedAt, when set, is when the token stopped being valid at once.
	RevokedAt time.Time `json:"revokedAt,omitzero"`
	// ValidUntil, when set, is the end of a rotation's overlap: the token is
	// valid before it and not after.
	ValidUntil time.Time `json:"validUntil,omitzero"`
}

// ID is the short name a person refers to the token by (list, revoke): the
// start of its hash, which tells nothing about the token.
func (t Token) ID() string {
	if len(t.Hash) < 12 {
		return t.Hash
	}
	return t.Hash[:12]
}

// Valid reports whether the token is accepted at now.
func (t Token) Valid(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ValidUntil.IsZero() || now.Before(t.ValidUntil))
}

// State names the token's state at now, for people: active, until ..., revoked, expired.
func (t Token) State(now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked"
	case !t.ValidUntil.IsZero() && !now.Before(t.ValidUntil):
		return "expired"
	case !t.ValidUntil.IsZero():
		return "rotating"
	}
	return "active"
}

// Lookup finds a token by its hash: the one call the webhook makes.
type Lookup interface {
	Get(ctx context.Context, hash string) (Token, bool, error)
}

// Store is the token store the operators' tool manages.
type Store interface {
	Lookup
	// Create stores a new token; it fails if one with its hash exists.
	Create(ctx context.Context, t Token) error
	// Revoke ends the token at once, at at. Revoking a revoked token keeps
	// the first time. A hash not stored is ErrNotFound.
	Revoke(ctx context.Context, hash string, at time.Time) error
	// Expire ends the token at until (a rotation's overlap), unless it
	// already ends sooner. A hash not stored is ErrNotFound.
	Expire(ctx context.Context, hash string, until time.Time) error
	// List returns every token, of every business, revoked and expired ones too.
	List(ctx context.Context) ([]Token, error)
}

// ErrNotFound: Revoke or Expire named a hash that is not stored.
var ErrNotFound = errors.New("no such token")

// Hash is the stored form of a token: its SHA-256, hex.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewToken returns a fresh token: 32 random bytes, base64url without padding
// (43 characters, safe in a URL path).
func NewToken() (string, error) {
	var b [TokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("business: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// wellFormed reports whether s could be a token; anything else is refused
// before the store is asked.
func wellFormed(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == TokenBytes
}

// Resolver answers which business a token was issued for.
type Resolver struct {
	lookup Lookup
	now    func() time.Time
}

// NewResolver returns a Resolver over lookup that judges validity at now()
// (nil: time.Now).
func NewResolver(lookup Lookup, now func() time.Time) *Resolver {
	if lookup == nil {
		panic("business.NewResolver: lookup is required")
	}
	if now == nil {
		now = time.Now
	}
	return &Resolver{lookup: lookup, now: now}
}

// Resolved is a valid token's business and the token's ID.
type Resolved struct {
	CorpNum, TokenID string
}

// Resolve returns the business token was issued for, or ErrUnknown. Other
// errors are the store's: the caller may retry.
func (r *Resolver) Resolve(ctx context.Context, token string) (Resolved, error) {
	if !wellFormed(token) {
		return Resolved{}, ErrUnknown
	}
	h := Hash(token)
	t, found, err := r.lookup.Get(ctx, h)
	if err != nil {
		return Resolved{}, err
	}
	// The lookup is by hash already; comparing again in constant time keeps
	// the answer independent of how an adapter matched the key.
	if !found || subtle.ConstantTimeCompare([]byte(t.Hash), []byte(h)) != 1 || !t.Valid(r.now()) {
		return Resolved{}, ErrUnknown
	}
	return Resolved{CorpNum: t.CorpNum, TokenID: t.ID()}, nil
}

// Issue creates a token for business corpNum and returns it: the only time
// the token itself is seen.
func Issue(ctx context.Context, s Store, corpNum string, now time.Time) (string, Token, error) {
	corpNum, err := Normalise(corpNum)
	if err != nil {
		return "", Token{}, err
	}
	raw, err := NewToken()
	if err != nil {
		return "", Token{}, err
	}
	t := Token{Hash: Hash(raw), CorpNum: corpNum, Created: Second(now)}
	if err := s.Create(ctx, t); err != nil {
		return "", Token{}, err
	}
	return raw, t, nil
}

// Rotate issues a new token for corpNum and lets each of its valid tokens
// run on for overlap, so that POPBiLL's events keep arriving while the new
// address is pasted in. It returns the new token and the tokens it limited.
func Rotate(ctx context.Context, s Store, corpNum string, overlap time.Duration, now time.Time) (string, Token, []Token, error) {
	corpNum, err := Normalise(corpNum)
	if err != nil {
		return "", Token{}, nil, err
	}
	if overlap < 0 {
		return "", Token{}, nil, errors.New("the overlap cannot be negative")
	}
	old, err := OfBusiness(ctx, s, corpNum, now)
	if err != nil {
		return "", Token{}, nil, err
	}
	raw, t, err := Issue(ctx, s, corpNum, now)
	if err != nil {
		return "", Token{}, nil, err
	}
	until := Second(now.Add(overlap))
	var limited []Token
	for _, o := range old {
		if err := s.Expire(ctx, o.Hash, until); err != nil {
			return raw, t, limited, err
		}
		if o.ValidUntil.IsZero() || until.Before(o.ValidUntil) {
			o.ValidUntil = until
		}
		limited = append(limited, o)
	}
	return raw, t, limited, nil
}

// OfBusiness returns corpNum's tokens valid at now.
func OfBusiness(ctx context.Context, s Store, corpNum string, now time.Time) ([]Token, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Token
	for _, t := range all {
		if t.CorpNum == corpNum && t.Valid(now) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Normalise returns corpNum without dashes, or an error in plain words when
// it is not 10 digits.
func Normalise(corpNum string) (string, error) {
	n := ""
	for _, r := range corpNum {
		if r != '-' {
			n += string(r)
		}
	}
	if !cashbill.IsBusinessNumber(n) {
		return "", fmt.Errorf("%q is not a business registration number (10 digits)", corpNum)
	}
	return n, nil
}

// Second is t in UTC to the second: the precision every adapter keeps.
func Second(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// Find returns the tokens whose ID starts with id (an ID as list prints it,
// or a longer part of the hash).
func Find(ctx context.Context, s Store, id string) ([]Token, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Token
	for _, t := range all {
		if id != "" && strings.HasPrefix(t.Hash, strings.ToLower(id)) {
			out = append(out, t)
		}
	}
	return out, nil
}
