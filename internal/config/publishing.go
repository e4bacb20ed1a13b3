package config

import "github.com/popbill-cashbill-webhook/receiver/internal/outbox"

// Publishing is what every function that stores and publishes alerts reads
// (the webhook and the sweeper): the state table and alert topic, the
// outbox's settings (how alerts are presented, the alert-storm policy), and
// metrics and tracing.
type Publishing struct {
	Table, Topic  string
	Outbox        outbox.Settings
	Observability Observability
}

// ReadPublishing reads Publishing; its errors name the variable to fix.
func ReadPublishing(getenv func(string) string) (Publishing, error) {
	var p Publishing
	var err error
	if p.Table, p.Topic, err = ReadStore(getenv); err != nil {
		return p, err
	}
	if p.Outbox, err = ReadOutbox(getenv); err != nil {
		return p, err
	}
	p.Observability, err = ReadObservability(getenv)
	return p, err
}

// ReadOutbox reads what every alert publisher shares (package outbox's
// Settings): the webhook, the sweeper, the local server and the operator
// tool's replay and resend all build their outbox from it, so an alert reads
// the same whoever publishes it.
func ReadOutbox(getenv func(string) string) (outbox.Settings, error) {
	pres, err := ReadPresentation(getenv)
	if err != nil {
		return outbox.Settings{}, err
	}
	storm, err := ReadStorm(getenv)
	return outbox.Settings{Presentation: &pres, Storm: storm}, err
}
