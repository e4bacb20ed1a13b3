package sweeper

import (
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/emf"
)

// The metrics of one run, on its sweep line (Embedded Metric Format, no
// dimension); docs/observability.md lists them and the template's dashboard
// and alarms use them.
const (
	MetricRuns          = "sweepRuns"
	MetricFound         = "sweepFound"
	MetricPending       = "sweepPendingAlerts"
	MetricPublished     = "sweepPublished"
	MetricOverdueRaised = "sweepOverdueRaised"
	MetricFailed        = "sweepFailed"
)

// Metrics are the names the sweep line carries, in order.
var Metrics = []string{MetricRuns, MetricFound, MetricPending, MetricPublished, MetricOverdueRaised, MetricFailed}

func (s *Sweeper) metricAttrs(rep Report, at time.Time) []any {
	ns := s.settings.MetricsNamespace
	if ns == "" {
		return nil
	}
	count := func(name string, v int) emf.Metric { return emf.Metric{Name: name, Unit: emf.Count, Value: float64(v)} }
	d := emf.Directive{Namespace: ns, Metrics: []emf.Metric{
		count(MetricRuns, 1), count(MetricFound, rep.Found), count(MetricPending, rep.Pending),
		count(MetricPublished, rep.Published), count(MetricOverdueRaised, rep.OverdueRaised), count(MetricFailed, rep.Failed),
	}}
	var out []any
	for _, a := range emf.Attrs(at, d) {
		out = append(out, a)
	}
	return out
}
