package webhook_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// allowedStatus are the only statuses the handler may answer with.
var allowedStatus = map[int]bool{
	http.StatusOK: true, http.StatusBadRequest: true, http.StatusUnauthorized: true,
	http.StatusForbidden: true, http.StatusMethodNotAllowed: true, http.StatusRequestEntityTooLarge: true,
	http.StatusInternalServerError: true, http.StatusServiceUnavailable: true,
}

// FuzzHandle sends fuzzed bodies and headers through the whole handler on the
// local adapters (bbolt in a temporary file, the console publisher), seeded
// with every API Gateway event in events/. make fuzz runs it for FUZZTIME.
func FuzzHandle(f *testing.F) {
	reqs := sampleRequests(f)
	names := make([]string, 0, len(reqs))
	for name := range reqs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r := reqs[name]
		f.Add(r.RequestContext.HTTP.Method, r.Body, r.IsBase64Encoded, r.Headers["authorization"],
			r.Headers["pb-webhook-type"], r.Headers["pb-webhook-eventtype"], r.Headers["pb-webhook-mid"], r.Headers["pb-webhook-corpnum"])
	}
	l := newLocal(f, nil)
	secret := strings.SplitN(credential, ":", 2)[1]
	encoded := base64.StdEncoding.EncodeToString([]byte(credential))
	f.Fuzz(func(t *testing.T, method, body string, isBase64 bool, authorization, webhookType, eventType, mid, corpNum string) {
		headers := map[string]string{"content-type": "application/json"}
		for k, v := range map[string]string{
			"authorization": authorization, "pb-webhook-type": webhookType, "pb-webhook-eventtype": eventType,
			"pb-webhook-mid": mid, "pb-webhook-corpnum": corpNum,
		} {
			if v != "" {
				headers[k] = v
			}
		}
		req := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "POST /pbconnect", RawPath: "/pbconnect", Headers: headers,
			Body: body, IsBase64Encoded: isBase64,
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				RequestID: "fuzz", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: "/pbconnect", SourceIP: "54.180.62.221"},
			},
		}
		l.logs.Reset()
		l.alerts.Reset()
		resp, err := l.h.Handle(context.Background(), req)
		if err != nil {
			t.Fatalf("Handle returned an error (API Gateway would answer its own 500): %v", err)
		}
		if !allowedStatus[resp.StatusCode] {
			t.Fatalf("status %d is not one the receiver answers with", resp.StatusCode)
		}
		if resp.StatusCode == http.StatusOK && resp.Body != webhook.OK {
			t.Fatalf("200 with body %q, want exactly %s", resp.Body, webhook.OK)
		}
		if resp.StatusCode != http.StatusOK {
			b := resp.Body
			if b == "" || !utf8.ValidString(b) || strings.HasPrefix(b, "{") || len(b) > 1024 ||
				strings.IndexFunc(b, func(r rune) bool { return unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) }) >= 0 {
				t.Fatalf("status %d with body %q: want a short sentence in plain words", resp.StatusCode, b)
			}
			if strings.Contains(b, secret) || strings.Contains(b, encoded) {
				t.Fatalf("status %d body holds the credential: %q", resp.StatusCode, b)
			}
		}
		logged := l.logs.String()
		if n := strings.Count(logged, "\n"); n < 1 {
			t.Fatalf("no request log line written")
		}
		var line map[string]any
		last := strings.Split(strings.TrimSpace(logged), "\n")
		if err := json.Unmarshal([]byte(last[len(last)-1]), &line); err != nil || line["msg"] != "request" {
			t.Fatalf("the last log line is not the JSON request line: %q", last[len(last)-1])
		}
		// The credential may reach the log only by the caller's own hand, in a
		// field other than the one that carries it.
		elsewhere := strings.Join([]string{method, body, webhookType, eventType, mid, corpNum}, "\x00")
		if isBase64 {
			if b, err := base64.StdEncoding.DecodeString(body); err == nil {
				elsewhere += "\x00" + string(b)
			}
		}
		for _, s := range []string{secret, encoded} {
			if strings.Contains(logged, s) && !strings.Contains(elsewhere, s) {
				t.Fatalf("the log holds the credential: %s", logged)
			}
		}
	})
}
