package sweeper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
)

// TestEveryRunWritesItsMetricsOnItsLine checks the sweep line's EMF: one
// directive in the namespace, no dimension, every run metric a member with
// the run's count, whatever the run found.
func TestEveryRunWritesItsMetricsOnItsLine(t *testing.T) {
	each(t, func(t *testing.T, newEnv func(t *testing.T) *env) {
		cases := []struct {
			name  string
			setup func(t *testing.T, e *env) time.Time
			want  map[string]float64
		}{
			{"an empty run counts the run only", func(t *testing.T, e *env) time.Time { return time.Now() },
				map[string]float64{"sweepRuns": 1, "sweepFound": 0, "sweepPendingAlerts": 0, "sweepPublished": 0, "sweepOverdueRaised": 0, "sweepFailed": 0}},
			{"an alert owed past the lease is pending and published", func(t *testing.T, e *env) time.Time {
				d := statetest.Delivery(statetest.ItemKey(), 305, "mid-1")
				e.apply(t, d)
				return d.ReceivedAt.Add(sweeper.DefaultThreshold + time.Second)
			}, map[string]float64{"sweepRuns": 1, "sweepFound": 1, "sweepPendingAlerts": 1, "sweepPublished": 1, "sweepOverdueRaised": 0, "sweepFailed": 0}},
			{"a failed publish is counted failed", func(t *testing.T, e *env) time.Time {
				d := statetest.Delivery(statetest.ItemKey(), 305, "mid-1")
				e.apply(t, d)
				e.publisher.down = true
				return d.ReceivedAt.Add(sweeper.DefaultThreshold + time.Second)
			}, map[string]float64{"sweepRuns": 1, "sweepFound": 1, "sweepPendingAlerts": 1, "sweepPublished": 0, "sweepOverdueRaised": 0, "sweepFailed": 1}},
			{"a result past its deadline raises an overdue alert", func(t *testing.T, e *env) time.Time {
				e.apply(t, issued(statetest.ItemKey(), 300))
				return deadline.Add(time.Minute)
			}, map[string]float64{"sweepRuns": 1, "sweepFound": 1, "sweepPendingAlerts": 0, "sweepPublished": 1, "sweepOverdueRaised": 1, "sweepFailed": 0}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t)
				logs := &bytes.Buffer{}
				s := sweeper.New(e.store, outbox.New(e.store, e.publisher, nil, outbox.Settings{}), sweeper.Settings{MetricsNamespace: "PopbillWebhookTest"}, slog.New(slog.NewJSONHandler(logs, nil)))
				at := tc.setup(t, e)
				_, _ = s.Run(context.Background(), at)
				var line map[string]any
				lines := bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n"))
				if err := json.Unmarshal(lines[len(lines)-1], &line); err != nil || line["msg"] != "sweep" {
					t.Fatalf("last line is not the sweep line: %s", logs)
				}
				aws, _ := line["_aws"].(map[string]any)
				if aws["Timestamp"] != float64(at.UnixMilli()) {
					t.Errorf("Timestamp %v, want the run's %d", aws["Timestamp"], at.UnixMilli())
				}
				directives, _ := aws["CloudWatchMetrics"].([]any)
				if len(directives) != 1 {
					t.Fatalf("CloudWatchMetrics %v, want one directive", aws["CloudWatchMetrics"])
				}
				d := directives[0].(map[string]any)
				if d["Namespace"] != "PopbillWebhookTest" || !reflect.DeepEqual(d["Dimensions"], []any{[]any{}}) {
					t.Errorf("Namespace %v Dimensions %v, want the namespace and no dimension", d["Namespace"], d["Dimensions"])
				}
				var names []string
				for _, m := range d["Metrics"].([]any) {
					names = append(names, m.(map[string]any)["Name"].(string))
				}
				want := append([]string(nil), sweeper.Metrics...)
				sort.Strings(names)
				sort.Strings(want)
				if !reflect.DeepEqual(names, want) {
					t.Errorf("metrics %v, want %v", names, want)
				}
				for name, v := range tc.want {
					if line[name] != v {
						t.Errorf("%s = %v, want %v", name, line[name], v)
					}
				}
			})
		}
	})
}
