package boltarchive_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archivetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/boltarchive"
)

func open(t *testing.T, path string, readOnly bool) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	archivetest.Run(t, func(t *testing.T) archivetest.Adapter {
		a, err := boltarchive.New(open(t, filepath.Join(t.TempDir(), "state.db"), false))
		if err != nil {
			t.Fatal(err)
		}
		return a
	})
}

func TestAFileThatNeverArchivedReadsAsEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	if err := open(t, path, false).Close(); err != nil {
		t.Fatal(err)
	}
	a, err := boltarchive.New(open(t, path, true))
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.ByItem(context.Background(), archivetest.ItemKey(), 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("ByItem on a file without the archive = %v, %v; want none, no error", got, err)
	}
}
