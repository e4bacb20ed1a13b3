package config_test

import (
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
)

func TestReadObservabilityTakesANamespaceAndTracingAndRefusesNonsense(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    config.Observability
		wantErr bool
	}{
		{name: "unset: no metrics, no tracing", env: nil, want: config.Observability{}},
		{name: "the template's default", env: map[string]string{config.MetricsNamespace: "PopbillWebhook", config.Tracing: "PassThrough"},
			want: config.Observability{Namespace: "PopbillWebhook"}},
		{name: "Active turns tracing on", env: map[string]string{config.MetricsNamespace: "Popbill/prod", config.Tracing: "Active"},
			want: config.Observability{Namespace: "Popbill/prod", Tracing: true}},
		{name: "every character CloudWatch allows", env: map[string]string{config.MetricsNamespace: "Az09.-_/#: x"},
			want: config.Observability{Namespace: "Az09.-_/#: x"}},
		{name: "a namespace of AWS's is refused", env: map[string]string{config.MetricsNamespace: "AWS/Lambda"}, wantErr: true},
		{name: "a namespace with a brace is refused", env: map[string]string{config.MetricsNamespace: "Popbill{x}"}, wantErr: true},
		{name: "a namespace over 255 characters is refused", env: map[string]string{config.MetricsNamespace: strings.Repeat("n", 256)}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config.ReadObservability(env(tc.env))
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), config.MetricsNamespace) {
					t.Fatalf("error %v, want one naming %s", err, config.MetricsNamespace)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
