// Package modroot finds the module root for tests that read the repository's
// own files: template.yaml, the Makefile, events/.
package modroot

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the module root, the directory holding go.mod, above the
// test's working directory.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
