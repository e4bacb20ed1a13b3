package statechange_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/statechange"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

// TestDocsListEveryDetailField keeps docs/events.md's table of detail fields
// equal to the contract's fields, and its source and detail type to the code's.
func TestDocsListEveryDetailField(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(modroot.Dir(t), "docs", "events.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	var documented []string
	inTable := false
	for _, line := range strings.Split(doc, "\n") {
		switch {
		case strings.HasPrefix(line, "| detail field |"):
			inTable = true
		case inTable && strings.HasPrefix(line, "| `"):
			documented = append(documented, regexp.MustCompile("^\\| `([^`]+)`").FindStringSubmatch(line)[1])
		case inTable && !strings.HasPrefix(line, "|"):
			inTable = false
		}
	}
	var fields []string
	typ := reflect.TypeFor[statechange.Detail]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		fields = append(fields, name)
	}
	if !slices.Equal(documented, fields) {
		t.Errorf("docs/events.md lists detail fields %v, the contract has %v", documented, fields)
	}
	for _, want := range []string{"`" + statechange.Source + "`", "`" + statechange.DetailType + "`"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/events.md does not name %s", want)
		}
	}
}
