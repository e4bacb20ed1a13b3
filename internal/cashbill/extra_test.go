package cashbill_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// TestExtraKeepsExactlyTheFieldsEventDoesNotName: what the state store keeps
// of a body beside its Event.
func TestExtraKeepsExactlyTheFieldsEventDoesNotName(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		want string // "": nil
	}{
		{"the vendor's issue sample has none", []byte(issueSample), ""},
		{"the vendor's NTS sample has none", []byte(ntsSample), ""},
		{"a field POPBiLL adds later", with("stateMemo", `"memo <b>&</b>"`), `{"stateMemo":"memo <b>&</b>"}`},
		{"several, in key order, values compacted", with("ntsresultMessage", `"식별번호 오류"`, "extra", `{ "a" : [1, 2.50, null] }`),
			`{"extra":{"a":[1,2.50,null]},"ntsresultMessage":"식별번호 오류"}`},
		{"a known field's escaped name is known", []byte(`{"st\u0061teMemo":1,"it\u0065mKey":"022122116193800001"}`), `{"stateMemo":1}`},
		{"null is kept as sent", with("stateMemo", `null`), `{"stateMemo":null}`},
		{"a byte-order mark and spaces around", append([]byte("\xef\xbb\xbf \n"), with("x", `true`)...), `{"x":true}`},
		{"not one object", []byte(`[{"x":1}]`), ""},
		{"empty", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := cashbill.Extra(c.body)
			if string(got) != c.want || (c.want == "") != (got == nil) {
				t.Errorf("Extra = %q, want %q", got, c.want)
			}
		})
	}
}

// TestEventAndExtraHoldTheWholeBody: the event's JSON and Extra, merged, mean
// what the body means, field by field.
func TestEventAndExtraHoldTheWholeBody(t *testing.T) {
	body := with("stateMemo", `"late"`, "ntsresultMessage", `"x"`, "stateCode", `"300"`, "mgtKey", `null`)
	ev := mustParse(t, body)
	evJSON, _ := json.Marshal(ev)
	var got, want map[string]any
	if err := json.Unmarshal(evJSON, &got); err != nil {
		t.Fatal(err)
	}
	var extra map[string]any
	if err := json.Unmarshal(cashbill.Extra(body), &extra); err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		got[k] = v
	}
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	want["stateCode"] = float64(300) // "300" and 300 mean the same
	delete(want, "mgtKey")           // null: absent
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event and extra = %v\nwant the body %v", got, want)
	}
}

func BenchmarkExtra(b *testing.B) {
	body := []byte(ntsSample)
	b.ReportAllocs()
	for b.Loop() {
		if cashbill.Extra(body) != nil {
			b.Fatal("extra fields in the vendor sample")
		}
	}
}
