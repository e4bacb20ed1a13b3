package alert_test

import (
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/alerttest"
)

// Every kind's Subject, with fields of every length POPBiLL and the
// configuration allow and beyond, is what SNS accepts (at most 100
// printable ASCII characters) and still starts with the environment and
// carries the meaning whenever the meaning itself is short.
func TestSubjectOfEveryKindFitsSNSAndKeepsEnvironmentAndMeaning(t *testing.T) {
	lengths := []int{0, 1, 10, 24, 64, 65, 200}
	for _, rc := range alerttest.RenderCases {
		for _, n := range lengths {
			for _, field := range []string{"mgtKey", "corpNum", "itemKey", "code", "env", "hangul mgtKey"} {
				f := ntsFailure()
				rc.Edit(&f)
				f.Environment = "prod-seoul-01"
				long := strings.Repeat("9", n)
				switch field {
				case "mgtKey":
					f.MgtKey = long
				case "corpNum":
					f.FranchiseCorpNum = long
				case "itemKey":
					f.MgtKey, f.ItemKey = "", long
				case "code":
					f.NTSResultCode = strings.Repeat("X", n)
				case "env":
					f.Environment = strings.Repeat("e", n)
				case "hangul mgtKey":
					f.MgtKey = strings.Repeat("영", n)
				}
				f = alert.Clean(f)
				got := alert.Subject(f)
				if len(got) > snsSubjectLimit {
					t.Errorf("%s, %s of %d: Subject is %d bytes, over %d: %q", rc.Name, field, n, len(got), snsSubjectLimit, got)
				}
				for i := 0; i < len(got); i++ {
					if got[i] < ' ' || got[i] > '~' {
						t.Fatalf("%s, %s of %d: Subject byte %d is %#x: %q", rc.Name, field, n, i, got[i], got)
					}
				}
				if len(f.Environment) <= 16 && f.Environment != "" && !strings.HasPrefix(got, "["+f.Environment+"] ") {
					t.Errorf("%s, %s of %d: Subject %q does not start with [%s]", rc.Name, field, n, got, f.Environment)
				}
				if meaning := alert.Meaning(f); len(meaning) <= 60 && strings.Trim(meaning, " -~") == "" && !strings.HasSuffix(got, meaning) {
					t.Errorf("%s, %s of %d: Subject %q lost the meaning %q", rc.Name, field, n, got, meaning)
				}
			}
		}
	}
}
