package alert

import (
	"fmt"
	"strings"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
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
		{"Business number", business(f)},
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
// step a line: find it in POPBiLL, then what its result code asks for.
func NextSteps(f Failure) []string {
	if overdue(f) {
		return overdueSteps(f)
	}
	return []string{
		"Sign in to POPBiLL (" + POPBiLLURL + ") and open 현금영수증 > 발행내역 (the e-Cashbill list).",
		"Find the receipt by " + findBy(f) + ".",
		GuidanceFor(f.NTSResultCode).StepEN,
	}
}

// findBy names what a person can search the POPBiLL list by: mgtKey and the
// NTS approval number where known, else itemKey, and the trade date.
func findBy(f Failure) string { return findIn(f, english) }

// words are the labels findIn writes in one language.
type words struct{ mgtKey, confirmNum, or, tradeDate, end string }

var (
	english = words{"mgtKey ", "confirmNum ", " or ", " (trade date ", ")"}
	korean  = words{"문서번호(mgtKey) ", "승인번호 ", " 또는 ", " (거래일 ", ")"}
)

func findIn(f Failure, w words) string {
	var keys []string
	if f.MgtKey != "" {
		keys = append(keys, w.mgtKey+f.MgtKey)
	}
	if f.ConfirmNum != "" {
		keys = append(keys, w.confirmNum+f.ConfirmNum)
	}
	if len(keys) == 0 {
		keys = append(keys, "itemKey "+f.ItemKey)
	}
	s := strings.Join(keys, w.or)
	if f.TradeDate != "" {
		s += w.tradeDate + tradeDate(f) + w.end
	}
	return s
}

// Meaning is what happened, in a few words, for a Subject or a header:
// "NTS rejected (TS1 identity number)", "NTS result overdue".
func Meaning(f Failure) string {
	if IsDigest(f) {
		return digestMeaning(*f.Digest)
	}
	if overdue(f) {
		return "NTS result overdue"
	}
	if f.NTSResultCode == "" {
		return "NTS rejected"
	}
	return "NTS rejected (" + f.NTSResultCode + " " + GuidanceFor(f.NTSResultCode).ShortEN + ")"
}

// envPrefix is "[prod] ", or "" when the deployment has no name.
func envPrefix(env string) string {
	if env == "" {
		return ""
	}
	return "[" + env + "] "
}

// keysOf names the receipt: the business, then mgtKey, or itemKey for a
// receipt made on the POPBiLL website.
func keysOf(f Failure) string {
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
	return strings.Join(parts, " ")
}

// Title names the alert in one line, text kept as it came: the environment,
// the receipt, then what happened, e.g.
// "[prod] 679-87-00433 20221221-001: NTS rejected (TS4 amount error)".
func Title(f Failure) string {
	return joinTitle(envPrefix(f.Environment), keysOf(f), Meaning(f))
}

func joinTitle(prefix, keys, meaning string) string {
	if keys == "" {
		return prefix + meaning
	}
	return prefix + keys + ": " + meaning
}

// Subject is the SNS Subject of the alert: Title made acceptable to SNS.
//
// SNS wants at most 100 ASCII characters with no line breaks or control
// characters, beginning with a letter, digit or punctuation mark. Every
// character outside printable ASCII (Hangul, a newline, a tab) therefore
// becomes '?', one for one. The environment and the meaning are kept whole
// where they fit: a subject that is too long loses the end of its keys
// first (cut to end in "..."). The email body and the JSON message keep the
// text as it came.
func Subject(f Failure) string {
	return fitSubject(envPrefix(f.Environment), keysOf(f), Meaning(f))
}

// fitSubject joins prefix, keys and meaning into at most subjectLimit
// printable ASCII characters, cutting keys before meaning.
func fitSubject(prefix, keys, meaning string) string {
	prefix, keys, meaning = printableASCII(prefix), strings.TrimSpace(printableASCII(keys)), printableASCII(meaning)
	if len(prefix)+len(meaning) > subjectLimit-len(": ...") {
		// Nothing else fits: keep what happened, cut.
		return clipASCII(prefix+meaning, subjectLimit)
	}
	room := subjectLimit - len(prefix) - len(": ") - len(meaning)
	if len(keys) > room {
		keys = clipASCII(keys, room)
	}
	return strings.TrimLeft(joinTitle(prefix, keys, meaning), " ")
}

// clipASCII cuts s to at most n bytes, ending in "..." when it cut.
func clipASCII(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
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

// Who says who acts on the alert and how urgently, in English.
func Who(f Failure) string {
	if overdue(f) {
		return "Tax or accounting staff: a check within business hours, not an outage."
	}
	return "Tax or accounting staff, within business hours. This is not an outage: the receiver works."
}

// MIDNote says what the MID is good for, or "" when there is none.
func MIDNote(f Failure) string {
	if f.MID == "" {
		return ""
	}
	return "MID " + f.MID + " finds this delivery in POPBiLL under Webhook 관리 > 실행내역 (execution history)."
}

// Links are the runbook and the logs, labelled, as far as known.
func Links(f Failure) []Fact {
	var out []Fact
	if f.RunbookURL != "" {
		out = append(out, Fact{"Runbook", f.RunbookURL})
	}
	if f.LogsURL != "" {
		out = append(out, Fact{"Logs", f.LogsURL})
	}
	return out
}

// emailSeparator parts the Korean block from the English one.
const emailSeparator = "----------------------------------------------------------------------\n\n"

// EmailText is the plain-text body that email subscribers receive: a
// Korean block, then the same in English with every detail, then links.
func EmailText(f Failure) string {
	if IsDigest(f) {
		return digestEmail(f)
	}
	var b strings.Builder
	writeKorean(&b, f)
	b.WriteString(emailSeparator)
	b.WriteString(envPrefix(f.Environment))
	if overdue(f) {
		b.WriteString("No National Tax Service (NTS) result has arrived for a cash receipt issued through POPBiLL.\n\n")
	} else {
		b.WriteString("The National Tax Service (NTS) rejected a cash receipt issued through POPBiLL.\n\n")
	}
	b.WriteString("Reason: " + Reason(f) + "\n")
	b.WriteString("Who acts: " + Who(f) + "\n\n")
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
	if note := MIDNote(f); note != "" {
		b.WriteString("\n" + note + "\n")
	}
	if links := Links(f); len(links) > 0 {
		b.WriteString("\n")
		for _, l := range links {
			fmt.Fprintf(&b, "%-8s %s\n", l.Label+":", l.Value)
		}
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
