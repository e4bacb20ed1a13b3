// Package alert holds the NTS-failure alert: what it says, how it is rendered
// for each channel, and the port through which it is published.
//
// An alert is built once, when a cashbill first reaches stateCode 305, and stored
// with the cashbill until it has been published, so that whichever delivery (or,
// later, a sweeper) publishes it sends exactly the same content.
package alert

import (
	"context"
	"encoding/json"
	"fmt"
)

// Failure is the content of an NTS filing failure alert. Its JSON form is the
// SNS default message: subscribers (SQS, Lambda, HTTP) parse it, so field names
// are a public contract and follow POPBiLL's names.
type Failure struct {
	ItemKey          string `json:"itemKey"`
	FranchiseCorpNum string `json:"franchiseCorpNum"`
	MgtKey           string `json:"mgtKey"`
	ConfirmNum       string `json:"confirmNum"`
	TradeDate        string `json:"tradeDate"`
	StateCode        int    `json:"stateCode"`
	NTSResultCode    string `json:"ntsresultCode"`
	NTSResultDT      string `json:"ntsresultDT,omitempty"`
	EventDT          string `json:"eventDT"`
	EventType        string `json:"eventType"`
	IssueDT          string `json:"issueDT,omitempty"`
	// MID is the Pb-Webhook-MID of the delivery that first carried the failure.
	MID string `json:"mid,omitempty"`
	// Kind is KindFailure, KindOverdue or KindDigest; empty reads as
	// KindFailure (an alert stored before kinds existed).
	Kind Kind `json:"kind,omitempty"`
	// AlertID is ID(ItemKey, Kind): the same for every publish of this alert,
	// so that subscribers can drop a second delivery of it.
	AlertID string `json:"alertId,omitempty"`

	// What the publishing deployment adds (Presentation.Stamp), for the
	// reader; never stored with the item, so a changed setting applies to
	// the next publish.
	Environment  string `json:"environment,omitempty"`
	BusinessName string `json:"businessName,omitempty"`
	RunbookURL   string `json:"runbookUrl,omitempty"`
	LogsURL      string `json:"logsUrl,omitempty"`

	// Digest is set on a KindDigest alert only: the failures it lists.
	Digest *Digest `json:"digest,omitempty"`
}

// Kind is what an alert is about. A cashbill's item has one alert slot: a
// failure alert replaces an overdue one (the NTS result is then known), and
// an overdue alert is raised only into an empty slot.
type Kind string

// The kinds of alert.
const (
	// KindFailure: the NTS rejected the receipt (stateCode 305); owed by
	// the first authenticated 305 of a cashbill.
	KindFailure Kind = "failure"
	// KindOverdue: no NTS result arrived by the deadline.
	KindOverdue Kind = "overdue"
	// KindDigest: one message listing the alerts of a storm (package alert's Digest).
	KindDigest Kind = "digest"
)

// ID is the stable id of a cashbill's alert of kind: "<itemKey>/<kind>".
func ID(itemKey string, kind Kind) string { return itemKey + "/" + string(kind) }

// KindOf is f's kind, KindFailure when it has none.
func KindOf(f Failure) Kind {
	if f.Kind == "" {
		return KindFailure
	}
	return f.Kind
}

// IDOf is f's alert id, derived for an alert stored before ids existed.
func IDOf(f Failure) string {
	if f.AlertID != "" {
		return f.AlertID
	}
	return ID(f.ItemKey, KindOf(f))
}

// Publisher sends an alert to the people who act on it. Publish returns the
// channel's message id. It must not report success unless the alert was
// accepted for delivery: the caller records a success and never sends again.
type Publisher interface {
	Publish(ctx context.Context, f Failure) (messageID string, err error)
}

// Encode is the stored and default-message form of f.
func Encode(f Failure) []byte {
	b, err := json.Marshal(f)
	if err != nil {
		// A struct of strings and an int always marshals.
		panic(fmt.Sprintf("alert: encode failure: %v", err))
	}
	return b
}

// Decode reads what Encode wrote.
func Decode(b []byte) (Failure, error) {
	var f Failure
	if err := json.Unmarshal(b, &f); err != nil {
		return Failure{}, fmt.Errorf("alert: decode stored alert: %w", err)
	}
	return f, nil
}
