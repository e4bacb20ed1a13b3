package cashbill_test

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// The two request bodies on POPBiLL's webhook documentation page, verbatim.
const (
	issueSample = `{ "corpNum": "1234567890", "franchiseCorpNum": "1234567890", "itemKey": "022122116193800001", "tradeDate": "20221221", "confirmNum": "TB0001147", "stateCode": 300, "stateDT": "20221221161938", "issueDT": "20221221161938", "mgtKey": "2021121-002", "eventDT": "20221221161938", "eventType": "Issue", "interOPYN": true }`
	ntsSample   = `{ "corpNum": "1234567890", "franchiseCorpNum": "1234567890", "itemKey": "022122116191200001", "tradeDate": "20221221", "confirmNum": "TB0001146", "ntssendDT": "20221222000000", "ntsresultDT": "20221222100033", "ntsresultCode": "0000", "stateCode": 304, "stateDT": "20221221161912", "issueDT": "20221221161912", "mgtKey": "20221221-001", "eventDT": "20221222100033", "eventType": "NTS", "interOPYN": true }`
)

func ptr[T any](v T) *T { return &v }

// issueEvent is what issueSample means.
func issueEvent() cashbill.Event {
	return cashbill.Event{
		CorpNum: "1234567890", FranchiseCorpNum: "1234567890", ItemKey: "022122116193800001",
		TradeDate: "20221221", ConfirmNum: "TB0001147", StateCode: 300,
		StateDT: "20221221161938", IssueDT: "20221221161938", MgtKey: "2021121-002",
		EventDT: "20221221161938", EventType: "Issue", InterOPYN: ptr(true),
	}
}

// ntsEvent is what ntsSample means.
func ntsEvent() cashbill.Event {
	return cashbill.Event{
		CorpNum: "1234567890", FranchiseCorpNum: "1234567890", ItemKey: "022122116191200001",
		TradeDate: "20221221", ConfirmNum: "TB0001146", NTSSendDT: "20221222000000",
		NTSResultDT: "20221222100033", NTSResultCode: "0000", StateCode: 304,
		StateDT: "20221221161912", IssueDT: "20221221161912", MgtKey: "20221221-001",
		EventDT: "20221222100033", EventType: "NTS", InterOPYN: ptr(true),
	}
}

// absent, as the value in with, removes the field.
const absent = "<absent>"

// with is issueSample with fields set to raw JSON text, given as name, raw
// pairs. The text is written as it is, so it may be invalid JSON.
func with(pairs ...string) []byte {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(issueSample), &fields); err != nil {
		panic(err)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == absent {
			delete(fields, pairs[i])
		} else {
			fields[pairs[i]] = json.RawMessage(pairs[i+1])
		}
	}
	var b strings.Builder
	for i, name := range slices.Sorted(maps.Keys(fields)) {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"` + name + `":` + string(fields[name]))
	}
	return []byte("{" + b.String() + "}")
}

// mustParse parses body and fails the test on error.
func mustParse(t *testing.T, body []byte) cashbill.Event {
	t.Helper()
	ev, err := cashbill.Parse(body)
	if err != nil {
		t.Fatalf("Parse(%s) failed: %v", body, err)
	}
	return ev
}

func TestParseReadsTheVendorSamples(t *testing.T) {
	cases := []struct {
		name string
		body string
		want cashbill.Event
	}{
		{"the Issue sample is a 300 issued event", issueSample, issueEvent()},
		{"the NTS sample is a 304 filing success with its NTS fields", ntsSample, ntsEvent()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustParse(t, []byte(tc.body)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse() =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestParsedEventSurvivesAJSONRoundTrip(t *testing.T) {
	for _, body := range []string{issueSample, ntsSample} {
		ev := mustParse(t, []byte(body))
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if again := mustParse(t, b); !reflect.DeepEqual(again, ev) {
			t.Errorf("Parse(json.Marshal(ev)) = %+v, want %+v", again, ev)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		// edit turns issueEvent into the event body means.
		edit func(*cashbill.Event)
	}{
		// stateCode
		{"stateCode 305 as a number", with("stateCode", `305`), func(e *cashbill.Event) { e.StateCode = 305 }},
		{"stateCode 305 as a string, as another POPBiLL service sends it", with("stateCode", `"305"`), func(e *cashbill.Event) { e.StateCode = 305 }},
		{"stateCode as a string padded with spaces is trimmed", with("stateCode", `" 304 "`), func(e *cashbill.Event) { e.StateCode = 304 }},
		{"an unknown stateCode 100 (saved) is recorded, not refused", with("stateCode", `100`), func(e *cashbill.Event) { e.StateCode = 100 }},
		{"an unknown stateCode 399 is recorded, not refused", with("stateCode", `399`), func(e *cashbill.Event) { e.StateCode = 399 }},
		{"stateCode 999 is the largest accepted", with("stateCode", `999`), func(e *cashbill.Event) { e.StateCode = 999 }},

		// eventType
		{"an unknown eventType Cancel is recorded, not refused", with("eventType", `"Cancel"`), func(e *cashbill.Event) { e.EventType = "Cancel" }},

		// business numbers
		{"only the deprecated corpNum", with("franchiseCorpNum", absent, "corpNum", `"6798700433"`), func(e *cashbill.Event) { e.FranchiseCorpNum, e.CorpNum = "", "6798700433" }},
		{"only franchiseCorpNum", with("corpNum", absent, "franchiseCorpNum", `"6798700433"`), func(e *cashbill.Event) { e.CorpNum, e.FranchiseCorpNum = "", "6798700433" }},
		{"corpNum null beside franchiseCorpNum", with("corpNum", `null`), func(e *cashbill.Event) { e.CorpNum = "" }},
		{"franchiseCorpNum empty beside corpNum", with("franchiseCorpNum", `""`), func(e *cashbill.Event) { e.FranchiseCorpNum = "" }},
		{"corpNum and franchiseCorpNum may differ", with("corpNum", `"6798700433"`), func(e *cashbill.Event) { e.CorpNum = "6798700433" }},

		// optional dates are checked only when present and not empty
		{"tradeDate absent", with("tradeDate", absent), func(e *cashbill.Event) { e.TradeDate = "" }},
		{"tradeDate null", with("tradeDate", `null`), func(e *cashbill.Event) { e.TradeDate = "" }},
		{"tradeDate empty", with("tradeDate", `""`), func(e *cashbill.Event) { e.TradeDate = "" }},
		{"tradeDate on a leap day", with("tradeDate", `"20240229"`), func(e *cashbill.Event) { e.TradeDate = "20240229" }},
		{"ntssendDT and ntsresultDT null, as on an Issue event", with("ntssendDT", `null`, "ntsresultDT", `null`), func(*cashbill.Event) {}},
		{"ntssendDT and ntsresultDT empty", with("ntssendDT", `""`, "ntsresultDT", `""`), func(*cashbill.Event) {}},
		{"ntssendDT and ntsresultDT present", with("ntssendDT", `"20221222000000"`, "ntsresultDT", `"20221222100033"`), func(e *cashbill.Event) {
			e.NTSSendDT, e.NTSResultDT = "20221222000000", "20221222100033"
		}},
		{"stateDT absent", with("stateDT", absent), func(e *cashbill.Event) { e.StateDT = "" }},
		{"stateDT null", with("stateDT", `null`), func(e *cashbill.Event) { e.StateDT = "" }},
		{"issueDT empty", with("issueDT", `""`), func(e *cashbill.Event) { e.IssueDT = "" }},
		{"eventDT on a leap day", with("eventDT", `"20240229235959"`), func(e *cashbill.Event) { e.EventDT = "20240229235959" }},

		// other optional fields
		{"mgtKey null, as for a receipt made on the POPBiLL site", with("mgtKey", `null`), func(e *cashbill.Event) { e.MgtKey = "" }},
		{"mgtKey absent", with("mgtKey", absent), func(e *cashbill.Event) { e.MgtKey = "" }},
		{"confirmNum of digits only", with("confirmNum", `"820116333"`), func(e *cashbill.Event) { e.ConfirmNum = "820116333" }},
		{"confirmNum null", with("confirmNum", `null`), func(e *cashbill.Event) { e.ConfirmNum = "" }},
		{"ntsresultCode 0000", with("ntsresultCode", `"0000"`), func(e *cashbill.Event) { e.NTSResultCode = "0000" }},
		{"ntsresultCode of three characters", with("ntsresultCode", `"TS1"`), func(e *cashbill.Event) { e.NTSResultCode = "TS1" }},
		{"ntsresultCode of eight characters", with("ntsresultCode", `"SERR0001"`), func(e *cashbill.Event) { e.NTSResultCode = "SERR0001" }},
		{"ntsresultCode null", with("ntsresultCode", `null`), func(*cashbill.Event) {}},

		// interOPYN
		{"interOPYN false: issued on the POPBiLL website", with("interOPYN", `false`), func(e *cashbill.Event) { e.InterOPYN = ptr(false) }},
		{"interOPYN absent is nil", with("interOPYN", absent), func(e *cashbill.Event) { e.InterOPYN = nil }},
		{"interOPYN null is nil", with("interOPYN", `null`), func(e *cashbill.Event) { e.InterOPYN = nil }},
		{"interOPYN as the string \"true\"", with("interOPYN", `"true"`), func(e *cashbill.Event) { e.InterOPYN = ptr(true) }},
		{"interOPYN as the string \"false\"", with("interOPYN", `"false"`), func(e *cashbill.Event) { e.InterOPYN = ptr(false) }},
		{"interOPYN as Y/N text", with("interOPYN", `"N"`), func(e *cashbill.Event) { e.InterOPYN = ptr(false) }},

		// the body as a whole
		{"unknown fields stateMemo and ntsresultMessage are tolerated", with("stateMemo", `"memo"`, "ntsresultMessage", `"국세청 전송 실패"`), func(*cashbill.Event) {}},
		{"an unknown field of any JSON type is tolerated", with("extra", `{"nested":[1,2,{"x":null}]}`), func(*cashbill.Event) {}},
		{"whitespace and newlines around the object", []byte("\r\n\t " + issueSample + "\n\n"), func(*cashbill.Event) {}},
		{"Hangul in a free-text field", with("mgtKey", `"영수증-001"`), func(e *cashbill.Event) { e.MgtKey = "영수증-001" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := issueEvent()
			tc.edit(&want)
			if got := mustParse(t, tc.body); !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%s) =\n%+v\nwant\n%+v", tc.body, got, want)
			}
		})
	}
}

func TestParseOnlyCorpNumIsTheBusinessNumber(t *testing.T) {
	ev := mustParse(t, with("franchiseCorpNum", absent, "corpNum", `"6798700433"`))
	if got := ev.BusinessNumber(); got != "6798700433" {
		t.Errorf("BusinessNumber() = %q, want corpNum 6798700433", got)
	}
}

// bodyProblem is the Field of a *FieldError about the body as a whole.
const bodyProblem = ""

func TestParseRefuses(t *testing.T) {
	cases := []struct {
		name  string
		body  []byte
		field string
		// says, when set, is words the message must contain.
		says string
	}{
		// stateCode
		{"stateCode missing", with("stateCode", absent), "stateCode", "is missing"},
		{"stateCode null", with("stateCode", `null`), "stateCode", "is missing"},
		{"stateCode of two digits", with("stateCode", `30`), "stateCode", "3-digit number"},
		{"stateCode of four digits", with("stateCode", `3050`), "stateCode", ""},
		{"stateCode as letters", with("stateCode", `"abc"`), "stateCode", "3-digit number"},
		{"stateCode as a boolean", with("stateCode", `true`), "stateCode", ""},
		{"stateCode with a fraction", with("stateCode", `30.5`), "stateCode", ""},
		{"stateCode 300.0 is not an integer literal", with("stateCode", `300.0`), "stateCode", ""},
		{"stateCode in exponent form", with("stateCode", `3e2`), "stateCode", ""},
		{"stateCode negative", with("stateCode", `-305`), "stateCode", ""},
		{"stateCode with a sign in a string", with("stateCode", `"+30"`), "stateCode", ""},
		{"stateCode \"099\" is below 100", with("stateCode", `"099"`), "stateCode", ""},
		{"stateCode empty string", with("stateCode", `""`), "stateCode", ""},
		{"stateCode as an array", with("stateCode", `[305]`), "stateCode", ""},
		{"stateCode 099 as a bare number is not JSON at all", with("stateCode", `099`), bodyProblem, "not valid JSON"},

		// itemKey
		{"itemKey missing", with("itemKey", absent), "itemKey", "is missing"},
		{"itemKey null", with("itemKey", `null`), "itemKey", "is missing"},
		{"itemKey empty", with("itemKey", `""`), "itemKey", "is missing"},
		{"itemKey of 17 digits", with("itemKey", `"02212211619380000"`), "itemKey", "must be exactly 18 digits"},
		{"itemKey of 19 digits", with("itemKey", `"0221221161938000012"`), "itemKey", "must be exactly 18 digits"},
		{"itemKey with letters", with("itemKey", `"02212211619380000A"`), "itemKey", ""},
		{"itemKey padded with a space", with("itemKey", `" 022122116193800001"`), "itemKey", ""},
		{"itemKey as a number instead of a string", with("itemKey", `22122116193800001`), "itemKey", "text value in quotes"},

		// business numbers
		{"both corpNum and franchiseCorpNum missing", with("corpNum", absent, "franchiseCorpNum", absent), "franchiseCorpNum", "is missing"},
		{"both corpNum and franchiseCorpNum empty", with("corpNum", `""`, "franchiseCorpNum", `""`), "franchiseCorpNum", ""},
		{"both corpNum and franchiseCorpNum null", with("corpNum", `null`, "franchiseCorpNum", `null`), "franchiseCorpNum", ""},
		{"franchiseCorpNum of 9 digits", with("franchiseCorpNum", `"679870043"`), "franchiseCorpNum", "10 digits"},
		{"franchiseCorpNum with dashes", with("franchiseCorpNum", `"679-87-00433"`), "franchiseCorpNum", "no dashes"},
		{"franchiseCorpNum as a number", with("franchiseCorpNum", `6798700433`), "franchiseCorpNum", ""},
		{"corpNum with dashes beside a good franchiseCorpNum", with("corpNum", `"679-87-00433"`), "corpNum", ""},
		{"only corpNum, of 9 digits", with("franchiseCorpNum", absent, "corpNum", `"679870043"`), "corpNum", ""},

		// eventType
		{"eventType missing", with("eventType", absent), "eventType", "is missing or empty"},
		{"eventType null", with("eventType", `null`), "eventType", ""},
		{"eventType empty", with("eventType", `""`), "eventType", ""},
		{"eventType only whitespace", with("eventType", `" \t "`), "eventType", ""},
		{"eventType as a number", with("eventType", `1`), "eventType", ""},

		// eventDT
		{"eventDT missing", with("eventDT", absent), "eventDT", "is missing"},
		{"eventDT null", with("eventDT", `null`), "eventDT", ""},
		{"eventDT empty", with("eventDT", `""`), "eventDT", ""},
		{"eventDT of 12 digits", with("eventDT", `"202212211619"`), "eventDT", "14 digits"},
		{"eventDT of 15 digits", with("eventDT", `"202212211619380"`), "eventDT", ""},
		{"eventDT with separators", with("eventDT", `"2022-12-21 16:19"`), "eventDT", ""},
		{"eventDT as a number", with("eventDT", `20221221161938`), "eventDT", ""},
		{"eventDT in month 13", with("eventDT", `"20221331000000"`), "eventDT", "not a real date"},
		{"eventDT on 30 February", with("eventDT", `"20220230120000"`), "eventDT", "not a real date"},
		{"eventDT on 29 February of a common year", with("eventDT", `"20220229120000"`), "eventDT", ""},
		{"eventDT at hour 24 minute 60", with("eventDT", `"20221221246000"`), "eventDT", "not a real date"},
		{"eventDT at minute 60", with("eventDT", `"20221221236000"`), "eventDT", ""},
		{"eventDT at second 60", with("eventDT", `"20221221235960"`), "eventDT", ""},

		// optional dates, when present and not empty
		{"tradeDate of 7 digits", with("tradeDate", `"2022122"`), "tradeDate", "8 digits in the form yyyyMMdd"},
		{"tradeDate with a time", with("tradeDate", `"20221221161938"`), "tradeDate", ""},
		{"tradeDate in month 13", with("tradeDate", `"20221301"`), "tradeDate", ""},
		{"ntssendDT of 13 digits", with("ntssendDT", `"2022122200000"`), "ntssendDT", ""},
		{"ntsresultDT at hour 25", with("ntsresultDT", `"20221222250000"`), "ntsresultDT", ""},
		{"stateDT as a word", with("stateDT", `"yesterday"`), "stateDT", ""},
		{"stateDT only whitespace", with("stateDT", `"  "`), "stateDT", ""},
		{"issueDT as a number", with("issueDT", `20221221161938`), "issueDT", ""},

		// other fields of the wrong type
		{"confirmNum as a number", with("confirmNum", `820116333`), "confirmNum", ""},
		{"mgtKey as an object", with("mgtKey", `{"id":1}`), "mgtKey", ""},
		{"ntsresultCode as a number", with("ntsresultCode", `0`), "ntsresultCode", ""},
		{"interOPYN as a number", with("interOPYN", `1`), "interOPYN", "true or false"},
		{"interOPYN as a word", with("interOPYN", `"yes"`), "interOPYN", ""},

		// the body as a whole
		{"empty body", nil, bodyProblem, "body is empty"},
		{"whitespace-only body", []byte(" \r\n\t "), bodyProblem, "body is empty"},
		{"a JSON array of the event", []byte("[" + issueSample + "]"), bodyProblem, "one JSON object"},
		{"a JSON string", []byte(`"OK"`), bodyProblem, ""},
		{"a JSON number", []byte(`305`), bodyProblem, ""},
		{"JSON null", []byte(`null`), bodyProblem, ""},
		{"truncated JSON", []byte(issueSample[:len(issueSample)/2]), bodyProblem, "not valid JSON"},
		{"an unclosed object", []byte(`{"itemKey":"022122116193800001"`), bodyProblem, "ends before the object is closed"},
		{"JavaScript single quotes, as in the vendor's Java sample", []byte(`{'itemKey':'022122116193800001'}`), bodyProblem, "syntax error"},
		{"two objects", []byte(issueSample + " " + ntsSample), bodyProblem, "data after the JSON object"},
		{"garbage after the object", []byte(issueSample + "x"), bodyProblem, ""},
		{"a stray closing brace after the object", []byte(issueSample + "}"), bodyProblem, "data after the JSON object"},
		{"a stray closing bracket after the object", []byte(issueSample + "]"), bodyProblem, "data after the JSON object"},
		{"invalid UTF-8", with("mgtKey", "\"\xff\xfe\""), bodyProblem, "not valid UTF-8"},
		{"an empty object lacks the first key field, itemKey", []byte(`{}`), "itemKey", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := cashbill.Parse(tc.body)
			var fe *cashbill.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse(%s) = %+v, %v; want a *cashbill.FieldError for field %q", tc.body, ev, err, tc.field)
			}
			if fe.Field != tc.field {
				t.Errorf("Parse(%s) blames field %q (%v), want %q", tc.body, fe.Field, err, tc.field)
			}
			if !reflect.DeepEqual(ev, cashbill.Event{}) {
				t.Errorf("Parse returned a partly filled event beside its error: %+v", ev)
			}
			assertPlainWords(t, err.Error(), tc.field, tc.says)
		})
	}
}

// assertPlainWords checks that msg, shown to a POPBiLL customer, names the
// field, says what it should, and carries no Go or JSON-decoder jargon.
func assertPlainWords(t *testing.T, msg, field, says string) {
	t.Helper()
	if field != "" && !strings.Contains(msg, `"`+field+`"`) {
		t.Errorf("message %q does not name the field %q", msg, field)
	}
	if !strings.Contains(msg, says) {
		t.Errorf("message %q does not say %q", msg, says)
	}
	for _, jargon := range []string{"unmarshal", "invalid character", "Go value", "json:", "%!", "<nil>"} {
		if strings.Contains(msg, jargon) {
			t.Errorf("message %q contains decoder jargon %q", msg, jargon)
		}
	}
}

func TestParseClipsHostileValuesInMessages(t *testing.T) {
	const maxEcho = 40
	long := func(s string) string { return strings.Repeat(s, 500) }
	cases := []struct {
		name   string
		body   []byte
		marker string
	}{
		{"a long itemKey string", with("itemKey", `"`+long("A")+`"`), "A"},
		{"a long Hangul business number", with("franchiseCorpNum", `"`+long("가")+`"`), "가"},
		{"a long stateCode string", with("stateCode", `"`+long("9")+`"`), "9"},
		{"a long stateCode number", with("stateCode", long("7")), "7"},
		{"a long array where a string belongs", with("mgtKey", "["+strings.TrimSuffix(long("1,"), ",")+"]"), "1"},
		{"a long eventDT", with("eventDT", `"`+long("Z")+`"`), "Z"},
		{"a long interOPYN", with("interOPYN", `"`+long("Q")+`"`), "Q"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cashbill.Parse(tc.body)
			if err == nil {
				t.Fatal("Parse accepted a hostile value")
			}
			if n := strings.Count(err.Error(), tc.marker); n > maxEcho {
				t.Errorf("message echoes %d×%q, want at most %d: %q", n, tc.marker, maxEcho, err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range [][]byte{
		[]byte(issueSample), []byte(ntsSample),
		with("stateCode", `"305"`), with("franchiseCorpNum", absent),
		with("interOPYN", `"Y"`), []byte(`{}`), []byte(`[]`), nil,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := cashbill.Parse(body)
		if err != nil {
			if _, ok := err.(*cashbill.FieldError); !ok {
				t.Fatalf("error %T %v is not a *cashbill.FieldError", err, err)
			}
			return
		}
		if len(ev.ItemKey) != 18 || !isDigits(ev.ItemKey) {
			t.Errorf("accepted itemKey %q, want 18 digits", ev.ItemKey)
		}
		if ev.StateCode < 100 || ev.StateCode > 999 {
			t.Errorf("accepted stateCode %d, want 100..999", ev.StateCode)
		}
		if n := ev.BusinessNumber(); len(n) != 10 || !isDigits(n) {
			t.Errorf("accepted business number %q, want 10 digits", n)
		}
		if ev.EventType == "" {
			t.Error("accepted an empty eventType")
		}
	})
}

// isDigits is written here rather than borrowed from the package so that the
// fuzz invariant does not share the code it checks.
func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
