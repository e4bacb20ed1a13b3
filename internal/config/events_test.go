package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

func TestREADMEDocumentsTheEventsVariables(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(modroot.Dir(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range config.EventsVariables {
		if !strings.Contains(string(readme), "| `"+v.Name+"` |") {
			t.Errorf("README.md's configuration table has no row for %s", v.Name)
		}
	}
}
