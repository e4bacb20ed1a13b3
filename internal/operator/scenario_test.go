package operator_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/operator"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

const credential = "popbill:local-secret"

// site is where the scenario runs: the adapters the receiver writes with,
// and the flags that point the tool at the same store.
type site struct {
	store  state.Store
	queues state.Queues
	rec    archive.Recorder
	alerts alert.Publisher
	// done is called once the receiver has written, before the tool reads.
	done  func()
	flags []string
}

func body(itemKey string, stateCode int) string {
	ev := map[string]any{
		"corpNum": "6798700433", "franchiseCorpNum": "6798700433", "itemKey": itemKey, "tradeDate": "20221221",
		"confirmNum": "TB0001146", "stateCode": stateCode, "stateDT": "20221221161912", "issueDT": "20221221161912",
		"mgtKey": "M-" + itemKey[10:], "eventDT": "20221221161912", "eventType": "Issue", "interOPYN": true,
	}
	if stateCode == 305 {
		ev["eventType"], ev["ntssendDT"], ev["ntsresultDT"], ev["ntsresultCode"] = "NTS", "20221222000000", "20221222100033", "TS4"
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

func request(mid, body, cred string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Headers: map[string]string{
			"authorization":   "Basic " + base64.StdEncoding.EncodeToString([]byte(cred)),
			"pb-webhook-type": "CASHBILL.STATE", "pb-webhook-mid": mid, "content-type": "application/json",
		},
		Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "api-" + mid,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", SourceIP: "54.180.62.221"}},
	}
}

// run runs the tool and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := operator.Run(context.Background(), args, &out, &errOut, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

// refusedThenReplayed is the scenario every site runs: an Issue accepted, its
// NTS failure refused for a wrong credential (a botched rotation), then the
// operator looks it up and replays it after the fix.
func refusedThenReplayed(t *testing.T, s site) {
	key := statetest.ItemKey()
	mgt := "M-" + key[10:]
	v, err := auth.New(auth.Basic, credential)
	if err != nil {
		t.Fatal(err)
	}
	h := webhook.New(webhook.Rules{Auth: v}, s.store, outbox.New(s.store, s.alerts, nil, outbox.Settings{}), slog.New(slog.NewJSONHandler(io.Discard, nil)),
		webhook.WithArchive(s.rec, 24*time.Hour))
	for _, c := range []struct {
		mid, body, cred string
		status          int
	}{
		{"m-300", body(key, 300), credential, 200},
		{"m-305", body(key, 305), "popbill:old-secret", 401},
	} {
		resp, _ := h.Handle(context.Background(), request(c.mid, c.body, c.cred))
		if resp.StatusCode != c.status {
			t.Fatalf("%s: %d %s, want %d", c.mid, resp.StatusCode, resp.Body, c.status)
		}
	}
	s.done()
	flags := s.flags

	code, out, _ := run(t, append([]string{"status", key}, flags...)...)
	if code != operator.ExitOK || !strings.Contains(out, "300 issued") || !strings.Contains(out, "deliveries, newest first (1)") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, append([]string{"status", "--json", "--corp", "679-87-00433", "--mgt", mgt}, flags...)...)
	var byMgt []operator.CashbillStatus
	if err := json.Unmarshal([]byte(out), &byMgt); code != operator.ExitOK || err != nil || len(byMgt) != 1 || byMgt[0].ItemKey != key {
		t.Fatalf("status --corp --mgt: exit %d, %v\n%s", code, err, out)
	}
	if code, _, _ := run(t, append([]string{"status", statetest.ItemKey()}, flags...)...); code != operator.ExitNotFound {
		t.Errorf("status of an unknown cashbill: exit %d, want %d", code, operator.ExitNotFound)
	}

	code, out, _ = run(t, append([]string{"deliveries", "--since", "1h", "--outcome", "rejected", "--json"}, flags...)...)
	var refused []operator.DeliveryRecord
	if err := json.Unmarshal([]byte(out), &refused); code != operator.ExitOK || err != nil || len(refused) != 1 || refused[0].Status != 401 {
		t.Fatalf("deliveries --outcome rejected: exit %d, %v\n%s", code, err, out)
	}
	id := refused[0].ID
	if refused[0].Headers["authorization"] != "" || strings.Contains(out, "old-secret") {
		t.Error("the refused credential was archived")
	}
	code, out, _ = run(t, append([]string{"deliveries", "--since", "1h"}, flags...)...)
	if code != operator.ExitOK || strings.Count(out, "\n") < 3 || !strings.Contains(out, "RECEIVED (KST)") {
		t.Errorf("deliveries table: exit %d\n%s", code, out)
	}

	// Not vouched for: skipped, exit 5, nothing stored.
	code, out, _ = run(t, append([]string{"replay", id}, flags...)...)
	if code != operator.ExitRefused || !strings.Contains(out, "skipped") {
		t.Errorf("replay without --include-unauthenticated: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, append([]string{"replay", "--dry-run", "--include-unauthenticated", "--json", id}, flags...)...)
	var dry []operator.Replayed
	if err := json.Unmarshal([]byte(out), &dry); code != operator.ExitOK || err != nil || len(dry) != 1 || dry[0].Status != 200 || dry[0].Outcome != "stored" || !dry[0].AlertOwed {
		t.Fatalf("replay --dry-run: exit %d, %v\n%s", code, err, out)
	}
	var st operator.CashbillStatus
	_, out, _ = run(t, append([]string{"status", "--json", key}, flags...)...)
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.State == nil || st.State.Event.StateCode != 300 {
		t.Fatalf("after the dry run the state is %s (%v), want 300 unchanged", out, err)
	}

	code, out, _ = run(t, append([]string{"replay", "--since", "1h", "--outcome", "rejected", "--include-unauthenticated", "--json"}, flags...)...)
	var replayed []operator.Replayed
	if err := json.Unmarshal([]byte(out), &replayed); code != operator.ExitOK || err != nil || len(replayed) != 1 || replayed[0].Status != 200 || replayed[0].Outcome != "stored" {
		t.Fatalf("replay --since --outcome rejected: exit %d, %v\n%s", code, err, out)
	}
	_, out, _ = run(t, append([]string{"status", "--json", key}, flags...)...)
	st = operator.CashbillStatus{}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.State == nil || st.State.Event.StateCode != 305 || st.Alert.Status != "sent" {
		t.Fatalf("after the replay: %s (%v), want 305 with its alert sent", out, err)
	}
	if len(st.Deliveries) != 2 || st.Deliveries[0].ReplayOf != id {
		t.Errorf("deliveries after the replay: %+v, want the replay (of %s) first", st.Deliveries, id)
	}
}

func TestEveryCommandHasHelpAndUsageErrorsExit2(t *testing.T) {
	for _, c := range []string{"status", "deliveries", "replay", "alerts"} {
		t.Run(c, func(t *testing.T) {
			if code, _, errOut := run(t, c, "--help"); code != operator.ExitOK || !strings.Contains(errOut, "Usage: cashbill "+c) || !strings.Contains(errOut, "Exit codes") {
				t.Errorf("%s --help: exit %d\n%s", c, code, errOut)
			}
			if code, _, _ := run(t, c, "--no-such-flag"); code != operator.ExitUsage {
				t.Errorf("%s --no-such-flag: exit %d, want %d", c, code, operator.ExitUsage)
			}
		})
	}
	if code, out, _ := run(t, "--help"); code != operator.ExitOK || !strings.Contains(out, "alerts --pending") {
		t.Errorf("--help: exit %d, want the alerts commands named\n%s", code, out)
	}
	if code, _, _ := run(t, "frobnicate"); code != operator.ExitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
}
