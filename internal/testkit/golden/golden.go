// Package golden compares test output with files under testdata/, for the
// rendered alerts whose exact text is the specification. `go test -update`
// rewrites the files from the current output.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files from the current output")

// Assert fails t when got differs from testdata/name.
func Assert(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// Updating reports whether the test run rewrites golden output (-update).
func Updating() bool { return *update }
