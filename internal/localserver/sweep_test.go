package localserver

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
)

// syncBuffer is stdout shared by the log and the printed alerts.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const issue300 = `{"corpNum":"6798700433","franchiseCorpNum":"6798700433","itemKey":"022122116191200002","tradeDate":"20221221","confirmNum":"TB0001146","stateCode":300,"stateDT":"20221221161912","issueDT":"20221221161912","mgtKey":"20221221-002","eventDT":"20221221161912","eventType":"Issue","interOPYN":true}`

func TestMakeRunSweepsItsOwnStore(t *testing.T) {
	cases := []struct {
		name     string
		interval string
		// printed: how many alerts the sweeper prints, eventually.
		printed int
	}{
		{"every tick it publishes an owed alert and raises an overdue one", "20ms", 2},
		{"SWEEP_INTERVAL=0 turns it off", "0", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			// A 305 stored by a delivery that died before publishing.
			crashed := statetest.Delivery("022122116191200001", 305, "m-crashed")
			crashed.Alert = alert.Encode(alert.FromEvent(crashed.Event, crashed.MID, alert.KindFailure))
			crashed.ReceivedAt = time.Now().Add(-time.Hour)
			bolt, err := boltstore.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bolt.Apply(context.Background(), crashed); err != nil {
				t.Fatal(err)
			}
			bolt.Close()

			out := &syncBuffer{}
			env := map[string]string{"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:local-secret",
				"STATE_FILE": path, "SWEEP_INTERVAL": tc.interval}
			s, err := New(context.Background(), func(k string) string { return env[k] }, out, slog.New(slog.NewJSONHandler(out, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// An Issue event of 2022: its NTS result is long overdue.
			req, _ := http.NewRequest(http.MethodPost, "/pbconnect", strings.NewReader(issue300))
			req.SetBasicAuth("popbill", "local-secret")
			req.Header.Set("Pb-Webhook-Type", "CASHBILL.STATE")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Fatalf("the 300 was answered %d", rec.Code)
			}

			// Eventually: both alerts printed. Not a timing assertion: the
			// bound only ends a test that would otherwise wait for ever.
			deadline := time.Now().Add(10 * time.Second)
			for strings.Count(out.String(), "=== ALERT") < tc.printed && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if tc.printed == 0 {
				time.Sleep(100 * time.Millisecond) // five ticks of the case above
			}
			got := out.String()
			if n := strings.Count(got, "=== ALERT"); n != tc.printed {
				t.Fatalf("%d alerts printed, want %d:\n%s", n, tc.printed, got)
			}
			if tc.printed > 0 && (!strings.Contains(got, "022122116191200001") || !strings.Contains(strings.ToLower(got), "overdue")) {
				t.Errorf("want the crashed 305's alert and the 300's overdue alert:\n%s", got)
			}
		})
	}
}

// TestMakeRunGathersAStormIntoADigest: while make run's sweeper runs, the
// handler routes a business's NTS failures beyond ALERT_STORM_THRESHOLD in
// a window into that window's digest, which only the sweeper publishes; with
// the sweeper off, every failure is printed on its own, so none waits for a
// digest nobody would send.
func TestMakeRunGathersAStormIntoADigest(t *testing.T) {
	failure := func(n int) string {
		return fmt.Sprintf(`{"corpNum":"6798700433","franchiseCorpNum":"6798700433","itemKey":"02212211619120%04d","tradeDate":"20221221","confirmNum":"TB0001146","ntssendDT":"20221222000000","ntsresultDT":"20221222100033","ntsresultCode":"TS4","stateCode":305,"stateDT":"20221222100033","issueDT":"20221221161912","mgtKey":"20221221-%03d","eventDT":"20221222100033","eventType":"NTS","interOPYN":true}`, n, n)
	}
	cases := []struct {
		name     string
		interval string
		printed  int // alerts printed at once, of 3 failures with a threshold of 1
	}{
		{"with the sweeper, the first goes out and the rest wait for the digest", "1h", 1},
		{"without the sweeper, each goes out on its own", "0", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := &syncBuffer{}
			env := map[string]string{"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:local-secret",
				"STATE_FILE": filepath.Join(t.TempDir(), "state.db"), "SWEEP_INTERVAL": tc.interval,
				"ALERT_STORM_THRESHOLD": "1", "ALERT_STORM_WINDOW": "10m"}
			s, err := New(context.Background(), func(k string) string { return env[k] }, out, slog.New(slog.NewJSONHandler(out, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for n := 1; n <= 3; n++ {
				req, _ := http.NewRequest(http.MethodPost, "/pbconnect", strings.NewReader(failure(n)))
				req.SetBasicAuth("popbill", "local-secret")
				req.Header.Set("Pb-Webhook-Type", "CASHBILL.STATE")
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != 200 {
					t.Fatalf("failure %d was answered %d: %s", n, rec.Code, rec.Body)
				}
			}
			if n := strings.Count(out.String(), "=== ALERT"); n != tc.printed {
				t.Errorf("%d alerts printed, want %d:\n%s", n, tc.printed, out)
			}
		})
	}
}
