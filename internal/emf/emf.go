// Package emf writes CloudWatch metrics as the Embedded Metric Format: a
// `_aws` member added to a JSON log line tells CloudWatch Logs which of the
// line's own members are metric values and which are dimensions, so a metric
// costs no API call on the request path and stays next to the log line that
// explains it.
//
// The format is documented by AWS as "Specification: Embedded metric format".
// This package writes only what the receiver needs: one or more metric
// directives per line (Attrs), each with one dimension set. A metric member
// is one value per line, so a metric named in two directives (counted once
// by outcome and once by outcome and reason) is written once.
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
func (d Directive) Attrs(at time.Time) []slog.Attr { return Attrs(at, d) }

// Attrs returns one `_aws` member holding every directive, and each metric
// member once (the first value given for a name), to be logged on the same
// line as the dimension members. No directive, no attributes.
func Attrs(at time.Time, directives ...Directive) []slog.Attr {
	if len(directives) == 0 {
		return nil
	}
	out := make([]slog.Attr, 1, 4)
	docs := make([]directive, 0, len(directives))
	written := map[string]bool{}
	for _, d := range directives {
		defs := make([]definition, 0, len(d.Metrics)+len(d.Declared))
		for _, m := range d.Metrics {
			defs = append(defs, definition{m.Name, string(m.Unit)})
			if !written[m.Name] {
				written[m.Name] = true
				out = append(out, slog.Float64(m.Name, m.Value))
			}
		}
		for _, m := range d.Declared {
			defs = append(defs, definition{m.Name, string(m.Unit)})
		}
		dims := d.Dimensions
		if dims == nil {
			dims = []string{}
		}
		docs = append(docs, directive{Namespace: d.Namespace, Dimensions: [][]string{dims}, Metrics: defs})
	}
	out[0] = slog.Any("_aws", metadata{Timestamp: at.UnixMilli(), CloudWatchMetrics: docs})
	return out
}

// The `_aws` member, as the specification names its fields.
type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

type directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []definition `json:"Metrics"`
}

type definition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}
