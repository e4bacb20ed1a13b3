// Package alertdoc keeps docs/alerts.md showing each alert as it arrives: its
// test regenerates the document's fenced blocks from the golden files.
package alertdoc

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// marker precedes a fenced block generated from the golden file it names,
// relative to the module root.
var marker = regexp.MustCompile("(?m)^<!-- generated from (\\S+) -->\n(```[a-z]*)\n(?s:.*?)\n?```\n")

// Regenerate returns doc with every marked fenced block replaced by the
// content of its golden file under root.
func Regenerate(doc, root string) (string, error) {
	var failed error
	out := marker.ReplaceAllStringFunc(doc, func(block string) string {
		m := marker.FindStringSubmatch(block)
		b, err := os.ReadFile(filepath.Join(root, m[1]))
		if err != nil {
			failed = fmt.Errorf("alertdoc: %w", err)
			return block
		}
		body := strings.TrimRight(string(b), "\n")
		return "<!-- generated from " + m[1] + " -->\n" + m[2] + "\n" + body + "\n```\n"
	})
	return out, failed
}
