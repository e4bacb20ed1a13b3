package webhook_test

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// This file runs the handler on the local adapters (the embedded bbolt store
// and the console publisher), so that the tests in it need no moto_server.

// eventsDir holds the sample API Gateway events.
var eventsDir = filepath.Join("..", "..", "events")

// local is a handler on a bbolt store in a temporary file and a console
// publisher writing to a buffer.
type local struct {
	h      *webhook.Handler
	store  *boltstore.Store
	alerts *lockedBuffer
	logs   *lockedBuffer
}

// newLocal builds the handler; wrap, when given, may put a fault in front of
// the store or the publisher.
func newLocal(tb testing.TB, wrap func(state.Store, alert.Publisher) (state.Store, alert.Publisher)) *local {
	tb.Helper()
	s, err := boltstore.Open(filepath.Join(tb.TempDir(), "state.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	v, err := auth.New(auth.Basic, credential)
	if err != nil {
		tb.Fatal(err)
	}
	l := &local{store: s, alerts: &lockedBuffer{}, logs: &lockedBuffer{}}
	var store state.Store = s
	var pub alert.Publisher = consolealert.New(l.alerts)
	if wrap != nil {
		store, pub = wrap(store, pub)
	}
	l.h = webhook.New(webhook.Rules{Auth: v}, store, pub, slog.New(slog.NewJSONHandler(l.logs, nil)))
	return l
}

// lastLog is the last JSON line the handler logged.
func (l *local) lastLog(tb testing.TB) map[string]any {
	tb.Helper()
	lines := strings.Split(strings.TrimSpace(l.logs.String()), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		tb.Fatalf("last log line is not JSON: %q", lines[len(lines)-1])
	}
	return m
}

// sampleRequests are the API Gateway events in events/, by file name.
func sampleRequests(tb testing.TB) map[string]events.APIGatewayV2HTTPRequest {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(eventsDir, "[0-9]*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no sample events in %s (%v)", eventsDir, err)
	}
	sort.Strings(files)
	out := map[string]events.APIGatewayV2HTTPRequest{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = req
	}
	return out
}

// sample is one event from events/, with its body's fields set from fields
// (nil deletes one) and its headers from headers ("" deletes one). The maps
// of the original are not shared.
func sample(tb testing.TB, file string, fields map[string]any, headers map[string]string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	req, ok := sampleRequests(tb)[file]
	if !ok {
		tb.Fatalf("no sample event %s", file)
	}
	h := map[string]string{}
	for k, v := range req.Headers {
		h[k] = v
	}
	for k, v := range headers {
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	req.Headers = h
	if len(fields) > 0 {
		var m map[string]any
		if err := json.Unmarshal([]byte(req.Body), &m); err != nil {
			tb.Fatalf("%s body: %v", file, err)
		}
		for k, v := range fields {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		b, _ := json.Marshal(m)
		req.Body = string(b)
	}
	return req
}
