package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
)

func TestReadSweepTakesDurationsAndRefusesNonsense(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    sweeper.Settings
		wantErr string
	}{
		{"unset leaves the defaults to the sweeper", nil, sweeper.Settings{}, ""},
		{"durations and a batch", map[string]string{config.SweepThreshold: "5m", config.ResultDeadline: "42h", config.SweepBatch: "50"},
			sweeper.Settings{Threshold: 5 * time.Minute, Deadline: 42 * time.Hour, Batch: 50}, ""},
		{"a bare number is not a duration", map[string]string{config.ResultDeadline: "66"}, sweeper.Settings{}, config.ResultDeadline},
		{"a negative threshold", map[string]string{config.SweepThreshold: "-2m"}, sweeper.Settings{}, config.SweepThreshold},
		{"a zero batch", map[string]string{config.SweepBatch: "0"}, sweeper.Settings{}, config.SweepBatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config.ReadSweep(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ReadSweep = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
