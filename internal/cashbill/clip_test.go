package cashbill_test

import (
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

func TestClipEchoesOneShortLineOfValidText(t *testing.T) {
	forty := strings.Repeat("a", 40)
	cases := []struct{ name, in, want string }{
		{"short printable text is echoed as it is", "CASHBILL.STATE", "CASHBILL.STATE"},
		{"forty characters are not cut", forty, forty},
		{"the forty-first is cut", forty + "b", forty + "…"},
		{"forty Hangul characters are not cut", strings.Repeat("가", 40), strings.Repeat("가", 40)},
		{"a tab is shown as ?", "a\tb", "a?b"},
		{"DEL is shown as ?", "a\x7fb", "a?b"},
		{"a line separator is shown as ?", "a\u2028b", "a?b"},
		{"an invisible format character is shown as ?", "a\u200bb", "a?b"},
		{"an invalid byte is shown as ?", "a\xffb", "a?b"},
		{"empty stays empty", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := cashbill.Clip(tc.in); got != tc.want {
				t.Errorf("Clip(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
