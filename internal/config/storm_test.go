package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
)

func TestReadStormHasDefaultsAndRefusesNonsense(t *testing.T) {
	def := outbox.StormPolicy{Threshold: 5, Window: 10 * time.Minute}
	cases := []struct {
		name    string
		env     map[string]string
		want    outbox.StormPolicy
		wantErr string
	}{
		{"unset is 5 per 10 minutes", nil, def, ""},
		{"a threshold and a window", map[string]string{config.AlertStormThreshold: "20", config.AlertStormWindow: "30m"}, outbox.StormPolicy{Threshold: 20, Window: 30 * time.Minute}, ""},
		{"zero turns digests off", map[string]string{config.AlertStormThreshold: "0"}, outbox.StormPolicy{Threshold: 0, Window: 10 * time.Minute}, ""},
		{"a negative threshold", map[string]string{config.AlertStormThreshold: "-1"}, def, config.AlertStormThreshold},
		{"a window under a minute", map[string]string{config.AlertStormWindow: "30s"}, def, config.AlertStormWindow},
		{"a window that is no duration", map[string]string{config.AlertStormWindow: "10"}, def, config.AlertStormWindow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config.ReadStorm(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ReadStorm = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
