package boltstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
)

func open(t *testing.T, path string, opts ...boltstore.Option) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	statetest.Run(t, func(t *testing.T) statetest.Adapter {
		s := open(t, filepath.Join(t.TempDir(), "state.db"), boltstore.NotDurable())
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "state.db")
	key := statetest.ItemKey()
	s := open(t, path)
	if _, err := s.Apply(context.Background(), statetest.Delivery(key, 305, "mid-1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	defer s.Close()
	it, ok, err := s.Get(context.Background(), key)
	if err != nil || !ok || it.Event.StateCode != 305 || it.AlertStatus != state.AlertPending {
		t.Fatalf("after reopen: %+v found=%v err=%v; want 305 with alert pending", it, ok, err)
	}
}
