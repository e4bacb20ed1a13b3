package alert

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Digest is what a digest alert lists: the failure alerts of one business
// that arrived in one storm window after the first few had been sent one by
// one, each once. The JSON message carries every entry; the e-mail and Slack
// texts show the first DigestShown and say where the rest are.
type Digest struct {
	WindowStart time.Time `json:"windowStart"`
	WindowEnd   time.Time `json:"windowEnd"`
	// SentIndividually is how many of the window's alerts were published one
	// by one before the digest took over (the threshold).
	SentIndividually int           `json:"sentIndividually"`
	Entries          []DigestEntry `json:"entries"`
}

// DigestEntry is one alert a digest stands for.
type DigestEntry struct {
	ItemKey string `json:"itemKey"`
	MgtKey  string `json:"mgtKey,omitempty"`
	Code    string `json:"ntsresultCode,omitempty"`
	Kind    Kind   `json:"kind,omitempty"`
}

// DigestShown is how many entries the e-mail and Slack texts list; the JSON
// message lists all of them.
const DigestShown = 30

// NewDigest is the digest alert of business corp for the window whose
// stored key is windowKey: its alert id is ID(windowKey, KindDigest), the
// same for every publish, so that the Slack ledger posts it once.
func NewDigest(corp, windowKey string, d Digest) Failure {
	return Clean(Failure{
		FranchiseCorpNum: corp, StateCode: 305, EventType: "NTS",
		Kind: KindDigest, AlertID: ID(windowKey, KindDigest), Digest: &d,
	})
}

// IsDigest is true for a digest alert.
func IsDigest(f Failure) bool { return f.Kind == KindDigest && f.Digest != nil }

// CodeCount is how many of a digest's entries carry one result code.
type CodeCount struct {
	Guidance Guidance
	Count    int
}

// DigestCodes counts a digest's entries by result code, most frequent first.
func DigestCodes(d Digest) []CodeCount {
	counts := map[string]int{}
	for _, e := range d.Entries {
		counts[e.Code]++
	}
	out := make([]CodeCount, 0, len(counts))
	for code, n := range counts {
		out = append(out, CodeCount{GuidanceFor(code), n})
	}
	slices.SortFunc(out, func(a, b CodeCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Guidance.Code, b.Guidance.Code))
	})
	return out
}

// digestWindow is the window as 10:00-10:10 KST.
func digestWindow(d Digest) string {
	return d.WindowStart.In(kst).Format("15:04") + "-" + d.WindowEnd.In(kst).Format("15:04") + " KST"
}

// digestWindowLong is the window with its date: 2022-12-22 10:00-10:10 KST.
func digestWindowLong(d Digest) string {
	return d.WindowStart.In(kst).Format("2006-01-02") + " " + digestWindow(d)
}

var kst = time.FixedZone("KST", 9*60*60)

func digestMeaning(d Digest) string {
	noun := "rejections"
	if len(d.Entries) == 1 {
		noun = "rejection"
	}
	return fmt.Sprintf("%d more NTS %s (%s)", len(d.Entries), noun, digestWindow(d))
}

func digestMeaningKO(d Digest) string {
	return fmt.Sprintf("국세청 발행 거부 %d건 추가 (%s)", len(d.Entries), digestWindow(d))
}

// DigestIntro says why the reader gets one message for many, in English.
func DigestIntro(d Digest) string {
	return fmt.Sprintf("The first %d rejections of this business in the window were sent one by one; "+
		"to avoid an alert storm, the %d after them are listed here, each once. None is lost: each stays recorded on its cashbill.",
		d.SentIndividually, len(d.Entries))
}

// DigestIntroKO is DigestIntro in Korean.
func DigestIntroKO(d Digest) string {
	return fmt.Sprintf("같은 사업자의 거부가 한꺼번에 들어와 처음 %d건은 하나씩 보냈고, 그 뒤의 %d건은 이 요약 하나에 모았습니다. 빠진 건은 없습니다.",
		d.SentIndividually, len(d.Entries))
}

// DigestSteps is what to do about a digest, in English.
func DigestSteps() []string {
	return []string{
		"Sign in to POPBiLL (" + POPBiLLURL + ") and open 현금영수증 > 발행내역 (the e-Cashbill list).",
		"Find each receipt listed by its mgtKey (itemKey for one made on the POPBiLL website) and do what its result code asks (above).",
		"So many at once usually have one cause (a wrong amount rule in the issuing system, an NTS outage): fix it before issuing them again.",
	}
}

// DigestStepsKO is DigestSteps in Korean.
func DigestStepsKO() []string {
	return []string{
		"팝빌(" + POPBiLLURL + ")에 로그인해 현금영수증 > 발행내역을 여세요.",
		"아래 목록의 문서번호(mgtKey)로 영수증을 찾아 결과코드별 안내대로 바로잡고 다시 발행하세요.",
		"한꺼번에 거부되었다면 원인이 하나인 경우가 많습니다(발행 시스템의 금액 규칙, 국세청 장애). 원인을 먼저 고치세요.",
	}
}

// DigestRows are the first DigestShown entries, one line each: mgtKey,
// itemKey, result code.
func DigestRows(d Digest) []string {
	n := min(len(d.Entries), DigestShown)
	rows := make([]string, n)
	for i, e := range d.Entries[:n] {
		rows[i] = strings.TrimRight(fmt.Sprintf("%-24s %-18s %s", orNone(e.MgtKey, "-"), e.ItemKey, e.Code), " ")
	}
	return rows
}

// DigestRest says how to see the entries DigestRows leaves out, or "".
func DigestRest(d Digest) string {
	if len(d.Entries) <= DigestShown {
		return ""
	}
	return fmt.Sprintf("... and %d more. Every entry is in this alert's JSON message (digest.entries), and "+
		"`cashbill status ITEMKEY` (or --corp CORPNUM --mgt MGTKEY) shows each receipt with its alert digested into this window.", len(d.Entries)-DigestShown)
}

// digestEmail is EmailText for a digest.
func digestEmail(f Failure) string {
	d := *f.Digest
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s\n\n", envPrefix(f.Environment), digestMeaningKO(d))
	fmt.Fprintf(&b, "담당: %s\n", WhoKO(f))
	fmt.Fprintf(&b, "사업자: %s\n\n", business(f))
	b.WriteString(DigestIntroKO(d) + "\n\n결과코드별:\n")
	for _, c := range DigestCodes(d) {
		fmt.Fprintf(&b, "- %s %s: %d건. %s\n", orNone(c.Guidance.Code, "(없음)"), c.Guidance.ShortKO, c.Count, c.Guidance.StepKO)
	}
	b.WriteString("\n할 일:\n")
	for i, step := range DigestStepsKO() {
		fmt.Fprintf(&b, "%d. %s\n", i+1, step)
	}
	b.WriteString("\n" + emailSeparator)
	fmt.Fprintf(&b, "%sThe National Tax Service (NTS) rejected %d more cash receipts of one business in the window %s.\n\n",
		envPrefix(f.Environment), len(d.Entries), digestWindowLong(d))
	b.WriteString(DigestIntro(d) + "\n")
	b.WriteString("Who acts: " + Who(f) + "\n\n")
	for _, fact := range DigestFacts(f) {
		fmt.Fprintf(&b, "%-17s %s\n", fact.Label+":", fact.Value)
	}
	b.WriteString("\nBy result code:\n")
	for _, c := range DigestCodes(d) {
		fmt.Fprintf(&b, "- %s %s: %d. %s\n", orNone(c.Guidance.Code, "(none)"), c.Guidance.ShortEN, c.Count, c.Guidance.StepEN)
	}
	b.WriteString("\nReceipts (mgtKey, itemKey, result code):\n")
	for _, row := range DigestRows(d) {
		b.WriteString("  " + row + "\n")
	}
	if rest := DigestRest(d); rest != "" {
		b.WriteString(rest + "\n")
	}
	b.WriteString("\nWhat to do next:\n")
	for i, step := range DigestSteps() {
		fmt.Fprintf(&b, "%d. %s\n", i+1, step)
	}
	if links := Links(f); len(links) > 0 {
		b.WriteString("\n")
		for _, l := range links {
			fmt.Fprintf(&b, "%-8s %s\n", l.Label+":", l.Value)
		}
	}
	return b.String()
}

// DigestFacts are a digest's details: business, window, counts.
func DigestFacts(f Failure) []Fact {
	d := *f.Digest
	return []Fact{
		{"Business number", business(f)},
		{"Window", digestWindowLong(d)},
		{"In this digest", fmt.Sprint(len(d.Entries))},
		{"Sent one by one", fmt.Sprintf("%d, before this digest", d.SentIndividually)},
	}
}
