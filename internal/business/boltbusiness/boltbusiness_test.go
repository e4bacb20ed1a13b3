package boltbusiness_test

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/popbill-cashbill-webhook/receiver/internal/business"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/boltbusiness"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/businesstest"
)

func TestContract(t *testing.T) {
	businesstest.Run(t, func(t *testing.T) business.Store {
		db, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := boltbusiness.New(db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
