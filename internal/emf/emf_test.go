package emf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/emf"
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

// TestSeveralDirectivesShareOneLineAndEachMemberOnce: a metric counted under
// two dimension sets is one member of the line (EMF reads a value per member
// name), named by both directives; no directive writes nothing.
func TestSeveralDirectivesShareOneLineAndEachMemberOnce(t *testing.T) {
	at := time.UnixMilli(1764220233123)
	deliveries := emf.Metric{Name: "deliveries", Unit: emf.Count, Value: 1}
	attrs := emf.Attrs(at,
		emf.Directive{Namespace: "N", Dimensions: []string{"outcome"}, Metrics: []emf.Metric{deliveries}},
		emf.Directive{Namespace: "N", Dimensions: []string{"outcome", "reasonCode"}, Metrics: []emf.Metric{deliveries}},
		emf.Directive{Namespace: "N", Metrics: []emf.Metric{{Name: "applyMs", Unit: emf.Milliseconds, Value: 3.5}}},
	)
	names := map[string]int{}
	for _, a := range attrs {
		names[a.Key]++
	}
	if want := map[string]int{"_aws": 1, "deliveries": 1, "applyMs": 1}; !reflect.DeepEqual(names, want) {
		t.Errorf("members = %v, want %v", names, want)
	}
	got := line(t, append(attrs, slog.String("outcome", "rejected"), slog.String("reasonCode", "auth"))...)
	directives := got["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)
	var dims []any
	for _, d := range directives {
		dims = append(dims, d.(map[string]any)["Dimensions"])
	}
	want := []any{[]any{[]any{"outcome"}}, []any{[]any{"outcome", "reasonCode"}}, []any{[]any{}}}
	if !reflect.DeepEqual(dims, want) {
		t.Errorf("dimension sets = %v, want %v", dims, want)
	}
	if got["applyMs"] != 3.5 || got["deliveries"] != 1.0 {
		t.Errorf("values: applyMs %v, deliveries %v", got["applyMs"], got["deliveries"])
	}
	if len(emf.Attrs(at)) != 0 {
		t.Error("no directive wrote attributes")
	}
}
