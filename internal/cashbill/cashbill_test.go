package cashbill_test

import (
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// fnCase is one call of a one-argument function and the result it must give.
type fnCase[T comparable] struct {
	name string
	in   string
	want T
}

// runCases runs each case as a subtest of f, named fname in failures.
func runCases[T comparable](t *testing.T, fname string, f func(string) T, cases []fnCase[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := f(tc.in); got != tc.want {
				t.Errorf("%s(%q) = %+v, want %+v", fname, tc.in, got, tc.want)
			}
		})
	}
}

func TestValidBusinessNumberChecksum(t *testing.T) {
	runCases(t, "ValidBusinessNumberChecksum", cashbill.ValidBusinessNumberChecksum, []fnCase[bool]{
		{"a real business number passes", "6798700433", true},
		{"the carry of the ninth digit times five counts", "1248100998", true},
		{"a check digit of zero passes when the sum is a multiple of ten", "1000000090", true},
		{"the vendor's placeholder 1234567890 fails", "1234567890", false},
		{"a wrong check digit fails", "6798700434", false},
		{"ignoring the carry would pass this one, so it fails", "1248100992", false},
		{"nine digits fail", "679870043", false},
		{"eleven digits fail", "67987004330", false},
		{"letters fail", "67987OO433", false},
		{"the dashed form fails", "679-87-00433", false},
		{"empty fails", "", false},
	})
}

func TestIsBusinessNumberChecksOnlyTheForm(t *testing.T) {
	runCases(t, "IsBusinessNumber", cashbill.IsBusinessNumber, []fnCase[bool]{
		{"ten digits", "6798700433", true},
		{"ten digits with a wrong check digit still have the form", "1234567890", true},
		{"all zeros have the form", "0000000000", true},
		{"nine digits", "679870043", false},
		{"eleven digits", "67987004330", false},
		{"dashes", "679-87-00433", false},
		{"a letter", "679870043a", false},
		{"full-width digits", "６７９８７００４３３", false},
		{"empty", "", false},
	})
}

func TestFormatBusinessNumber(t *testing.T) {
	runCases(t, "FormatBusinessNumber", cashbill.FormatBusinessNumber, []fnCase[string]{
		{"ten digits are written 3-2-5", "6798700433", "679-87-00433"},
		{"a number failing the checksum is still formatted", "1234567890", "123-45-67890"},
		{"an already dashed number is unchanged", "679-87-00433", "679-87-00433"},
		{"nine digits are unchanged", "679870043", "679870043"},
		{"letters are unchanged", "abcdefghij", "abcdefghij"},
		{"empty is unchanged", "", ""},
	})
}

// meaning is both results of NTSResultMeaning.
type meaning struct {
	text  string
	known bool
}

func TestNTSResultMeaning(t *testing.T) {
	f := func(code string) meaning {
		text, known := cashbill.NTSResultMeaning(code)
		return meaning{text, known}
	}
	runCases(t, "NTSResultMeaning", f, []fnCase[meaning]{
		{"0000 is success", "0000", meaning{"filed successfully", true}},
		{"TS1 is an identity number error", "TS1", meaning{"identity number error: not 10-13 digits, or 11 digits not starting with 0", true}},
		{"TS4 is an amount error", "TS4", meaning{"amount error", true}},
		{"TS7 is an unregistered business", "TS7", meaning{"business not registered", true}},
		{"a code past the captured table is unknown", "TS8", meaning{}},
		{"codes are matched exactly, not case-insensitively", "ts1", meaning{}},
		{"an eight-character code is unknown", "SERR0001", meaning{}},
		{"empty is unknown", "", meaning{}},
	})
}

func TestBusinessNumberPrefersFranchiseCorpNum(t *testing.T) {
	cases := []struct {
		name string
		ev   cashbill.Event
		want string
	}{
		{"franchiseCorpNum wins over corpNum", cashbill.Event{CorpNum: "1234567890", FranchiseCorpNum: "6798700433"}, "6798700433"},
		{"only the deprecated corpNum", cashbill.Event{CorpNum: "1234567890"}, "1234567890"},
		{"only franchiseCorpNum", cashbill.Event{FranchiseCorpNum: "6798700433"}, "6798700433"},
		{"neither", cashbill.Event{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.ev.BusinessNumber(); got != tc.want {
				t.Errorf("BusinessNumber() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNTSFilingFailedOnlyFor305(t *testing.T) {
	for code, want := range map[int]bool{
		cashbill.StateIssued: false, cashbill.StateNTSSuccess: false, cashbill.StateNTSFailed: true, 100: false, 399: false,
	} {
		if got := (cashbill.Event{StateCode: code}).NTSFilingFailed(); got != want {
			t.Errorf("Event{StateCode: %d}.NTSFilingFailed() = %v, want %v", code, got, want)
		}
	}
}
