//go:build integration

package webhook_test

import (
	"context"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/logarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

// TestShippedRequestLinesAreTheArchive is the production archive end to
// end: the handler's request lines, shipped to a log group as Lambda ships
// the function's output, are what the cashbill tool's reader finds.
func TestShippedRequestLinesAreTheArchive(t *testing.T) {
	client, group := mototest.LogGroup(t)
	h := lineArchiving(t, mototest.Ship(t, client, group))
	reader := logarchive.NewReader(client, group, 90*24*time.Hour)
	ctx := context.Background()
	key := statetest.ItemKey()
	start := time.Now()
	refusedReq := request("m-400", body(key, 304, nil), map[string]string{"pb-webhook-eventtype": "Issue"})
	for _, r := range []struct {
		mid, body string
		headers   map[string]string
		status    int
	}{
		{"m-ok", body(key, 300, nil), nil, 200},
		{"m-400", refusedReq.Body, refusedReq.Headers, 400},
		{"m-401", body(key, 300, nil), map[string]string{"authorization": "Basic Zm9yZ2VkOnNlY3JldA=="}, 401},
	} {
		resp, err := h.Handle(ctx, request(r.mid, r.body, r.headers))
		if err != nil || resp.StatusCode != r.status {
			t.Fatalf("%s: answered %d %q, %v; want %d", r.mid, resp.StatusCode, resp.Body, err, r.status)
		}
	}
	got, err := reader.ByItem(ctx, key, 0)
	if err != nil || len(got) != 2 {
		t.Fatalf("ByItem = %+v, %v; want the refused delivery, then the stored one", got, err)
	}
	refused, stored := got[0], got[1]
	if refused.Status != 400 || string(refused.Body) != refusedReq.Body || refused.Headers["pb-webhook-eventtype"] != "Issue" || !refused.Replayable() {
		t.Errorf("the refused delivery reads as %+v: want it whole, replayable", refused)
	}
	if stored.Outcome != state.Stored || stored.Body != nil || stored.Headers != nil || stored.BodySize == 0 || stored.RequestKept() {
		t.Errorf("the stored delivery reads as %+v: want its size only, no request", stored)
	}
	rejected, err := reader.Window(ctx, archive.Query{From: start.Add(-time.Second), To: time.Now().Add(time.Second), Outcome: state.Rejected})
	if err != nil || len(rejected) != 2 || rejected[0].Status != 401 || rejected[1].ID != refused.ID {
		t.Fatalf("Window(rejected) = %+v, %v; want the 401, then the 400", rejected, err)
	}
	if d, found, err := reader.Get(ctx, rejected[0].ID); err != nil || !found || d.Authenticated || d.MID != "m-401" {
		t.Errorf("Get(the 401) = %+v, %v, %v", d, found, err)
	}
}
