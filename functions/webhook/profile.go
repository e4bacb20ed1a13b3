//go:build perfprofile

package main

import (
	"os"
	"runtime/pprof"
	"strconv"
	"time"
)

// A bootstrap built with -tags perfprofile (make bench-profile) writes a CPU
// profile of its first PROF_SECONDS (default 40) to PROF_OUT. The deployed
// bootstrap is built without the tag and has none of this.
func init() {
	f, err := os.Create(os.Getenv("PROF_OUT"))
	if err != nil {
		return
	}
	seconds, err := strconv.Atoi(os.Getenv("PROF_SECONDS"))
	if err != nil || seconds <= 0 {
		seconds = 40
	}
	if pprof.StartCPUProfile(f) != nil {
		return
	}
	go func() {
		time.Sleep(time.Duration(seconds) * time.Second)
		pprof.StopCPUProfile()
		_ = f.Close()
	}()
}
