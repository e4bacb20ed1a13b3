package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
)

// The sweeper's own settings; it reads STATE_TABLE and ALERT_TOPIC_ARN too.
const (
	SweepThreshold = "SWEEP_THRESHOLD"
	ResultDeadline = "RESULT_DEADLINE"
	SweepBatch     = "SWEEP_BATCH"
)

// SweeperVariables is every setting the sweeper function reads: its own,
// then those of every alert publisher (storms, presentation).
var SweeperVariables = slices.Concat(sweeperVariables, StormVariables, PresentationVariables)

var sweeperVariables = []Variable{
	{Name: StateTable, Doc: "Required. The webhook's state table, with its `due` index."},
	{Name: AlertTopicARN, Doc: "Required. The alert topic the webhook publishes to."},
	{Name: SweepThreshold, Doc: "How long an alert stays pending before the sweeper publishes it (a Go duration). Default `2m`, the webhook's lease."},
	{Name: ResultDeadline, Doc: "How long after midnight KST of the issue date a cashbill at 300 may wait for its NTS result before an \"NTS result overdue\" alert. Default `66h`: 18:00 KST on the second day after issue."},
	{Name: SweepBatch, Doc: "The most items one run takes from each queue; the rest wait for the next run. Default `200`."},
	ObservabilityVariables[0], ObservabilityVariables[1],
}

// ReadSweep reads the sweeper's tuning; unset variables are left zero
// (the sweeper's defaults).
func ReadSweep(getenv func(string) string) (sweeper.Settings, error) {
	var s sweeper.Settings
	var err error
	if s.Threshold, err = duration(getenv, SweepThreshold); err != nil {
		return s, err
	}
	if s.Deadline, err = duration(getenv, ResultDeadline); err != nil {
		return s, err
	}
	if v := strings.TrimSpace(getenv(SweepBatch)); v != "" {
		if s.Batch, err = strconv.Atoi(v); err != nil || s.Batch <= 0 {
			return s, fmt.Errorf("%s must be a positive whole number, got %q", SweepBatch, v)
		}
	}
	obs, err := ReadObservability(getenv)
	if err != nil {
		return s, err
	}
	s.MetricsNamespace = obs.Namespace
	return s, nil
}

func duration(getenv func(string) string, name string) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 2m or 66h, got %q", name, v)
	}
	return d, nil
}

// ReadStore reads the two settings every function that writes the state
// table reads: STATE_TABLE and ALERT_TOPIC_ARN, both required.
func ReadStore(getenv func(string) string) (table, topic string, err error) {
	if table, err = Required(getenv, StateTable); err != nil {
		return "", "", err
	}
	if topic, err = Required(getenv, AlertTopicARN); err != nil {
		return "", "", err
	}
	return table, topic, nil
}

// SweepInterval is read by the local server only (make run): how often it
// runs the sweeper on its own store. In AWS the schedule is the template's.
const SweepInterval = "SWEEP_INTERVAL"

// LocalServerVariables are the settings only the local server reads.
var LocalServerVariables = []Variable{
	{Name: SweepInterval, Doc: "How often `make run` runs the sweeper and watchdog on its own store (a Go duration). Default `30s`; `0` turns it off.", LocalOnly: true},
	{Name: ArchiveRetentionDays, Doc: "Days a delivery stays in the delivery archive, 1 to 3650. Default 90. `make run`'s bbolt file drops older ones; the `cashbill` tool looks that far back in a log group (with `--stack`, the stack's `ArchiveRetentionDays`).", LocalOnly: true},
	{Name: ArchiveLogGroup, Doc: "With `STORE=dynamodb`, the CloudWatch Logs group the local server archives deliveries into (`make run-moto`: the one `make local-infra` creates); the `cashbill` tool reads it without `--stack`.", LocalOnly: true},
}

// DefaultSweepInterval is the local server's sweep period.
const DefaultSweepInterval = 30 * time.Second

// ReadSweepInterval reads SWEEP_INTERVAL: unset, the default; 0, off (zero).
func ReadSweepInterval(getenv func(string) string) (time.Duration, error) {
	switch v := strings.TrimSpace(getenv(SweepInterval)); v {
	case "":
		return DefaultSweepInterval, nil
	case "0":
		return 0, nil
	}
	return duration(getenv, SweepInterval)
}
