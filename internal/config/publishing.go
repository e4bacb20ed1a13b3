package config

import "github.com/popbill-cashbill-webhook/receiver/internal/alert"

// Publishing is what every function that stores and publishes alerts reads
// (the webhook and the sweeper): the state table and alert topic, how alerts
// are presented, metrics and tracing, and the alert-storm policy.
type Publishing struct {
	Table, Topic  string
	Presentation  alert.Presentation
	Observability Observability
	Storm         Storm
}

// ReadPublishing reads Publishing; its errors name the variable to fix.
func ReadPublishing(getenv func(string) string) (Publishing, error) {
	var p Publishing
	var err error
	if p.Table, p.Topic, err = ReadStore(getenv); err != nil {
		return p, err
	}
	if p.Presentation, err = ReadPresentation(getenv); err != nil {
		return p, err
	}
	if p.Observability, err = ReadObservability(getenv); err != nil {
		return p, err
	}
	p.Storm, err = ReadStorm(getenv)
	return p, err
}
