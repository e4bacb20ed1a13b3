package webhook

import "testing"

func TestHeadersAreLookedUpWhateverTheirCase(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		lookup  string
		want    string
	}{
		{"an HTTP API's lower-cased header, by its lower-case name", map[string]string{"pb-webhook-mid": "m"}, "pb-webhook-mid", "m"},
		{"an HTTP API's lower-cased header, by its canonical name", map[string]string{"authorization": "Basic x"}, "Authorization", "Basic x"},
		{"a canonical header, by its lower-case name", map[string]string{"Pb-Webhook-Mid": "m"}, "pb-webhook-mid", "m"},
		{"a header in any case, by a name in another", map[string]string{"X-API-KEY": "k"}, "X-Api-Key", "k"},
		{"surrounding spaces are trimmed", map[string]string{"pb-webhook-type": "  CASHBILL.STATE "}, "Pb-Webhook-Type", "CASHBILL.STATE"},
		{"an absent header is empty", map[string]string{"content-type": "application/json"}, "pb-webhook-mid", ""},
		{"no headers at all", nil, "authorization", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := headers(tc.headers)(tc.lookup); got != tc.want {
				t.Errorf("header %q of %v = %q, want %q", tc.lookup, tc.headers, got, tc.want)
			}
		})
	}
}
