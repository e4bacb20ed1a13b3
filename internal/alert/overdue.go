package alert

import (
	"strconv"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// overdue is true for an alert that no NTS result arrived in time.
func overdue(f Failure) bool { return f.Kind == KindOverdue }

// Summary is the alert's first sentence.
func Summary(f Failure) string {
	if overdue(f) {
		return "No NTS result has arrived for this cash receipt."
	}
	return "NTS rejected this cash receipt."
}

// Reported says who reported the alert: POPBiLL, when, for a failure; the
// receiver's watchdog for an overdue result.
func Reported(f Failure) string {
	if overdue(f) {
		return "Raised by the receiver's NTS-result watchdog"
	}
	return "Reported by POPBiLL at " + EventTime(f)
}

// IssueTime is when the receipt was issued, as 2022-12-21 16:19:12 KST.
func IssueTime(f Failure) string { return kstTime(f.IssueDT) }

func overdueFacts(f Failure) []Fact {
	return []Fact{
		{"Business number", business(f)},
		{"mgtKey", orNone(f.MgtKey, "none: issued on the POPBiLL website")},
		{"itemKey", orNone(f.ItemKey, "none given")},
		{"confirmNum", orNone(f.ConfirmNum, "none given")},
		{"Issued", IssueTime(f)},
		{"Stored state", orNone(stateCode(f), "none given")},
	}
}

func overdueSteps(f Failure) []string {
	return []string{
		"Sign in to POPBiLL (" + POPBiLLURL + ") and open 현금영수증 > 발행내역 (the e-Cashbill list).",
		"Find the receipt by " + findBy(f) + " and read its NTS state.",
		"If the NTS rejected it, correct it and issue it again; then check Webhook 관리 > 실행내역 (execution history) for deliveries that failed.",
	}
}

// stateCode is the stored state an overdue alert was raised at, in words.
func stateCode(f Failure) string {
	switch f.StateCode {
	case 0:
		return ""
	case cashbill.StateIssued:
		return "300 (issued, awaiting the NTS result)"
	}
	return strconv.Itoa(f.StateCode)
}
