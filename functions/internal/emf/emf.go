// Package emf writes CloudWatch metrics as the Embedded Metric Format: a
// `_aws` member added to a JSON log line tells CloudWatch Logs which of the
// line's own members are metric values and which are dimensions, so a metric
// costs no API call on the request path and stays next to the log line that
// explains it.
//
// The format is documented by AWS as "Specification: Embedded metric format".
// This package writes only what the receiver needs: one metric directive per
// line, with one dimension set.
package emf

import (
	"log/slog"
	"time"
)

// Unit is a CloudWatch unit name.
type Unit string

// The units the receiver uses.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Metric is one value on the line, under the member Name.
type Metric struct {
	Name  string
	Unit  Unit
	Value float64
}

// Directive names a line's metrics and dimensions. The dimension members
// (for example outcome) must be on the line as strings; Attrs adds the
// metric members, but a metric whose member the caller already logs (for
// example latencyMs) may be declared with Declared instead.
type Directive struct {
	Namespace string
	// Dimensions are the names of members whose values split the metrics;
	// empty publishes them once, without dimensions.
	Dimensions []string
	// Metrics are added to the line as members.
	Metrics []Metric
	// Declared are metrics whose members the line already has.
	Declared []Metric
}

// Attrs returns the `_aws` member and the metric members, to be logged on the
// same line as the dimension members.
func (d Directive) Attrs(at time.Time) []slog.Attr {
	defs := make([]any, 0, len(d.Metrics)+len(d.Declared))
	attrs := make([]slog.Attr, 0, len(d.Metrics)+1)
	for _, m := range d.Metrics {
		defs = append(defs, definition(m))
		attrs = append(attrs, slog.Float64(m.Name, m.Value))
	}
	for _, m := range d.Declared {
		defs = append(defs, definition(m))
	}
	dims := d.Dimensions
	if dims == nil {
		dims = []string{}
	}
	aws := map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  d.Namespace,
			"Dimensions": [][]string{dims},
			"Metrics":    defs,
		}},
	}
	return append([]slog.Attr{slog.Any("_aws", aws)}, attrs...)
}

func definition(m Metric) map[string]string {
	return map[string]string{"Name": m.Name, "Unit": string(m.Unit)}
}
