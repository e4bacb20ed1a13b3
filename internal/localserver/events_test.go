package localserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/statechange"
)

const walkIssue300 = `{"corpNum":"6798700433","franchiseCorpNum":"6798700433","itemKey":"022122116191200001","tradeDate":"20221221","confirmNum":"TB0001146","stateCode":300,"stateDT":"20221221161912","issueDT":"20221221161912","mgtKey":"20221221-001","eventDT":"20221221161912","eventType":"Issue","interOPYN":true}`

// walkthrough sends the README's walkthrough (300, then 305) with a retry of
// each and a stale 300 at the end.
func walkthrough(t *testing.T, srv *httptest.Server) {
	t.Helper()
	for _, body := range []string{walkIssue300, walkIssue300, nts305, nts305, walkIssue300} {
		if code, resp := post(t, srv, body); code != 200 {
			t.Fatalf("POST = %d %q", code, resp)
		}
	}
}

func wantWalkthroughEvents(t *testing.T, got []statechange.Envelope) {
	t.Helper()
	if len(got) != 2 {
		t.Fatalf("%d events, want 2 (the 300, then the 305): %+v", len(got), got)
	}
	for i, want := range []struct{ state, previous int }{{300, 0}, {305, 300}} {
		e := got[i]
		if e.Source != statechange.Source || e.DetailType != statechange.DetailType || e.Detail.StateCode != want.state || e.Detail.PreviousStateCode != want.previous || e.Detail.ItemKey != "022122116191200001" {
			t.Errorf("event %d = %s %q %+v, want stateCode %d after %d", i, e.Source, e.DetailType, e.Detail, want.state, want.previous)
		}
	}
}

// TestMakeRunPostsEachIncreaseToEventsURL: with EVENTS_URL set, each stored
// increase is POSTed there once, as a rule's target receives it; duplicates
// and stale events are not.
func TestMakeRunPostsEachIncreaseToEventsURL(t *testing.T) {
	var mu sync.Mutex
	var got []statechange.Envelope
	consumer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e statechange.Envelope
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("POST body is not a JSON event: %v", err)
		}
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	}))
	defer consumer.Close()
	srv, _ := serve(t, map[string]string{
		"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:local-secret",
		"STATE_FILE": filepath.Join(t.TempDir(), "state.db"), "EVENTS_URL": consumer.URL,
	})
	walkthrough(t, srv)
	mu.Lock()
	defer mu.Unlock()
	wantWalkthroughEvents(t, got)
}

// TestMakeRunPrintsEachIncrease: with no EVENTS_URL, each stored increase is
// printed to stdout as one JSON line, beside the log lines.
func TestMakeRunPrintsEachIncrease(t *testing.T) {
	var out bytes.Buffer
	env := map[string]string{"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:local-secret", "STATE_FILE": filepath.Join(t.TempDir(), "state.db")}
	s, err := New(context.Background(), func(k string) string { return env[k] }, &out, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer func() { srv.Close(); s.Close() }()
	walkthrough(t, srv)
	var got []statechange.Envelope
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		if !strings.Contains(sc.Text(), `"detail-type"`) {
			continue // a printed alert
		}
		var e statechange.Envelope
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("event line is not JSON: %v: %s", err, sc.Text())
		}
		got = append(got, e)
	}
	wantWalkthroughEvents(t, got)
}
