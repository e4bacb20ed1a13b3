package deploytest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// These tests need no Python: they run under plain go test too.

// loadTemplate reads the repository's template.yaml.
func loadTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Load(filepath.Join(modroot.Dir(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// namespacePlaceholder stands for ${MetricsNamespace} in the dashboard.
const namespacePlaceholder = "<MetricsNamespace>"

// emitted is every metric the code writes in MetricsNamespace, as
// "name dim=value dim=value" with dimensions sorted by name.
func emitted() map[string]bool {
	out := map[string]bool{}
	add := func(name string, dims ...string) {
		sort.Strings(dims)
		out[strings.TrimSpace(name+" "+strings.Join(dims, " "))] = true
	}
	for _, o := range []state.Outcome{state.Stored, state.Duplicate, state.Stale, state.Rejected, state.Failed} {
		add(webhook.MetricDeliveries, webhook.DimensionOutcome+"="+string(o))
	}
	for kind, code := range webhook.ReasonCodes {
		outcome := state.Rejected
		if status, _ := webhook.Status(&webhook.Error{Kind: kind}); status >= 500 {
			outcome = state.Failed
		}
		add(webhook.MetricDeliveries, webhook.DimensionOutcome+"="+string(outcome), webhook.DimensionReasonCode+"="+code)
	}
	for _, o := range webhook.AlertOutcomes {
		add(webhook.MetricAlerts, webhook.DimensionAlertOutcome+"="+o)
	}
	add(webhook.MetricLatency)
	add(webhook.MetricAlertsPublished)
	for _, c := range webhook.Calls {
		add(webhook.CallMetric(c))
	}
	for _, m := range sweeper.Metrics {
		add(m)
	}
	return out
}

// plotted is one metric of a dashboard widget.
type plotted struct {
	widget, namespace, name string
	dims                    []string // "dim=value", sorted
}

func (p plotted) key() string { return strings.TrimSpace(p.name + " " + strings.Join(p.dims, " ")) }

// dashboardMetrics substitutes the body's ${...} with placeholders, parses
// it and returns every metric it plots ("." repeats the metric above).
func dashboardMetrics(t *testing.T, tmpl *samtemplate.Template) []plotted {
	t.Helper()
	dash, err := tmpl.Resource("Dashboard", "AWS::CloudWatch::Dashboard")
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := dash.Properties["DashboardBody"].(map[string]any)
	body, ok := sub["Fn::Sub"].(string)
	if !ok {
		t.Fatalf("DashboardBody is %v, want !Sub of a JSON document", dash.Properties["DashboardBody"])
	}
	body = regexp.MustCompile(`\$\{([^}]+)\}`).ReplaceAllString(body, "<$1>")
	var doc struct {
		Widgets []struct {
			Type       string
			Properties struct {
				Title   string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("DashboardBody is not JSON once substituted: %v", err)
	}
	var out []plotted
	for _, w := range doc.Widgets {
		var prev []string
		for _, m := range w.Properties.Metrics {
			var parts []string
			for i, x := range m {
				s, ok := x.(string)
				if !ok {
					continue // the options object
				}
				if s == "." && i < len(prev) {
					s = prev[i]
				}
				parts = append(parts, s)
			}
			prev = parts
			if len(parts) < 2 || len(parts)%2 != 0 {
				t.Errorf("widget %q: metric %v is not namespace, name and dimension pairs", w.Properties.Title, m)
				continue
			}
			p := plotted{widget: w.Properties.Title, namespace: parts[0], name: parts[1]}
			for i := 2; i < len(parts); i += 2 {
				p.dims = append(p.dims, parts[i]+"="+parts[i+1])
			}
			sort.Strings(p.dims)
			out = append(out, p)
		}
	}
	return out
}

// TestDashboardPlotsOnlyMetricsTheCodeEmits: a renamed metric, dimension or
// value, or a namespace other than the parameter, fails here; AWS's own
// metrics must name a resource of this stack. And every outcome and every
// 4xx reason is on it.
func TestDashboardPlotsOnlyMetricsTheCodeEmits(t *testing.T) {
	tmpl := loadTemplate(t)
	metrics := dashboardMetrics(t, tmpl)
	if len(metrics) == 0 {
		t.Fatal("the dashboard plots nothing")
	}
	code := emitted()
	seen := map[string]bool{}
	awsDims := map[string]string{"AWS/ApiGateway": "ApiId", "AWS/Lambda": "FunctionName"}
	for _, m := range metrics {
		switch {
		case m.namespace == namespacePlaceholder:
			if !code[m.key()] {
				t.Errorf("widget %q plots %s, which the code does not emit", m.widget, m.key())
			}
			seen[m.key()] = true
		case awsDims[m.namespace] != "":
			want := awsDims[m.namespace]
			if len(m.dims) != 1 || !strings.HasPrefix(m.dims[0], want+"=<") {
				t.Errorf("widget %q plots %s %s by %v, want by %s of a resource of the stack", m.widget, m.namespace, m.name, m.dims, want)
				continue
			}
			id := strings.Trim(strings.TrimPrefix(m.dims[0], want+"="), "<>")
			if _, ok := tmpl.Resources[id]; !ok {
				t.Errorf("widget %q plots %s of %s, not a resource of the template", m.widget, m.name, id)
			}
		default:
			t.Errorf("widget %q plots namespace %s: want ${MetricsNamespace}, AWS/ApiGateway or AWS/Lambda", m.widget, m.namespace)
		}
	}
	var must []string
	for _, o := range []state.Outcome{state.Stored, state.Duplicate, state.Stale, state.Rejected, state.Failed} {
		must = append(must, webhook.MetricDeliveries+" outcome="+string(o))
	}
	for _, kind := range []webhook.Kind{webhook.Unauthorized, webhook.Forbidden, webhook.Invalid, webhook.MethodNotAllowed, webhook.TooLarge, webhook.Unavailable, webhook.Internal} {
		outcome := state.Rejected
		if s, _ := webhook.Status(&webhook.Error{Kind: kind}); s >= 500 {
			outcome = state.Failed
		}
		must = append(must, fmt.Sprintf("%s outcome=%s reasonCode=%s", webhook.MetricDeliveries, outcome, webhook.ReasonCodes[kind]))
	}
	must = append(must, webhook.MetricLatency, sweeper.MetricRuns, sweeper.MetricFailed, sweeper.MetricOverdueRaised)
	for _, k := range must {
		if !seen[k] {
			t.Errorf("the dashboard does not plot %s", k)
		}
	}
}

// TestObservabilityAlarmsWatchEmittedMetricsAndTellTheAlertTopic checks the
// alarms of issue 12: each tells the alert topic when it fires and when it
// clears, and those on the functions' own metrics watch one the code emits.
func TestObservabilityAlarmsWatchEmittedMetricsAndTellTheAlertTopic(t *testing.T) {
	tmpl := loadTemplate(t)
	code := emitted()
	cases := []struct {
		id     string
		metric string // "" for an AWS metric
	}{
		{"RefusedDeliveriesAlarm", webhook.MetricDeliveries + " outcome=" + string(state.Rejected)},
		{"AlertsPendingAlarm", sweeper.MetricPending},
		{"SweeperErrorsAlarm", ""},
		{"SlackNotifierDeadLetterAlarm", ""},
		{"EventsUndeliverableAlarm", ""},
		{"EventsDelayedAlarm", ""},
	}
	topic := []any{map[string]any{"Ref": "AlertTopic"}}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			alarm, err := tmpl.Resource(tc.id, "AWS::CloudWatch::Alarm")
			if err != nil {
				t.Fatal(err)
			}
			p := alarm.Properties
			for _, actions := range []string{"AlarmActions", "OKActions"} {
				if !reflect.DeepEqual(p[actions], topic) {
					t.Errorf("%s = %v, want the alert topic", actions, p[actions])
				}
			}
			if tc.metric == "" {
				return
			}
			if ns, _ := samtemplate.Ref(p["Namespace"]); ns != "MetricsNamespace" {
				t.Errorf("Namespace = %v, want !Ref MetricsNamespace", p["Namespace"])
			}
			var dims []string
			list, _ := p["Dimensions"].([]any)
			for _, x := range list {
				d, _ := x.(map[string]any)
				dims = append(dims, fmt.Sprintf("%v=%v", d["Name"], d["Value"]))
			}
			sort.Strings(dims)
			got := strings.TrimSpace(fmt.Sprintf("%v %s", p["MetricName"], strings.Join(dims, " ")))
			if got != tc.metric || !code[got] {
				t.Errorf("watches %q, want %q, which the code emits", got, tc.metric)
			}
		})
	}
}

// TestFunctionsWriteMetricsInTheDashboardsNamespace: both functions that
// write metrics get the namespace the dashboard and alarms read, and the
// tracing switch.
func TestFunctionsWriteMetricsInTheDashboardsNamespace(t *testing.T) {
	tmpl := loadTemplate(t)
	for _, id := range []string{"WebhookFunction", "SweeperFunction"} {
		vars, err := tmpl.Environment(id)
		if err != nil {
			t.Fatal(err)
		}
		for name, param := range map[string]string{config.MetricsNamespace: "MetricsNamespace", config.Tracing: "Tracing"} {
			if r, _ := samtemplate.Ref(vars[name]); r != param {
				t.Errorf("%s %s = %v, want !Ref %s", id, name, vars[name], param)
			}
		}
	}
	if !slices.ContainsFunc(config.Variables, func(v config.Variable) bool { return v.Name == config.MetricsNamespace }) {
		t.Error("config.Variables does not list METRICS_NAMESPACE")
	}
}
