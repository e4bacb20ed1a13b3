// Package statechange is the event every accepted increase of a cashbill's
// stateCode publishes, for the partner's own systems: its contract (Source,
// DetailType, Detail, docs/events.md) and the rule that decides what counts
// as an increase. It imports nothing from AWS: the forwarder (package
// forwarder) reads the state table's stream into it and puts it on the
// EventBridge bus; the local server (package eventsink) prints or POSTs it.
package statechange

import (
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// The event's source and detail type on the bus: what a rule matches.
const (
	Source     = "popbill-webhook.cashbill"
	DetailType = "Cashbill State Changed"
)

// Detail is the event's detail. Fields keep POPBiLL's names. MgtKey,
// NTSResultCode and NTSResultDT are absent when the event had none;
// PreviousStateCode is absent for a new cashbill.
type Detail struct {
	ItemKey           string `json:"itemKey"`
	FranchiseCorpNum  string `json:"franchiseCorpNum"`
	CorpNum           string `json:"corpNum"`
	MgtKey            string `json:"mgtKey,omitempty"`
	ConfirmNum        string `json:"confirmNum"`
	TradeDate         string `json:"tradeDate"`
	StateCode         int    `json:"stateCode"`
	PreviousStateCode int    `json:"previousStateCode,omitempty"`
	EventType         string `json:"eventType"`
	EventDT           string `json:"eventDT"`
	StateDT           string `json:"stateDT"`
	NTSResultCode     string `json:"ntsresultCode,omitempty"`
	NTSResultDT       string `json:"ntsresultDT,omitempty"`
	// MID is the delivery's Pb-Webhook-MID; ReceivedAt when the receiver got it (UTC).
	MID        string    `json:"mid"`
	ReceivedAt time.Time `json:"receivedAt"`
}

// New is the event of a stored increase: the event as stored, its message
// id and receipt time, and the stateCode it replaced (0: a new cashbill).
func New(ev cashbill.Event, mid string, receivedAt time.Time, previous int) Detail {
	return Detail{
		ItemKey: ev.ItemKey, FranchiseCorpNum: ev.FranchiseCorpNum, CorpNum: ev.CorpNum,
		MgtKey: ev.MgtKey, ConfirmNum: ev.ConfirmNum, TradeDate: ev.TradeDate,
		StateCode: ev.StateCode, PreviousStateCode: previous,
		EventType: ev.EventType, EventDT: ev.EventDT, StateDT: ev.StateDT,
		NTSResultCode: ev.NTSResultCode, NTSResultDT: ev.NTSResultDT,
		MID: mid, ReceivedAt: receivedAt.UTC(),
	}
}

// Increase decides from a write to the state table, the item before it (nil
// when the write created it) and after it, whether the write raised the
// stateCode, and returns its event if so. Every other write publishes
// nothing: the alert's lifecycle (claims, leases, marks, queues, digests)
// rewrites the item with the same stateCode, and the store never lowers it.
// An item with no stateCode is not a cashbill state.
func Increase(before *state.Item, after state.Item) (Detail, bool) {
	if after.Event.StateCode == 0 {
		return Detail{}, false
	}
	previous := 0
	if before != nil && before.Event.StateCode != 0 {
		previous = before.Event.StateCode
		if after.Event.StateCode <= previous {
			return Detail{}, false
		}
	}
	return New(after.Event, after.MID, after.ReceivedAt, previous), true
}

// Applied is the event of an Apply result, for stores that announce their
// own writes (the local server): only Stored publishes.
func Applied(d state.Delivery, res state.Result) (Detail, bool) {
	if res.Outcome != state.Stored {
		return Detail{}, false
	}
	return New(d.Event, d.MID, d.ReceivedAt, res.PreviousStateCode), true
}
