package slacknotify

import (
	"context"
	"sync"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/lease"
)

type entry struct {
	owner  string
	until  time.Time
	posted bool
}

// MemoryLedger is the Ledger in this process's memory, for local runs, where
// one process is the whole deployment.
type MemoryLedger struct {
	mu      sync.Mutex
	entries map[string]entry
}

var _ Ledger = (*MemoryLedger)(nil)

// NewMemoryLedger returns an empty ledger.
func NewMemoryLedger() *MemoryLedger { return &MemoryLedger{entries: map[string]entry{}} }

// Claim implements Ledger.
func (m *MemoryLedger) Claim(_ context.Context, id, owner string, now time.Time, d time.Duration) (Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[id]
	switch {
	case ok && e.posted:
		return Claim{Posted: true}, nil
	case ok && (lease.Lease{Owner: e.owner, Until: e.until}).HeldAgainst(owner, now):
		return Claim{HeldUntil: e.until}, nil
	}
	l := lease.Take(owner, now, d)
	m.entries[id] = entry{owner: l.Owner, until: l.Until}
	return Claim{Claimed: true}, nil
}

// MarkPosted implements Ledger.
func (m *MemoryLedger) MarkPosted(_ context.Context, id, owner string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[id]; ok && e.owner == owner {
		e.posted = true
		m.entries[id] = e
	}
	return nil
}

// Release implements Ledger.
func (m *MemoryLedger) Release(_ context.Context, id, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[id]; ok && e.owner == owner && !e.posted {
		delete(m.entries, id)
	}
	return nil
}
