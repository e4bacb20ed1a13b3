package webhook_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archiveline"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// captured keeps the deliveries the handler archives.
type captured struct{ got []archive.Delivery }

func (c *captured) Record(_ context.Context, d archive.Delivery) error {
	c.got = append(c.got, d)
	return nil
}

// lineArchiving is a handler whose request line is the archive, logging as
// the Lambda does (lambdacontext's keys) into logs; opts add to it.
func lineArchiving(t *testing.T, logs io.Writer, opts ...webhook.Option) *webhook.Handler {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.NotDurable())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	v, err := auth.New(auth.Basic, credential)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(lambdaLog{slog.NewJSONHandler(logs, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr})})
	return webhook.New(webhook.Rules{Auth: v}, s, outbox.New(s, consolealert.New(&lockedBuffer{}), nil, outbox.Settings{}), log,
		append([]webhook.Option{webhook.WithRequestLineArchive()}, opts...)...)
}

// lambdaLog adds the invocation's requestId to every line, as
// lambdacontext.NewLogHandler does (which writes to stdout only).
type lambdaLog struct{ slog.Handler }

func (h lambdaLog) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

// TestTheRequestLineIsTheArchiveRecord: what logarchive reads back from a
// request line is what the archive keeps of the delivery the handler built
// (the one a recorder gets): all of a refused one, an applied one without
// its request.
func TestTheRequestLineIsTheArchiveRecord(t *testing.T) {
	key := statetest.ItemKey()
	get := request("m-get", body(key, 300, nil), nil)
	get.RequestContext.HTTP.Method = "GET"
	cases := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
	}{
		{"stored", request("m-ok", body(key, 300, nil), nil), 200},
		{"duplicate", request("m-ok", body(key, 300, nil), nil), 200},
		{"stale", request("m-stale", body(key, 300, nil), nil), 200},
		{"refused by a header check", request("m-400", body(key, 304, nil), map[string]string{"pb-webhook-eventtype": "Issue"}), 400},
		{"refused by the parser: the cashbill the body names", request("m-parse", body(key, 300, map[string]any{"eventDT": "2022"}), nil), 400},
		{"unauthenticated: the first KiB", request("m-401", body(key, 300, nil)+strings.Repeat(" ", 2*webhook.ArchiveClip), map[string]string{"authorization": "Basic Zm9yZ2VkOnNlY3JldA=="}), 401},
		{"oversized", request("m-413", strings.Repeat("x", webhook.MaxBody+1), nil), 413},
		{"not POST", get, 405},
	}
	logs, rec := &lockedBuffer{}, &captured{}
	h := lineArchiving(t, logs, webhook.WithArchive(rec, 90*24*time.Hour))
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logs.Reset()
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: fmt.Sprintf("lambda-%d", i)})
			resp, err := h.Handle(ctx, c.req)
			if err != nil || resp.StatusCode != c.status {
				t.Fatalf("answered %d %q, %v; want %d", resp.StatusCode, resp.Body, err, c.status)
			}
			line := strings.TrimSpace(logs.String())
			got, ok := archiveline.Decode(line)
			if !ok || len(rec.got) != i+1 {
				t.Fatalf("the request line is no archive record (%d recorded):\n%s", len(rec.got), line)
			}
			want := archiveline.Kept(rec.got[i])
			if !got.ReceivedAt.Equal(want.ReceivedAt) {
				t.Errorf("receivedAt %v, want %v", got.ReceivedAt, want.ReceivedAt)
			}
			got.ReceivedAt = want.ReceivedAt
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the request line reads as\n%+v\nwant\n%+v\nline: %s", got, want, line)
			}
		})
	}
}

// TestTheLineArchiveMakesNoCall: without a recorder, the request line is the
// only record: it names the delivery, and there is no archive call to
// report, time or fail.
func TestTheLineArchiveMakesNoCall(t *testing.T) {
	logs := &lockedBuffer{}
	h := lineArchiving(t, logs, webhook.WithMetrics("PopbillWebhook"))
	if _, err := h.Handle(context.Background(), request("m-1", body(statetest.ItemKey(), 300, nil), nil)); err != nil {
		t.Fatal(err)
	}
	line := logs.lines(t)[0]
	if _, ok := archive.IDTime(fmt.Sprint(line["deliveryId"])); !ok {
		t.Errorf("deliveryId %v is no archive ID", line["deliveryId"])
	}
	for _, k := range []string{"archive", "archiveCause", "archiveMs"} {
		if v, ok := line[k]; ok {
			t.Errorf("the request line has %s=%v", k, v)
		}
	}
}
