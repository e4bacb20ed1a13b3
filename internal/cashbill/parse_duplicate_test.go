package cashbill_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// A body that names a field twice means two things at once: Go's decoder
// keeps the last value, another reader may keep the first. POPBiLL never sends
// one, so it is refused, naming the key, rather than stored as one reading.
func TestParseRefusesADuplicatedKey(t *testing.T) {
	cases := []struct {
		name string
		body string
		key  string
	}{
		{"stateCode 305 then 300 (an NTS failure hidden as an issue)",
			strings.TrimSuffix(ntsSample, "}") + `, "stateCode": 300 }`, "stateCode"},
		{"itemKey twice with the same value", strings.TrimSuffix(issueSample, "}") + `, "itemKey": "022122116193800001" }`, "itemKey"},
		{"an unknown field twice", strings.TrimSuffix(issueSample, "}") + `, "stateMemo": "a", "stateMemo": "b" }`, "stateMemo"},
		{"a key spelled with a JSON escape is the same key", strings.TrimSuffix(issueSample, "}") + `, "state\u0043ode": 305 }`, "stateCode"},
		{"a null beside a value is still a duplicate", strings.TrimSuffix(issueSample, "}") + `, "mgtKey": null }`, "mgtKey"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := cashbill.Parse([]byte(tc.body))
			var fe *cashbill.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse accepted a body with %q twice as %+v (err %v)", tc.key, ev, err)
			}
			if fe.Field != tc.key {
				t.Errorf("Parse blames field %q (%v), want %q", fe.Field, err, tc.key)
			}
			assertPlainWords(t, err.Error(), tc.key, "more than once")
		})
	}
}

func TestParseAcceptsTheSameKeyInDifferentObjects(t *testing.T) {
	// Nested objects are unknown fields, stored as they came: only the event's
	// own keys must be unique.
	body := strings.TrimSuffix(issueSample, "}") + `, "extra": {"stateCode": 1, "x": {"stateCode": 2}} }`
	if ev := mustParse(t, []byte(body)); ev.StateCode != 300 {
		t.Errorf("stateCode = %d, want 300", ev.StateCode)
	}
}

func TestParseClipsADuplicatedLongKey(t *testing.T) {
	key := strings.Repeat("k", 5000)
	_, err := cashbill.Parse([]byte(strings.TrimSuffix(issueSample, "}") + `, "` + key + `": 1, "` + key + `": 2 }`))
	if err == nil {
		t.Fatal("Parse accepted a duplicated key")
	}
	if n := strings.Count(err.Error(), "k"); n > 60 {
		t.Errorf("message echoes the key %d times over: %.80q…", n, err)
	}
}
