// Package lambdatune sets the Go runtime for a Lambda function that serves
// one invocation at a time on a fraction of a vCPU, unless the function's
// environment sets GOMAXPROCS or GOGC itself.
//
// One P: Lambda gives a function CPU in proportion to its memory (about a
// seventh of a vCPU at the webhook's 256 MB) while the Go runtime sees the
// host's two or more CPUs. With a P per CPU, every hand-off between the
// handler and the SDK's connection goroutines wakes a second thread, and the
// collector's idle workers run there: CPU the invocation is billed for and
// that answers nothing. The handler has nothing to run in parallel.
//
// GCPercent 400: the live heap after start is about 2 MB and a delivery
// allocates tens of KB, so at Go's default of 100 the collector runs every
// score of deliveries, each run marking the SDK's clients again. At 400 it
// runs a fifth as often, and the heap stays near 10 MB in a 256 MB function.
package lambdatune

import (
	"runtime"
	"runtime/debug"
)

// Procs and GCPercent are the settings Apply makes.
const (
	Procs     = 1
	GCPercent = 400
)

// Apply sets GOMAXPROCS to Procs and the GC percent to GCPercent, each unless
// getenv names a value for it (the Go runtime has read that one already).
func Apply(getenv func(string) string) {
	if getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(Procs)
	}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}
