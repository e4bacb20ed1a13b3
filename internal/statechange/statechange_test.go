package statechange_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/golden"
)

var received = time.Date(2025, 11, 27, 5, 10, 3, 120_000_000, time.UTC)

func issued() cashbill.Event {
	return cashbill.Event{
		CorpNum: "6798700433", FranchiseCorpNum: "6798700433", ItemKey: "025112714103200001",
		TradeDate: "20251127", ConfirmNum: "TB0001146", StateCode: 300,
		StateDT: "20251127141032", IssueDT: "20251127141032", MgtKey: "20251127-0001",
		EventDT: "20251127141032", EventType: "Issue", NTSSendDT: "",
	}
}

func failed() cashbill.Event {
	ev := issued()
	ev.StateCode, ev.EventType, ev.EventDT, ev.StateDT = 305, "NTS", "20251128100033", "20251128100033"
	ev.NTSSendDT, ev.NTSResultDT, ev.NTSResultCode = "20251128000000", "20251128100033", "TS4"
	return ev
}

func item(ev cashbill.Event, mid string) state.Item {
	return state.Item{Event: ev, MID: mid, ReceivedAt: received, AlertStatus: state.AlertPending}
}

// TestDetailIsTheDocumentedContract pins the event's detail, as consumers
// parse it (docs/events.md), for each shape it takes.
func TestDetailIsTheDocumentedContract(t *testing.T) {
	onSite := issued()
	onSite.MgtKey = ""
	cases := []struct {
		name   string
		detail statechange.Detail
	}{
		{"new-cashbill", statechange.New(issued(), "025112714103-8c1f0e2a4b7d4e19a6f3b5d", received, 0)},
		{"nts-failure-after-issue", statechange.New(failed(), "025112810003-1b2c", received, 300)},
		{"made-on-the-popbill-site", statechange.New(onSite, "m-3", received.In(time.FixedZone("KST", 9*3600)), 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.MarshalIndent(tc.detail, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, tc.name+".detail.json", string(b)+"\n")
		})
	}
}

// TestEnvelopeIsWhatEventBridgeDelivers pins what the local server prints
// and POSTs: the shape a rule's target receives.
func TestEnvelopeIsWhatEventBridgeDelivers(t *testing.T) {
	env := statechange.Wrap(statechange.New(failed(), "m-2", received, 300), "local-1", "000000000000", "local", received)
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "envelope.json", string(b)+"\n")
}

// TestOnlyIncreasesPublish: of every write to the state table, only one that
// raised the stateCode (or created the cashbill) is an event.
func TestOnlyIncreasesPublish(t *testing.T) {
	at300, at305 := item(issued(), "m-1"), item(failed(), "m-2")
	claimed := at305
	claimed.AlertLeaseOwner = "req-1"
	cases := []struct {
		name     string
		before   *state.Item
		after    state.Item
		want     bool
		previous int
	}{
		{"a new cashbill publishes with no previous state", nil, at300, true, 0},
		{"an increase publishes with the state it replaced", &at300, at305, true, 300},
		{"a claim on the alert (same state) publishes nothing", &at305, claimed, false, 0},
		{"a rewrite with the same state publishes nothing", &at300, at300, false, 0},
		{"a lower state (never written by the store) publishes nothing", &at305, at300, false, 0},
		{"an item with no state publishes nothing", nil, state.Item{Event: cashbill.Event{ItemKey: "025112714103200001"}}, false, 0},
		{"a state written over an item with no state publishes as new", &state.Item{}, at300, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := statechange.Increase(tc.before, tc.after)
			if ok != tc.want || d.PreviousStateCode != tc.previous {
				t.Fatalf("Increase = %v, previous %d; want %v, previous %d", ok, d.PreviousStateCode, tc.want, tc.previous)
			}
			if ok && (d.StateCode != tc.after.Event.StateCode || d.MID != tc.after.MID || !d.ReceivedAt.Equal(received)) {
				t.Errorf("detail %+v is not the stored item's", d)
			}
		})
	}
}

// TestAppliedPublishesStoredOnly: the local server's view of the same rule.
func TestAppliedPublishesStoredOnly(t *testing.T) {
	d := state.Delivery{Event: failed(), MID: "m-2", ReceivedAt: received}
	for _, tc := range []struct {
		res  state.Result
		want bool
	}{
		{state.Result{Outcome: state.Stored, StateCode: 305, PreviousStateCode: 300}, true},
		{state.Result{Outcome: state.Duplicate, StateCode: 305}, false},
		{state.Result{Outcome: state.Stale, StateCode: 400, AlertPending: true}, false},
	} {
		got, ok := statechange.Applied(d, tc.res)
		if ok != tc.want {
			t.Errorf("Applied(%s) = %v, want %v", tc.res.Outcome, ok, tc.want)
		}
		if ok && got.PreviousStateCode != 300 {
			t.Errorf("previousStateCode = %d, want 300", got.PreviousStateCode)
		}
	}
}
