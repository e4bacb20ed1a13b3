package alert_test

import (
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/alerttest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/golden"
)

// ntsFailure is the 305 alert with result code TS4 that every alert test uses.
func ntsFailure() alert.Failure { return alerttest.Failure("022122116191200001") }

// Each case's golden file is the alert as an email subscriber reads it, and
// as consolealert prints it: the SNS Subject, then the email body.
func TestRenderingsMatchGoldenFiles(t *testing.T) {
	for _, tc := range alerttest.RenderCases {
		t.Run(tc.Name, func(t *testing.T) {
			f := ntsFailure()
			tc.Edit(&f)
			f = alerttest.Presentation().Stamp(f)
			golden.Assert(t, tc.Name+".golden", "Subject: "+alert.Subject(f)+"\n\n"+alert.EmailText(f))
		})
	}
}

// The JSON alert is what machine subscribers parse (SNS's default message):
// its field names are a public contract.
func TestEncodeMatchesGoldenFile(t *testing.T) {
	golden.Assert(t, "alert.json.golden", string(alert.Encode(ntsFailure()))+"\n")
}

// snsSubjectLimit is the longest Subject SNS accepts, in ASCII characters.
const snsSubjectLimit = 100

func TestSubjectIsWhatSNSAccepts(t *testing.T) {
	long := strings.Repeat("A", 200)
	tests := []struct {
		name   string
		edit   func(*alert.Failure)
		prefix string
	}{
		{"starts with business and mgtKey", func(*alert.Failure) {}, "679-87-00433 20221221-001: "},
		{"falls back to itemKey without mgtKey", func(f *alert.Failure) { f.MgtKey = "" }, "679-87-00433 022122116191200001: "},
		{"replaces Hangul one for one", func(f *alert.Failure) { f.MgtKey = "영수증-001" }, "679-87-00433 ???-001: "},
		{"replaces line breaks and tabs", func(f *alert.Failure) { f.MgtKey = "a\r\nb\tc" }, "679-87-00433 a??b?c: "},
		{"cuts a long mgtKey", func(f *alert.Failure) { f.MgtKey = long }, "679-87-00433 AAAA"},
		{"cuts a long Hangul result code", func(f *alert.Failure) { f.NTSResultCode = strings.Repeat("오류", 80) }, "NTS rejected (??"},
		{"cuts a long business number", func(f *alert.Failure) { f.FranchiseCorpNum = long }, "AAAA"},
		{"does not begin with a space", func(f *alert.Failure) { f.FranchiseCorpNum = ""; f.MgtKey = "  x" }, "x: "},
		{"says what failed with no keys at all", func(f *alert.Failure) { *f = alert.Failure{} }, "NTS rejected"},
		{"puts the environment first", func(f *alert.Failure) { f.Environment = "prod" }, "[prod] 679-87-00433 20221221-001: NTS rejected (TS4 amount error)"},
		{"keeps the meaning whole and cuts the keys", func(f *alert.Failure) { f.Environment = "prod"; f.MgtKey = long }, "[prod] 679-87-00433 AAAA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := ntsFailure()
			tc.edit(&f)
			got := alert.Subject(f)
			if !strings.HasPrefix(got, tc.prefix) {
				t.Errorf("Subject = %q, want it to start with %q", got, tc.prefix)
			}
			if len(got) > snsSubjectLimit {
				t.Errorf("Subject is %d bytes, over SNS's %d: %q", len(got), snsSubjectLimit, got)
			}
			for i := 0; i < len(got); i++ {
				if got[i] < ' ' || got[i] > '~' {
					t.Errorf("Subject byte %d is %#x, not printable ASCII: %q", i, got[i], got)
				}
			}
			if got != "" && got[0] == ' ' {
				t.Errorf("Subject begins with a space: %q", got)
			}
		})
	}
}

func TestFactsSpellOutWhatIsMissing(t *testing.T) {
	got := alert.Facts(alert.Failure{ItemKey: "022122116191200001", TradeDate: "2022-12"})
	want := []alert.Fact{
		{"Business number", "none given"},
		{"mgtKey", "none: issued on the POPBiLL website"},
		{"itemKey", "022122116191200001"},
		{"confirmNum", "none given"},
		{"Trade date", "2022-12"},
		{"NTS result code", "none given"},
	}
	if len(got) != len(want) {
		t.Fatalf("Facts = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fact %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestEventTime(t *testing.T) {
	tests := []struct{ name, eventDT, want string }{
		{"formats KST yyyyMMddHHmmss", "20221222100033", "2022-12-22 10:00:33 KST"},
		{"shows a malformed time as it came", "2022-12-22", "2022-12-22"},
		{"says when there is none", "", "unknown time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := alert.EventTime(alert.Failure{EventDT: tc.eventDT}); got != tc.want {
				t.Errorf("EventTime(%q) = %q, want %q", tc.eventDT, got, tc.want)
			}
		})
	}
}
