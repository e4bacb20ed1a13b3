package alertdoc_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/alertdoc"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/golden"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

// docs/alerts.md shows every kind in both channels as the golden files
// have it; -update rewrites its blocks.
func TestAlertsDocShowsTheGoldenFiles(t *testing.T) {
	root := modroot.Dir(t)
	path := filepath.Join(root, "docs", "alerts.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := alertdoc.Regenerate(string(doc), root)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"known-code", "unknown-code", "overdue", "digest"} {
		for _, file := range []string{"alert/testdata/" + kind + ".golden", "blockkit/testdata/" + kind + ".golden.json"} {
			if !strings.Contains(got, file+" -->") {
				t.Errorf("docs/alerts.md shows no block generated from %s", file)
			}
		}
	}
	for _, file := range []string{"blockkit/testdata/alarm.golden.json", "blockkit/testdata/alarm-ok.golden.json"} {
		if !strings.Contains(got, file+" -->") {
			t.Errorf("docs/alerts.md shows no block generated from %s", file)
		}
	}
	if golden.Updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != string(doc) {
		t.Error("docs/alerts.md differs from the golden files: go test ./internal/alert/alertdoc -update rewrites its generated blocks")
	}
}

func TestRegenerateReplacesOnlyMarkedBlocks(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "g.golden"), []byte("new\ntext\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := "intro\n```\nkept\n```\n<!-- generated from g.golden -->\n```\nold\n```\nend\n"
	got, err := alertdoc.Regenerate(doc, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "intro\n```\nkept\n```\n<!-- generated from g.golden -->\n```\nnew\ntext\n```\nend\n"
	if got != want {
		t.Errorf("Regenerate = %q, want %q", got, want)
	}
	if _, err := alertdoc.Regenerate("<!-- generated from missing -->\n```\n```\n", dir); err == nil {
		t.Error("Regenerate of a block whose golden file is missing succeeded")
	}
}
