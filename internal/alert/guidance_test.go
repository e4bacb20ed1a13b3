package alert_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// TestEveryRejectionCodeHasGuidance pins that each NTS rejection code of
// POPBiLL's table has its own next step in both languages, and that any other
// code, or none, sends the reader to POPBiLL support instead.
func TestEveryRejectionCodeHasGuidance(t *testing.T) {
	cases := []struct {
		code  string
		known bool
	}{
		{"TS1", true}, {"TS2", true}, {"TS3", true}, {"TS4", true}, {"TS7", true},
		{"TS99", false}, {"", false}, {"0000", false},
	}
	hangul := func(s string) bool {
		return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Hangul, r) }) >= 0
	}
	seen := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			g := alert.GuidanceFor(tc.code)
			if g.Known != tc.known || g.Code != tc.code {
				t.Fatalf("GuidanceFor(%q) = Known %v, Code %q; want %v", tc.code, g.Known, g.Code, tc.known)
			}
			if _, inTable := cashbill.NTSResultMeaning(tc.code); tc.known && !inTable {
				t.Errorf("%s has guidance but is not in cashbill's result-code table", tc.code)
			}
			if g.ShortEN == "" || g.StepEN == "" || !hangul(g.ShortKO) || !hangul(g.StepKO) {
				t.Errorf("guidance %+v lacks an English or a Korean text", g)
			}
			if tc.known {
				if other, dup := seen[g.StepEN]; dup {
					t.Errorf("%s has the same step as %s: each code needs its own", tc.code, other)
				}
				seen[g.StepEN] = tc.code
			} else if !strings.Contains(g.StepEN, "POPBiLL support") {
				t.Errorf("unknown code's step %q does not send the reader to POPBiLL support", g.StepEN)
			}
		})
	}
}
