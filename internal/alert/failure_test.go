package alert_test

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/golden"
)

// injectedEvent is a 305 whose free-text fields carry text meant to read as
// the receiver's own words, and a mgtKey far longer than POPBiLL's 24.
func injectedEvent() cashbill.Event {
	return cashbill.Event{
		CorpNum: "6798700433", FranchiseCorpNum: "6798700433", ItemKey: "022122116191200001",
		TradeDate: "20221221", ConfirmNum: "TB0001146\r\n\r\nReply to this e-mail with your bank login",
		NTSResultCode: "TS4\u2028\u2029URGENT", StateCode: 305, NTSResultDT: "20221222100033",
		MgtKey:  "20221221-001\n\nURGENT: pay the NTS penalty today to account 110-123-456789\t\x00\x1b[2J\u202e" + strings.Repeat("x", 45000),
		EventDT: "20221222100033", EventType: "NTS\n\nSecond paragraph", IssueDT: "20221221161912",
	}
}

func TestFromEventMakesEveryFieldOneShortLineOfPrintableText(t *testing.T) {
	f := alert.FromEvent(injectedEvent(), "016120000002\n\nMID-1777d55c2c41492ab06826d"+strings.Repeat("m", 9000), alert.KindFailure)
	v := reflect.ValueOf(f)
	for i := range v.NumField() {
		if v.Field(i).Kind() != reflect.String {
			continue
		}
		name, s := v.Type().Field(i).Name, v.Field(i).String()
		if n := utf8.RuneCountInString(s); n > alert.FieldLimit {
			t.Errorf("%s has %d characters, want at most %d", name, n, alert.FieldLimit)
		}
		if j := strings.IndexFunc(s, func(r rune) bool {
			return unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf)
		}); j >= 0 {
			t.Errorf("%s holds control or format character %U: %q", name, []rune(s[j:])[0], s)
		}
		if strings.Contains(s, "  ") || s != strings.TrimSpace(s) {
			t.Errorf("%s has runs of spaces or spaces at an end: %q", name, s)
		}
	}
	if got := alert.Clean(f); got != f {
		t.Errorf("Clean of a clean failure changed it: %+v -> %+v", f, got)
	}
	golden.Assert(t, "injected-fields.failure.golden", string(alert.Encode(f))+"\n")
}

func TestFromEventKeepsWhatPOPBiLLSendsAsItCame(t *testing.T) {
	ev := cashbill.Event{
		FranchiseCorpNum: "6798700433", ItemKey: "022122116191200001", TradeDate: "20221221",
		ConfirmNum: "TB0001146", NTSResultCode: "TS4", StateCode: 305, NTSResultDT: "20221222100033",
		MgtKey: "영수증 2022-12-21_001", EventDT: "20221222100033", EventType: "NTS", IssueDT: "20221221161912",
	}
	want := alert.Failure{
		ItemKey: ev.ItemKey, FranchiseCorpNum: ev.FranchiseCorpNum, MgtKey: ev.MgtKey, ConfirmNum: ev.ConfirmNum,
		TradeDate: ev.TradeDate, StateCode: 305, NTSResultCode: ev.NTSResultCode, NTSResultDT: ev.NTSResultDT,
		EventDT: ev.EventDT, EventType: ev.EventType, IssueDT: ev.IssueDT, MID: "016120000002-1777d55c2c41492ab06826d",
		Kind: alert.KindFailure, AlertID: "022122116191200001/failure",
	}
	if got := alert.FromEvent(ev, want.MID, alert.KindFailure); got != want {
		t.Errorf("FromEvent changed a well-formed event:\n got %+v\nwant %+v", got, want)
	}
}
