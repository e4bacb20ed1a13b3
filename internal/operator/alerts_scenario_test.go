package operator_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/operator"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

type failingPublisher struct{}

func (failingPublisher) Publish(context.Context, alert.Failure) (string, error) {
	return "", errors.New("the topic is down")
}

func bodyAt(itemKey string, stateCode int) string {
	var ev map[string]any
	_ = json.Unmarshal([]byte(body(itemKey, stateCode)), &ev)
	if stateCode == 304 {
		ev["eventType"], ev["ntsresultCode"] = "NTS", "0000"
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

// owedAndOverdue is the scenario every site runs: one alert left pending
// (the topic was down), one sent, one held by a publisher right now, a
// receipt past its NTS-result deadline, one whose overdue alert the sweeper
// raised, one whose result came; then the operator lists and resends.
func owedAndOverdue(t *testing.T, s site) {
	ctx := context.Background()
	v, err := auth.New(auth.Basic, credential)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	up := webhook.New(webhook.Rules{Auth: v}, s.store, outbox.New(s.store, s.alerts, nil, outbox.Settings{}), log, webhook.WithArchive(s.rec, 24*time.Hour))
	down := webhook.New(webhook.Rules{Auth: v}, s.store, outbox.New(s.store, failingPublisher{}, nil, outbox.Settings{}), log, webhook.WithArchive(s.rec, 24*time.Hour))
	pending, sent, held, awaiting, raised, known := statetest.ItemKey(), statetest.ItemKey(), statetest.ItemKey(),
		statetest.ItemKey(), statetest.ItemKey(), statetest.ItemKey()
	for i, c := range []struct {
		h         *webhook.Handler
		key       string
		stateCode int
	}{
		{down, pending, 305}, {up, sent, 305}, {down, held, 305},
		{up, awaiting, 300}, {up, raised, 300}, {up, known, 300}, {up, known, 304},
	} {
		resp, _ := c.h.Handle(ctx, request("m-"+c.key[12:]+"-"+string(rune('a'+i)), bodyAt(c.key, c.stateCode), credential))
		if c.stateCode != 305 && resp.StatusCode != 200 {
			t.Fatalf("%s %d: %d %s", c.key, c.stateCode, resp.StatusCode, resp.Body)
		}
	}
	if c, err := s.store.ClaimAlert(ctx, held, "sweeper/abc", time.Now(), time.Hour); err != nil || c.Status != state.Claimed {
		t.Fatalf("claim: %+v, %v", c, err)
	}
	if out, err := s.queues.RaiseOverdue(ctx, raised, alert.Encode(alert.Failure{ItemKey: raised, Kind: alert.KindOverdue, AlertID: alert.ID(raised, alert.KindOverdue)}), time.Now()); err != nil || out != state.OverdueRaised {
		t.Fatalf("RaiseOverdue: %q, %v", out, err)
	}
	s.done()
	tool := func(args ...string) (int, string, string) {
		t.Helper()
		return run(t, append(args, s.flags...)...)
	}

	t.Run("pending lists the alerts owed, oldest first, with kind, id and lease holder", func(t *testing.T) {
		code, out, errOut := tool("alerts", "--pending", "--json")
		var got []operator.PendingAlert
		if err := json.Unmarshal([]byte(out), &got); code != operator.ExitOK || err != nil {
			t.Fatalf("exit %d, %v\n%s%s", code, err, out, errOut)
		}
		byKey := map[string]operator.PendingAlert{}
		var order []string
		for _, a := range got {
			byKey[a.ItemKey] = a
			order = append(order, a.ItemKey)
		}
		if a := byKey[pending]; a.Kind != "failure" || a.AlertID != pending+"/failure" || a.LeaseActive || a.AgeSeconds < 0 {
			t.Errorf("the alert left pending: %+v", a)
		}
		if a := byKey[held]; a.LeaseOwner != "sweeper/abc" || !a.LeaseActive {
			t.Errorf("the alert being published: %+v, want held by sweeper/abc", a)
		}
		if a := byKey[raised]; a.Kind != "overdue" || a.AlertID != raised+"/overdue" {
			t.Errorf("the overdue alert raised: %+v", a)
		}
		if _, ok := byKey[sent]; ok {
			t.Error("a sent alert is listed as pending")
		}
		if i, j := slices.Index(order, pending), slices.Index(order, raised); i < 0 || j < 0 || i > j {
			t.Errorf("order %v: want the older alert (%s) before the newer (%s)", order, pending, raised)
		}
		code, out, _ = tool("alerts", "--pending")
		if code != operator.ExitOK || !strings.Contains(out, "OWED SINCE (KST)") || !strings.Contains(out, "sweeper/abc until") {
			t.Errorf("table: exit %d\n%s", code, out)
		}
	})

	t.Run("overdue lists receipts past the deadline without their result, and overdue alerts raised", func(t *testing.T) {
		code, out, errOut := tool("alerts", "--overdue", "--json")
		var got operator.Overdue
		if err := json.Unmarshal([]byte(out), &got); code != operator.ExitOK || err != nil {
			t.Fatalf("exit %d, %v\n%s%s", code, err, out, errOut)
		}
		var waiting, alerts []string
		for _, a := range got.AwaitingResult {
			waiting = append(waiting, a.ItemKey)
		}
		for _, a := range got.AlertsRaised {
			alerts = append(alerts, a.ItemKey)
		}
		if got.Deadline != "66h0m0s" || !slices.Contains(waiting, awaiting) || slices.Contains(waiting, known) || slices.Contains(waiting, raised) {
			t.Errorf("deadline %s, awaiting %v: want 66h and %s only of %s, %s, %s", got.Deadline, waiting, awaiting, awaiting, known, raised)
		}
		if !slices.Contains(alerts, raised) || slices.Contains(alerts, pending) {
			t.Errorf("alerts raised %v: want %s and not the failure alert %s", alerts, raised, pending)
		}
		// Issued 2022-12-21: a deadline of 100000 hours is still ahead.
		_, out, _ = tool("alerts", "--overdue", "--deadline", "100000h", "--json")
		got = operator.Overdue{}
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.AwaitingResult) != 0 {
			t.Errorf("--deadline 100000h: %v %+v, want nothing overdue", err, got.AwaitingResult)
		}
		if code, out, _ := tool("alerts", "--overdue"); code != operator.ExitOK || !strings.Contains(out, "OVERDUE BY") {
			t.Errorf("table: exit %d\n%s", code, out)
		}
	})

	t.Run("resend refuses a cashbill with no alert or none stored", func(t *testing.T) {
		if code, _, errOut := tool("alerts", "resend", awaiting); code != operator.ExitNotFound || !strings.Contains(errOut, "has no alert") {
			t.Errorf("no alert: exit %d %q", code, errOut)
		}
		if code, _, errOut := tool("alerts", "resend", statetest.ItemKey()); code != operator.ExitNotFound || !strings.Contains(errOut, "no cashbill") {
			t.Errorf("unknown cashbill: exit %d %q", code, errOut)
		}
	})

	t.Run("resend refuses an alert another publisher holds", func(t *testing.T) {
		if code, _, errOut := tool("alerts", "resend", held); code != operator.ExitRefused || !strings.Contains(errOut, "sweeper/abc") {
			t.Errorf("exit %d %q, want %d naming the holder", code, errOut, operator.ExitRefused)
		}
	})

	deliveries := func(key string) []operator.DeliveryRecord {
		t.Helper()
		var st operator.CashbillStatus
		_, out, _ := tool("status", "--json", key)
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("status %s: %v\n%s", key, err, out)
		}
		return st.Deliveries
	}

	t.Run("a dry run of a resend publishes and records nothing", func(t *testing.T) {
		before := len(deliveries(sent))
		code, out, _ := tool("alerts", "resend", "--dry-run", "--json", sent)
		var r operator.Resent
		if err := json.Unmarshal([]byte(out), &r); code != operator.ExitOK || err != nil || !r.DryRun || r.MessageID != "" || !strings.HasPrefix(r.AlertID, sent+"/failure/resent-") {
			t.Fatalf("exit %d, %v\n%s", code, err, out)
		}
		if after := len(deliveries(sent)); after != before {
			t.Errorf("records %d -> %d after a dry run", before, after)
		}
	})

	t.Run("a sent alert is published again under its own id and recorded as resent", func(t *testing.T) {
		code, out, errOut := tool("alerts", "resend", "--by", "kim", "--json", sent)
		var r operator.Resent
		if err := json.Unmarshal([]byte(out), &r); code != operator.ExitOK || err != nil || r.Was != "sent" || r.MessageID == "" ||
			r.PreviousMessageID == "" || !strings.HasPrefix(r.AlertID, sent+"/failure/resent-") || r.RecordID == "" {
			t.Fatalf("exit %d, %v\n%s%s", code, err, out, errOut)
		}
		ds := deliveries(sent)
		if len(ds) == 0 || ds[0].ID != r.RecordID || ds[0].Outcome != state.Resent || ds[0].ResentBy != "kim" || ds[0].MessageID != r.MessageID || ds[0].AlertID != r.AlertID {
			t.Fatalf("newest record of %s: %+v, want the resend by kim as %s", sent, ds, r.MessageID)
		}
		if code, out, _ := tool("replay", r.RecordID); code != operator.ExitRefused || !strings.Contains(out, "skipped") {
			t.Errorf("replay of a resend record: exit %d\n%s", code, out)
		}
	})

	t.Run("a pending alert is published through the claim and marked sent", func(t *testing.T) {
		code, out, errOut := tool("alerts", "resend", "--by", "kim", "--json", pending)
		var r operator.Resent
		if err := json.Unmarshal([]byte(out), &r); code != operator.ExitOK || err != nil || r.Was != "pending" || r.AlertID != pending+"/failure" || r.MessageID == "" {
			t.Fatalf("exit %d, %v\n%s%s", code, err, out, errOut)
		}
		var st operator.CashbillStatus
		_, out, _ = tool("status", "--json", pending)
		if err := json.Unmarshal([]byte(out), &st); err != nil || st.Alert.Status != "sent" || st.Alert.MessageID != r.MessageID {
			t.Errorf("after the resend: %+v (%v), want sent as %s", st.Alert, err, r.MessageID)
		}
		_, out, _ = tool("alerts", "--pending", "--json")
		if strings.Contains(out, pending) {
			t.Errorf("still pending after the resend:\n%s", out)
		}
	})
}
