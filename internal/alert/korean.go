package alert

import (
	"fmt"
	"strings"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// business is the business number with its display name when one is
// configured: "679-87-00433 (가나다상사)".
func business(f Failure) string {
	n := orNone(cashbill.FormatBusinessNumber(f.FranchiseCorpNum), "none given")
	if f.BusinessName != "" {
		n += " (" + f.BusinessName + ")"
	}
	return n
}

// MeaningKO is Meaning in Korean: "국세청 발행 거부 (TS4 금액 오류)".
func MeaningKO(f Failure) string {
	if IsDigest(f) {
		return digestMeaningKO(*f.Digest)
	}
	if overdue(f) {
		return "국세청 처리 결과 지연"
	}
	if f.NTSResultCode == "" {
		return "국세청 발행 거부"
	}
	return "국세청 발행 거부 (" + f.NTSResultCode + " " + GuidanceFor(f.NTSResultCode).ShortKO + ")"
}

// WhoKO is Who in Korean.
func WhoKO(f Failure) string {
	if overdue(f) {
		return "세무·회계 담당자가 업무 시간 중에 확인하세요 (장애 아님)."
	}
	return "세무·회계 담당자가 업무 시간 중에 처리하세요 (장애 아님, 수신기는 정상)."
}

// NextStepsKO is NextSteps in Korean.
func NextStepsKO(f Failure) []string {
	steps := []string{
		"팝빌(" + POPBiLLURL + ")에 로그인해 현금영수증 > 발행내역을 여세요.",
		findIn(f, korean) + "로 영수증을 찾으세요.",
	}
	if overdue(f) {
		return append(steps, "국세청 전송 상태를 확인하고, 거부되었다면 바로잡아 다시 발행하세요. Webhook 관리 > 실행내역에서 실패한 전달이 있는지도 확인하세요.")
	}
	return append(steps, GuidanceFor(f.NTSResultCode).StepKO)
}

// MIDNoteKO is MIDNote in Korean.
func MIDNoteKO(f Failure) string {
	if f.MID == "" {
		return ""
	}
	return "MID " + f.MID + "로 팝빌 Webhook 관리 > 실행내역에서 이 전달을 찾을 수 있습니다."
}

// writeKorean writes the email's Korean block: what happened, who acts, the
// business and the steps; the English block after it has every detail.
func writeKorean(b *strings.Builder, f Failure) {
	fmt.Fprintf(b, "%s%s\n\n", envPrefix(f.Environment), MeaningKO(f))
	fmt.Fprintf(b, "담당: %s\n", WhoKO(f))
	fmt.Fprintf(b, "사업자: %s\n\n", business(f))
	b.WriteString("할 일:\n")
	for i, step := range NextStepsKO(f) {
		fmt.Fprintf(b, "%d. %s\n", i+1, step)
	}
	if note := MIDNoteKO(f); note != "" {
		b.WriteString("\n" + note + "\n")
	}
	b.WriteString("\n")
}
