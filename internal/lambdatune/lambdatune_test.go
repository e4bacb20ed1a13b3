package lambdatune_test

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/lambdatune"
)

func TestApplySetsOneProcAndARarerCollectorUnlessTheEnvironmentSetsThem(t *testing.T) {
	procs, percent := runtime.GOMAXPROCS(0), debug.SetGCPercent(100)
	t.Cleanup(func() { runtime.GOMAXPROCS(procs); debug.SetGCPercent(percent) })
	cases := []struct {
		name          string
		env           map[string]string
		wantProcs     int
		wantGCPercent int
	}{
		{"neither set: both tuned", nil, lambdatune.Procs, lambdatune.GCPercent},
		{"GOMAXPROCS set: the collector only", map[string]string{"GOMAXPROCS": "2"}, 2, lambdatune.GCPercent},
		{"GOGC set: the procs only", map[string]string{"GOGC": "100"}, lambdatune.Procs, 100},
		{"both set: neither", map[string]string{"GOMAXPROCS": "2", "GOGC": "100"}, 2, 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// What the runtime would have read from the environment.
			runtime.GOMAXPROCS(2)
			debug.SetGCPercent(100)
			lambdatune.Apply(func(k string) string { return tc.env[k] })
			if got := runtime.GOMAXPROCS(0); got != tc.wantProcs {
				t.Errorf("GOMAXPROCS = %d, want %d", got, tc.wantProcs)
			}
			if got := debug.SetGCPercent(100); got != tc.wantGCPercent {
				t.Errorf("GC percent = %d, want %d", got, tc.wantGCPercent)
			}
		})
	}
}
