package webhook_test

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archivetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/boltarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// archiveSets are the archive adapters the archive spec runs on with a
// recorder (the local server's); the production archive, the request line,
// has its own tests (archive_line_test.go, archive_integration_test.go).
var archiveSets = map[string]func(t *testing.T) archivetest.Adapter{
	"bbolt": func(t *testing.T) archivetest.Adapter {
		s, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.NotDurable())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		a, err := boltarchive.New(s.DB())
		if err != nil {
			t.Fatal(err)
		}
		return a
	},
}

// archiving is a handler on a bbolt state store that archives into arch.
type archiving struct {
	h    *webhook.Handler
	arch archivetest.Adapter
	logs *lockedBuffer
}

func newArchiving(t *testing.T, arch archivetest.Adapter, rec archive.Recorder, credentials ...string) *archiving {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.NotDurable())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if len(credentials) == 0 {
		credentials = []string{credential}
	}
	v, err := auth.New(auth.Basic, credentials[0], credentials[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	a := &archiving{arch: arch, logs: &lockedBuffer{}}
	a.h = webhook.New(webhook.Rules{Auth: v}, s, outbox.New(s, consolealert.New(&lockedBuffer{}), nil, outbox.Settings{}), slog.New(slog.NewJSONHandler(a.logs, nil)),
		webhook.WithArchive(rec, 90*24*time.Hour))
	return a
}

// send handles req in a Lambda context and returns the archived delivery,
// found through the request line's deliveryId.
func (a *archiving) send(t *testing.T, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, archive.Delivery, map[string]any) {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-" + req.RequestContext.RequestID})
	resp, err := a.h.Handle(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	lines := a.logs.lines(t)
	line := lines[len(lines)-1]
	id, _ := line["deliveryId"].(string)
	d, found, err := a.arch.Get(context.Background(), id)
	if err != nil || !found {
		t.Fatalf("delivery %q of the request line %v: found %v, err %v", id, line, found, err)
	}
	return resp, d, line
}

func TestEveryDeliveryIsArchived(t *testing.T) {
	for name, open := range archiveSets {
		t.Run(name, func(t *testing.T) { everyDeliveryIsArchived(t, open) })
	}
}

func everyDeliveryIsArchived(t *testing.T, open func(t *testing.T) archivetest.Adapter) {
	key := statetest.ItemKey()
	huge := strings.Repeat("x", webhook.MaxBody+1)
	forged := body(key, 300, nil) + strings.Repeat(" ", 2*webhook.ArchiveClip)
	cases := []struct {
		name string
		req  events.APIGatewayV2HTTPRequest
		want archive.Delivery
	}{
		{"accepted: whole, indexed", request("m-ok", body(key, 300, nil), nil),
			archive.Delivery{Status: 200, Outcome: state.Stored, ItemKey: key, CorpNum: "6798700433", MgtKey: "20221221-001", StateCode: 300, EventType: "Issue", Authenticated: true, Credential: auth.Current}},
		{"refused by a header check: whole, indexed, with the reason", request("m-400", body(key, 304, nil), map[string]string{"pb-webhook-eventtype": "Issue"}),
			archive.Delivery{Status: 400, Outcome: state.Rejected, ItemKey: key, CorpNum: "6798700433", MgtKey: "20221221-001", StateCode: 304, EventType: "NTS", Authenticated: true, Credential: auth.Current,
				Reason: "the Pb-Webhook-EventType header (Issue) does not match the body's eventType (NTS)"}},
		{"refused by the parser: indexed by what the body names", request("m-parse", body(key, 300, map[string]any{"eventDT": "2022"}), nil),
			archive.Delivery{Status: 400, Outcome: state.Rejected, ItemKey: key, CorpNum: "6798700433", MgtKey: "20221221-001", Authenticated: true, Credential: auth.Current}},
		{"unauthenticated: metadata and the first KiB only, not indexed", request("m-401", forged, map[string]string{"authorization": "Basic " + "Zm9yZ2VkOnNlY3JldA=="}),
			archive.Delivery{Status: 401, Outcome: state.Rejected, Truncated: true}},
		{"oversized: the first KiB only", request("m-413", huge, nil),
			archive.Delivery{Status: 413, Outcome: state.Rejected, Authenticated: true, Credential: auth.Current, Truncated: true}},
	}
	arch := open(t)
	a := newArchiving(t, arch, arch)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := time.Now()
			resp, d, line := a.send(t, c.req)
			if resp.StatusCode != c.want.Status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, c.want.Status, resp.Body)
			}
			if line["archive"] != string(archive.Recorded) {
				t.Errorf("request line archive = %v, want %s", line["archive"], archive.Recorded)
			}
			got := d
			if c.want.Status != 200 && !strings.HasPrefix(d.Reason, resp.Body) {
				t.Errorf("reason %q, want the answer %q", d.Reason, resp.Body)
			}
			if c.want.Reason == "" {
				got.Reason = ""
			}
			if got.Status != c.want.Status || got.Outcome != c.want.Outcome || got.ItemKey != c.want.ItemKey || got.CorpNum != c.want.CorpNum ||
				got.MgtKey != c.want.MgtKey || got.StateCode != c.want.StateCode || got.EventType != c.want.EventType || got.Reason != c.want.Reason ||
				got.Authenticated != c.want.Authenticated || got.Credential != c.want.Credential || got.Truncated != c.want.Truncated {
				t.Errorf("archived\n%+v\nwant\n%+v", got, c.want)
			}
			if d.BodySize != len(c.req.Body) {
				t.Errorf("bodySize %d, want %d", d.BodySize, len(c.req.Body))
			}
			wantBody := c.req.Body
			if c.want.Truncated {
				wantBody = wantBody[:webhook.ArchiveClip]
			}
			if string(d.Body) != wantBody {
				t.Errorf("body (%d bytes) is not the received body's first %d bytes", len(d.Body), len(wantBody))
			}
			if d.SourceIP != "54.180.62.221" || d.APIRequestID != c.req.RequestContext.RequestID || d.RequestID != "lambda-"+c.req.RequestContext.RequestID || d.Method != "POST" {
				t.Errorf("metadata %q %q %q %q", d.SourceIP, d.APIRequestID, d.RequestID, d.Method)
			}
			if d.Headers["pb-webhook-mid"] != c.req.Headers["pb-webhook-mid"] || d.Headers["pb-webhook-type"] != "CASHBILL.STATE" {
				t.Errorf("headers %v lack POPBiLL's", d.Headers)
			}
			if _, ok := d.Headers["authorization"]; ok {
				t.Error("the Authorization header was archived")
			}
			// DynamoDB's TTL counts whole seconds.
			if d.ReceivedAt.Before(before.Add(-time.Second)) || !d.ExpiresAt.Equal(d.ReceivedAt.Add(90*24*time.Hour).Truncate(time.Second)) &&
				!d.ExpiresAt.Equal(d.ReceivedAt.Add(90*24*time.Hour)) {
				t.Errorf("receivedAt %v, expiresAt %v: want now and 90 days later", d.ReceivedAt, d.ExpiresAt)
			}
			// The ID carries the receive time, so the archive need not store it twice.
			if at, ok := archive.IDTime(d.ID); !ok || !at.Equal(d.ReceivedAt) {
				t.Errorf("receivedAt %v is not the time of ID %s", d.ReceivedAt, d.ID)
			}
		})
	}
	t.Run("found by cashbill, newest first", func(t *testing.T) {
		got, err := arch.ByItem(context.Background(), key, 0)
		if err != nil {
			t.Fatal(err)
		}
		var statuses []int
		for _, d := range got {
			statuses = append(statuses, d.Status)
		}
		if want := []int{400, 400, 200}; !slices.Equal(statuses, want) {
			t.Errorf("ByItem statuses %v, want %v", statuses, want)
		}
	})
}

// failingRecorder refuses every write.
type failingRecorder struct{}

func (failingRecorder) Record(context.Context, archive.Delivery) error {
	return errors.New("injected: archive unavailable, secret-looking detail")
}

func TestAnArchiveFailureNeverFailsADeliveryAndIsCounted(t *testing.T) {
	arch := archiveSets["bbolt"](t)
	a := newArchiving(t, arch, failingRecorder{})
	key := statetest.ItemKey()
	resp, err := a.h.Handle(context.Background(), request("m-1", body(key, 300, nil), nil))
	if err != nil {
		t.Fatal(err)
	}
	wantOK(t, resp)
	lines := a.logs.lines(t)
	line := lines[len(lines)-1]
	if line["archive"] != string(archive.RecordFailed) || line["archiveCause"] != "unclassified error" || line["outcome"] != "stored" {
		t.Errorf("request line %v: want archive=failed with a classified cause, outcome stored", line)
	}
	if strings.Contains(a.logs.String(), "secret-looking") {
		t.Error("the archive error's text was logged")
	}
}

func TestDuringARotationBothCredentialsAreAcceptedAndTheArchiveSaysWhich(t *testing.T) {
	const next = "popbill:next-secret"
	arch := archiveSets["bbolt"](t)
	a := newArchiving(t, arch, arch, credential, next)
	cases := []struct {
		name, credential, want string
		status                 int
	}{
		{"the current credential", credential, auth.Current, 200},
		{"the next credential", next, auth.Next, 200},
		{"another", "popbill:old-secret", "", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := statetest.ItemKey()
			req := request("m-"+key, body(key, 300, nil), map[string]string{"authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(c.credential))})
			resp, d, _ := a.send(t, req)
			if resp.StatusCode != c.status || d.Credential != c.want {
				t.Errorf("status %d, archived credential %q; want %d, %q", resp.StatusCode, d.Credential, c.status, c.want)
			}
		})
	}
}
