package statechange

import "time"

// Envelope is the event as EventBridge hands it to a rule's target (an SQS
// message body, an API destination's request body): the local server prints
// and POSTs this shape, so that a consumer built on a workstation reads what
// a deployed bus delivers.
type Envelope struct {
	Version    string    `json:"version"`
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Account    string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"`
	Detail     Detail    `json:"detail"`
}

// Wrap puts d in an envelope with the given id, account and region, timed at.
func Wrap(d Detail, id, account, region string, at time.Time) Envelope {
	return Envelope{
		Version: "0", ID: id, DetailType: DetailType, Source: Source,
		Account: account, Time: at.UTC().Truncate(time.Second), Region: region,
		Resources: []string{}, Detail: d,
	}
}
