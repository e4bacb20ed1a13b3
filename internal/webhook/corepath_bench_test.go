package webhook_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// nullStore answers every Apply stored, with no I/O, so that a benchmark
// measures the handler's own path.
type nullStore struct{ state.Store }

func (nullStore) Apply(_ context.Context, r state.Delivery) (state.Result, error) {
	return state.Result{Outcome: state.Stored, StateCode: r.Event.StateCode}, nil
}

func (nullStore) ClaimAlert(context.Context, string, string, time.Time, time.Duration) (state.Claim, error) {
	return state.Claim{Status: state.NothingOwed}, nil
}

// BenchmarkCorePath is issue 12's core path for one delivery, the sample 304:
// decode the API Gateway request, authenticate, check headers, parse and
// validate the body, build the store's delivery record, answer, and write the
// request's log line (to io.Discard). No store I/O (nullStore), no archive.
// The DynamoDB adapter's share, building the UpdateItem input, is
// dynamostore's BenchmarkApplyCall.
func BenchmarkCorePath(b *testing.B) {
	v, _ := auth.New(auth.Basic, credential)
	h := webhook.New(webhook.Rules{Auth: v}, nullStore{}, outbox.New(nullStore{}, consolealert.New(io.Discard), nil, outbox.Settings{}), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	req := sample(b, "02-nts-304.json", nil, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp, _ := h.Handle(ctx, req)
		if resp.StatusCode != 200 {
			b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
	}
}
