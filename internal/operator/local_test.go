package operator_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/boltarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/operator"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
)

func openLocal(t *testing.T, path string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, boltstore.NotDurable())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// localSite is a fresh bbolt file as make run writes it.
func localSite(t *testing.T) site {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openLocal(t, path)
	rec, err := boltarchive.New(s.DB())
	if err != nil {
		t.Fatal(err)
	}
	return site{store: s, queues: s, rec: rec, alerts: consolealert.New(&strings.Builder{}),
		done: func() { s.Close() }, flags: []string{"--local=" + path}}
}

func TestCommandsOnTheLocalStore(t *testing.T) {
	refusedThenReplayed(t, localSite(t))
	owedAndOverdue(t, localSite(t))
}

func TestALocalStoreHeldByTheReceiverIsReportedBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openLocal(t, path)
	defer s.Close()
	code, _, errOut := run(t, "deliveries", "--local="+path)
	if code != operator.ExitBusy || !strings.Contains(errOut, "make run") {
		t.Errorf("exit %d, %q; want %d naming make run", code, errOut, operator.ExitBusy)
	}
}

func TestAMissingLocalStoreIsNotFound(t *testing.T) {
	code, _, errOut := run(t, "status", "--local="+filepath.Join(t.TempDir(), "none.db"), "022122116191200001")
	if code != operator.ExitNotFound || !strings.Contains(errOut, "make run") {
		t.Errorf("exit %d, %q; want %d", code, errOut, operator.ExitNotFound)
	}
}
