package alert

import (
	"fmt"
	"strings"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/functions/internal/cashbill"
)

// subjectLimit is the longest Subject SNS accepts, in characters. Subject
// returns ASCII only, so characters and bytes are the same count.
const subjectLimit = 100

// Fact is one labelled detail of an alert, written for the people who act on
// it. Email and Slack render the same Facts so that both say the same thing.
type Fact struct {
	Label string
	Value string
}

// Facts are the receipt's details in reading order: which business, which
// receipt, and the NTS result code. Missing values are spelled out.
func Facts(f Failure) []Fact {
	if overdue(f) {
		return overdueFacts(f)
	}
	return []Fact{
		{"Business number", orNone(cashbill.FormatBusinessNumber(f.FranchiseCorpNum), "none given")},
		{"mgtKey", orNone(f.MgtKey, "none: issued on the POPBiLL website")},
		{"itemKey", orNone(f.ItemKey, "none given")},
		{"confirmNum", orNone(f.ConfirmNum, "none given")},
		{"Trade date", orNone(tradeDate(f), "none given")},
		{"NTS result code", orNone(f.NTSResultCode, "none given")},
	}
}

// Reason says why NTS rejected the receipt: the result code's meaning, from
// POPBiLL's table or "unknown code", then the code as it came, e.g.
// "amount error (NTS result code TS4)".
func Reason(f Failure) string {
	if overdue(f) {
		return "no NTS result (304 filed or 305 rejected) arrived by the deadline"
	}
	if f.NTSResultCode == "" {
		return "no NTS result code given"
	}
	meaning, ok := cashbill.NTSResultMeaning(f.NTSResultCode)
	if !ok {
		meaning = "unknown code"
	}
	return meaning + " (NTS result code " + f.NTSResultCode + ")"
}

// EventTime is when POPBiLL reported the failure, as 2022-12-22 10:00:33 KST.
// An eventDT that is not yyyyMMddHHmmss is shown as it came.
func EventTime(f Failure) string { return kstTime(f.EventDT) }

// kstTime is a POPBiLL yyyyMMddHHmmss as 2022-12-22 10:00:33 KST, or as it came.
func kstTime(dt string) string {
	if dt == "" {
		return "unknown time"
	}
	t := formatDigits(dt, "20060102150405", "2006-01-02 15:04:05")
	if t == dt {
		return t
	}
	return t + " KST"
}

// NextSteps tells the business what to do about the rejected receipt, one
// step a line.
func NextSteps(f Failure) []string {
	if overdue(f) {
		return overdueSteps(f)
	}
	return []string{
		"Sign in to POPBiLL and open 현금영수증 > 발행내역 (the e-Cashbill list).",
		"Find the receipt by " + findBy(f) + ".",
		"Correct what the result code points to and issue the receipt again.",
	}
}

// findBy names what a person can search the POPBiLL list by: mgtKey and the
// NTS approval number where known, else itemKey, and the trade date.
func findBy(f Failure) string {
	var keys []string
	if f.MgtKey != "" {
		keys = append(keys, "mgtKey "+f.MgtKey)
	}
	if f.ConfirmNum != "" {
		keys = append(keys, "confirmNum "+f.ConfirmNum)
	}
	if len(keys) == 0 {
		keys = append(keys, "itemKey "+f.ItemKey)
	}
	s := strings.Join(keys, " or ")
	if f.TradeDate != "" {
		s += " (trade date " + tradeDate(f) + ")"
	}
	return s
}

// Title names the failure in one line, text kept as it came, e.g.
// "679-87-00433 20221221-001: NTS filing failed (TS4)": the business, then
// mgtKey, or itemKey for a receipt made on the POPBiLL website.
func Title(f Failure) string {
	key := f.MgtKey
	if key == "" {
		key = f.ItemKey
	}
	var parts []string
	for _, p := range []string{cashbill.FormatBusinessNumber(f.FranchiseCorpNum), key} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	title := "NTS filing failed"
	if overdue(f) {
		title = "NTS result overdue"
	}
	if len(parts) > 0 {
		title = strings.Join(parts, " ") + ": " + title
	}
	if f.NTSResultCode != "" && !overdue(f) {
		title += " (" + f.NTSResultCode + ")"
	}
	return title
}

// Subject is the SNS Subject of the alert: Title made acceptable to SNS.
//
// SNS wants at most 100 ASCII characters with no line breaks or control
// characters, beginning with a letter, digit or punctuation mark. Every
// character outside printable ASCII (Hangul, a newline, a tab) therefore
// becomes '?', one for one, and a subject that is too long is cut to end in
// "...". The email body and the JSON message keep the text as it came.
func Subject(f Failure) string {
	subject := strings.TrimLeft(printableASCII(Title(f)), " ")
	if len(subject) > subjectLimit {
		subject = subject[:subjectLimit-3] + "..."
	}
	return subject
}

// printableASCII replaces each character outside ' '..'~' with '?'.
func printableASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
}

// EmailText is the plain-text body that email subscribers receive.
func EmailText(f Failure) string {
	var b strings.Builder
	if overdue(f) {
		b.WriteString("No National Tax Service (NTS) result has arrived for a cash receipt issued through POPBiLL.\n\n")
	} else {
		b.WriteString("The National Tax Service (NTS) rejected a cash receipt issued through POPBiLL.\n\n")
	}
	b.WriteString("Reason: " + Reason(f) + "\n\n")
	for _, fact := range Facts(f) {
		fmt.Fprintf(&b, "%-17s %s\n", fact.Label+":", fact.Value)
	}
	switch {
	case !overdue(f):
		fmt.Fprintf(&b, "\nPOPBiLL reported the failure at %s", EventTime(f))
		if f.MID != "" {
			fmt.Fprintf(&b, " (webhook message %s)", f.MID)
		}
	case f.MID != "":
		fmt.Fprintf(&b, "\n%s (last webhook message %s)", Reported(f), f.MID)
	default:
		fmt.Fprintf(&b, "\n%s", Reported(f))
	}
	b.WriteString(".\n\nWhat to do next:\n")
	for i, step := range NextSteps(f) {
		fmt.Fprintf(&b, "%d. %s\n", i+1, step)
	}
	return b.String()
}

// tradeDate is f's trade date as 2022-12-21.
func tradeDate(f Failure) string { return formatDigits(f.TradeDate, "20060102", "2006-01-02") }

// formatDigits rewrites a POPBiLL date or time from layout in to layout out,
// and returns s unchanged when it is not in layout in.
func formatDigits(s, in, out string) string {
	t, err := time.Parse(in, s)
	if err != nil {
		return s
	}
	return t.Format(out)
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
