package localserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

const nts305 = `{"corpNum":"6798700433","franchiseCorpNum":"6798700433","itemKey":"022122116191200001","tradeDate":"20221221","confirmNum":"TB0001146","ntssendDT":"20221222000000","ntsresultDT":"20221222100033","ntsresultCode":"TS4","stateCode":305,"stateDT":"20221222100033","issueDT":"20221221161912","mgtKey":"20221221-001","eventDT":"20221222100033","eventType":"NTS","interOPYN":true}`

// serve starts the local receiver as `make run` wires it, on env. stop shuts
// it down and closes its store, as ending `make run` does.
func serve(t *testing.T, env map[string]string) (srv *httptest.Server, stop func()) {
	t.Helper()
	s, err := New(context.Background(), func(k string) string { return env[k] }, io.Discard, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv = httptest.NewServer(s)
	var once sync.Once
	stop = func() { once.Do(func() { srv.Close(); s.Close() }) }
	t.Cleanup(stop)
	return srv, stop
}

func post(t *testing.T, srv *httptest.Server, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/pbconnect", strings.NewReader(body))
	req.SetBasicAuth("popbill", "local-secret")
	req.Header.Set("Pb-Webhook-Type", "CASHBILL.STATE")
	req.Header.Set("Pb-Webhook-MID", "m-1")
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func item(t *testing.T, srv *httptest.Server, key string) (int, state.Item) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + "/items/" + key)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var it state.Item
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(&it); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, it
}

func TestLocalReceiverStoresEventsAndKeepsThemAcrossRestarts(t *testing.T) {
	env := map[string]string{"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:local-secret", "STATE_FILE": filepath.Join(t.TempDir(), "state.db")}
	first, stop := serve(t, env)
	if code, body := post(t, first, nts305); code != 200 || body != `{"result":"OK"}` {
		t.Fatalf("POST = %d %q", code, body)
	}
	if code, it := item(t, first, "022122116191200001"); code != 200 || it.Event.StateCode != 305 || it.AlertStatus != state.AlertSent {
		t.Fatalf("GET /items = %d %+v, want 305 with the alert sent", code, it)
	}
	stop()
	second, _ := serve(t, env)
	if code, it := item(t, second, "022122116191200001"); code != 200 || it.Event.StateCode != 305 {
		t.Errorf("after restart GET /items = %d %+v, want the stored 305", code, it)
	}
	if code, _ := item(t, second, "999999999999999999"); code != 404 {
		t.Errorf("unknown itemKey: %d, want 404", code)
	}
}

// TestLocalReceiverAnswersOtherMethodsAsTheHandlerDoes: a GET or PUT to the
// webhook's addresses gets the handler's own 405 in plain words, not the
// router's bare one.
func TestLocalReceiverAnswersOtherMethodsAsTheHandlerDoes(t *testing.T) {
	srv, _ := serve(t, map[string]string{"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:local-secret", "STATE_FILE": filepath.Join(t.TempDir(), "state.db")})
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/pbconnect"},
		{http.MethodPut, "/pbconnect"},
		{http.MethodGet, "/pbconnect/sometoken"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(string(b), "POPBiLL webhooks are sent with POST") {
			t.Errorf("%s %s = %d %q, want the handler's 405", c.method, c.path, resp.StatusCode, b)
		}
	}
}

func TestLocalReceiverRefusesBadSettings(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no auth mode", map[string]string{}, "AUTH_MODE"},
		{"unknown store", map[string]string{"AUTH_MODE": "none", "STORE": "redis"}, "STORE"},
		{"dynamodb without a table", map[string]string{"AUTH_MODE": "none", "STORE": "dynamodb"}, "STATE_TABLE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(context.Background(), func(k string) string { return tc.env[k] }, io.Discard, slog.New(slog.NewJSONHandler(io.Discard, nil)))
			if s != nil {
				s.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// TestLocalReceiverAnswersTheSampleEventsAsExpected replays events/ over HTTP,
// as curl would against `make run`, in file order, with the answers written
// down in events/expected.json.
func TestLocalReceiverAnswersTheSampleEventsAsExpected(t *testing.T) {
	raw, err := os.ReadFile("../../events/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]struct{ Status int }
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(maps.Keys(expected))
	srv, _ := serve(t, map[string]string{"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:local-secret", "STATE_FILE": filepath.Join(t.TempDir(), "state.db")})
	for _, name := range names {
		raw, err := os.ReadFile(filepath.Join("../../events", name))
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body := []byte(ev.Body)
		if ev.IsBase64Encoded {
			if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		req, _ := http.NewRequest(ev.RequestContext.HTTP.Method, srv.URL+ev.RawPath, bytes.NewReader(body))
		for k, v := range ev.Headers {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != expected[name].Status {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, expected[name].Status)
		}
	}
}

// On a busy port the receiver says so, and says it first: no "receiver
// listening", no store opened.
func TestLocalReceiverOnABusyPortSaysSoFirst(t *testing.T) {
	held, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, port, _ := net.SplitHostPort(held.Addr().String())
	state := filepath.Join(t.TempDir(), "state.db")
	env := map[string]string{"PORT": port, "AUTH_MODE": "none", "STATE_FILE": state}
	var out bytes.Buffer
	err = Run(context.Background(), func(k string) string { return env[k] }, &out)
	if !errors.Is(err, ErrPortBusy) || !strings.Contains(err.Error(), "PORT") {
		t.Errorf("Run on a busy port = %v, want ErrPortBusy saying to set PORT", err)
	}
	if out.Len() != 0 {
		t.Errorf("Run on a busy port wrote %q first", out.String())
	}
	if _, err := os.Stat(state); err == nil {
		t.Error("Run on a busy port opened the store")
	}
}
