package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
)

// The settings of alert storms: above a number of failure alerts per
// business within a window, the rest of the window's go into one digest.
// The webhook and the sweeper both route alerts, so both read them.
const (
	AlertStormThreshold = "ALERT_STORM_THRESHOLD"
	AlertStormWindow    = "ALERT_STORM_WINDOW"
)

// Defaults of the storm settings.
const (
	DefaultStormThreshold = 5
	DefaultStormWindow    = 10 * time.Minute
)

// StormVariables are the settings ReadStorm reads.
var StormVariables = []Variable{
	{Name: AlertStormThreshold, Doc: "How many NTS-failure alerts of one business a storm window sends one by one; the window's later ones go into one digest, published when the window ends. Default `5`; `0` turns digests off (every alert sent one by one)."},
	{Name: AlertStormWindow, Doc: "The length of a storm window (a Go duration, windows aligned to the clock, at least `1m`). Default `10m`."},
}

// ReadStorm reads the storm policy, with its defaults; Threshold 0 means no digests.
func ReadStorm(getenv func(string) string) (outbox.StormPolicy, error) {
	s := outbox.StormPolicy{Threshold: DefaultStormThreshold, Window: DefaultStormWindow}
	if v := strings.TrimSpace(getenv(AlertStormThreshold)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s, fmt.Errorf("%s must be a whole number, 0 or more, got %q", AlertStormThreshold, v)
		}
		s.Threshold = n
	}
	w, err := duration(getenv, AlertStormWindow)
	switch {
	case err != nil:
		return s, err
	case w != 0 && w < time.Minute:
		return s, fmt.Errorf("%s must be at least 1m, got %q", AlertStormWindow, getenv(AlertStormWindow))
	case w != 0:
		s.Window = w
	}
	return s, nil
}
