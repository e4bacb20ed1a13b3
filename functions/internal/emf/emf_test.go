package emf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/functions/internal/emf"
)

// line logs attrs with slog's JSON handler, as the functions do, and decodes it.
func line(t *testing.T, attrs ...slog.Attr) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %s", buf.Bytes())
	}
	return m
}

// TestLineIsAnEMFDocument pins the shape CloudWatch Logs reads: the `_aws`
// member with a millisecond timestamp and one directive naming the
// namespace, the dimension sets and each metric, and every metric and
// dimension a member of the same line.
func TestLineIsAnEMFDocument(t *testing.T) {
	at := time.UnixMilli(1764220233123)
	cases := []struct {
		name      string
		directive emf.Directive
		extra     []slog.Attr
		wantDims  []any
		wantDefs  []any
		wantVals  map[string]any
	}{
		{
			name: "metric added, one dimension, latency already on the line",
			directive: emf.Directive{
				Namespace:  "PopbillWebhook",
				Dimensions: []string{"outcome"},
				Metrics:    []emf.Metric{{Name: "deliveries", Unit: emf.Count, Value: 1}},
				Declared:   []emf.Metric{{Name: "latencyMs", Unit: emf.Milliseconds}},
			},
			extra:    []slog.Attr{slog.String("outcome", "stored"), slog.Float64("latencyMs", 4.2)},
			wantDims: []any{[]any{"outcome"}},
			wantDefs: []any{
				map[string]any{"Name": "deliveries", "Unit": "Count"},
				map[string]any{"Name": "latencyMs", "Unit": "Milliseconds"},
			},
			wantVals: map[string]any{"deliveries": 1.0, "latencyMs": 4.2, "outcome": "stored"},
		},
		{
			name:      "no dimensions publishes one aggregate",
			directive: emf.Directive{Namespace: "N", Metrics: []emf.Metric{{Name: "alertsPublished", Unit: emf.Count, Value: 2}}},
			wantDims:  []any{[]any{}},
			wantDefs:  []any{map[string]any{"Name": "alertsPublished", "Unit": "Count"}},
			wantVals:  map[string]any{"alertsPublished": 2.0},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := line(t, append(tc.directive.Attrs(at), tc.extra...)...)
			aws, _ := got["_aws"].(map[string]any)
			if aws["Timestamp"] != float64(at.UnixMilli()) {
				t.Errorf("Timestamp = %v, want %d", aws["Timestamp"], at.UnixMilli())
			}
			directives, _ := aws["CloudWatchMetrics"].([]any)
			if len(directives) != 1 {
				t.Fatalf("CloudWatchMetrics = %v, want one directive", aws["CloudWatchMetrics"])
			}
			d := directives[0].(map[string]any)
			if d["Namespace"] != tc.directive.Namespace {
				t.Errorf("Namespace = %v", d["Namespace"])
			}
			if !reflect.DeepEqual(d["Dimensions"], tc.wantDims) {
				t.Errorf("Dimensions = %v, want %v", d["Dimensions"], tc.wantDims)
			}
			if !reflect.DeepEqual(d["Metrics"], tc.wantDefs) {
				t.Errorf("Metrics = %v, want %v", d["Metrics"], tc.wantDefs)
			}
			for k, v := range tc.wantVals {
				if got[k] != v {
					t.Errorf("member %s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}
