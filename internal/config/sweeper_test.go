package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
)

func TestReadSweepTakesDurationsAndRefusesNonsense(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    config.Sweep
		wantErr string
	}{
		{"unset leaves the defaults to the sweeper", nil, config.Sweep{}, ""},
		{"durations and a batch", map[string]string{config.SweepThreshold: "5m", config.ResultDeadline: "42h", config.SweepBatch: "50"},
			config.Sweep{Threshold: 5 * time.Minute, Deadline: 42 * time.Hour, Batch: 50}, ""},
		{"a bare number is not a duration", map[string]string{config.ResultDeadline: "66"}, config.Sweep{}, config.ResultDeadline},
		{"a negative threshold", map[string]string{config.SweepThreshold: "-2m"}, config.Sweep{}, config.SweepThreshold},
		{"a zero batch", map[string]string{config.SweepBatch: "0"}, config.Sweep{}, config.SweepBatch},
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
