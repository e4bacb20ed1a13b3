package loadgen_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/loadgen"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

func stories(t *testing.T) []loadgen.Story {
	t.Helper()
	s, err := loadgen.Load(filepath.Join(modroot.Dir(t), "events"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadGroupsTheAcceptedSamplesByCashbill(t *testing.T) {
	var got [][]string
	for _, s := range stories(t) {
		var names []string
		for _, d := range s.Deliveries {
			names = append(names, d.Name)
		}
		got = append(got, names)
	}
	want := [][]string{
		{"01-issue-300.json", "02-nts-304.json", "03-stale-issue-300.json", "04-duplicate-nts-304.json"},
		{"05-nts-305-failure.json"},
		{"09-base64-body.json", "10-statecode-as-string.json"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("stories = %v, want %v", got, want)
	}
}

// received is what the fake receiver saw: per itemKey, the state codes in
// arrival order.
type received struct {
	mu    sync.Mutex
	items map[string][]string
	total int
}

func TestRunSendsExactlyNDeliveriesAsFreshCashbillsInStoryOrder(t *testing.T) {
	rec := &received{items: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			ItemKey   string          `json:"itemKey"`
			StateCode json.RawMessage `json:"stateCode"`
		}
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &b)
		rec.mu.Lock()
		rec.items[b.ItemKey] = append(rec.items[b.ItemKey], strings.Trim(string(b.StateCode), `"`))
		rec.total++
		rec.mu.Unlock()
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()

	const n = 50
	r, err := loadgen.Run(t.Context(), loadgen.Config{URL: srv.URL, Deliveries: n, Workers: 4, Run: 7}, stories(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent != n || rec.total != n || r.Errors != 0 || r.Statuses[200] != n {
		t.Errorf("report %v, server saw %d; want %d deliveries, all 200", r, rec.total, n)
	}
	if r.P50 <= 0 || r.P50 > r.P99 || r.P99 > r.Max || r.PerSecond() <= 0 {
		t.Errorf("latencies p50 %v, p99 %v, max %v, %.0f/s: want 0 < p50 <= p99 <= max", r.P50, r.P99, r.Max, r.PerSecond())
	}
	for itemKey, codes := range rec.items {
		if len(itemKey) != 18 || itemKey[:6] != "000007" {
			t.Errorf("itemKey %q: want 18 digits starting with the run, 000007", itemKey)
		}
		// The first story's order: 300, 304, stale 300, duplicate 304.
		if len(codes) > 1 && codes[0] == "300" && !slices.Equal(codes, []string{"300", "304", "300", "304"}[:len(codes)]) {
			t.Errorf("itemKey %s got state codes %v, want the story's order", itemKey, codes)
		}
	}
	if len(rec.items) < n/3 {
		t.Errorf("%d itemKeys for %d deliveries: want a fresh one per story", len(rec.items), n)
	}
}

func TestRunCountsAnswersOtherThan200AsErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	r, err := loadgen.Run(t.Context(), loadgen.Config{URL: srv.URL, Deliveries: 10, Workers: 2}, stories(t))
	if err != nil || r.Errors != 10 || r.Statuses[503] != 10 {
		t.Errorf("report %v (%v), want 10 errors, all 503", r, err)
	}
	srv.Close()
	r, _ = loadgen.Run(t.Context(), loadgen.Config{URL: srv.URL, Deliveries: 3, Workers: 1,
		Client: &http.Client{Timeout: time.Second}}, stories(t))
	if r.Errors != 3 || r.Statuses[0] != 3 {
		t.Errorf("report %v with no server, want 3 errors without an answer", r)
	}
}
