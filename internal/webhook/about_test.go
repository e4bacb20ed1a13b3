package webhook

import (
	"strings"
	"testing"
)

func TestTheArchiveIndexesOnlyAnItemKeyOrMgtKeyInItsProperForm(t *testing.T) {
	for _, c := range []struct {
		name                    string
		in                      about
		wantItemKey, wantMgtKey string
	}{
		{"both in form", about{ItemKey: "022122116191200001", MgtKey: "20251127-0001_a"}, "022122116191200001", "20251127-0001_a"},
		{"itemKey one digit short", about{ItemKey: "02212211619120000", MgtKey: "M"}, "", "M"},
		{"itemKey with a letter", about{ItemKey: "02212211619120000x"}, "", ""},
		{"mgtKey of 24 characters", about{MgtKey: strings.Repeat("a", 24)}, "", strings.Repeat("a", 24)},
		{"mgtKey of 25 characters", about{MgtKey: strings.Repeat("a", 25)}, "", ""},
		{"mgtKey with a space", about{MgtKey: "M 1"}, "", ""},
		{"mgtKey in Hangul", about{MgtKey: "관리번호"}, "", ""},
		{"nothing", about{}, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.in.inForm()
			if got.ItemKey != c.wantItemKey || got.MgtKey != c.wantMgtKey {
				t.Errorf("inForm(%+v) = itemKey %q, mgtKey %q; want %q, %q", c.in, got.ItemKey, got.MgtKey, c.wantItemKey, c.wantMgtKey)
			}
		})
	}
}
