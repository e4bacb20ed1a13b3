package alert

// Guidance is what one NTS result code asks of the people who read the
// alert, in Korean (the people who fix cash receipts in Korea read Korean)
// and in English. Short is the meaning in a few words, for a Subject or a
// Slack header; Step is the one thing to do about it, after finding the
// receipt in POPBiLL.
type Guidance struct {
	Code             string
	ShortEN, ShortKO string // e.g. "amount error", "금액 오류"
	StepEN, StepKO   string
	Known            bool
}

// guidance covers every NTS result code POPBiLL's response-code table is
// known to hold for a rejection. The table goes on past TS7; any other code
// gets Unknown's text, which sends the reader to POPBiLL support.
var guidance = map[string]Guidance{
	"TS1": {
		ShortEN: "identity number", ShortKO: "식별번호 오류",
		StepEN: "Ask the customer for the identity number the receipt was issued to (phone, resident, " +
			"business or card number: 10 to 13 digits, an 11-digit one starting with 0), correct it and issue the receipt again.",
		StepKO: "고객에게 현금영수증 식별번호(휴대폰·주민등록·사업자·카드번호, 10~13자리이며 11자리는 0으로 시작)를 확인해 바로잡고 다시 발행하세요.",
	},
	"TS2": {
		ShortEN: "card number", ShortKO: "현금영수증 카드번호 오류",
		StepEN: "Check the customer's cash-receipt card number, correct it and issue the receipt again.",
		StepKO: "고객의 현금영수증 카드번호를 확인해 바로잡고 다시 발행하세요.",
	},
	"TS3": {
		ShortEN: "issuer restricted", ShortKO: "발행 제한 사업자",
		StepEN: "The NTS restricts this business from issuing cash receipts: check the reason on Hometax " +
			"(홈택스) or with the tax office; no receipt is accepted until it is lifted.",
		StepKO: "국세청이 이 사업자의 현금영수증 발행을 제한했습니다. 홈택스나 관할 세무서에서 사유를 확인하세요. 해제되기 전에는 발행되지 않습니다.",
	},
	"TS4": {
		ShortEN: "amount error", ShortKO: "금액 오류",
		StepEN: "Check that supply value, VAT, service charge and total agree with each other and with the sale, " +
			"correct them and issue the receipt again.",
		StepKO: "공급가액·부가세·봉사료·합계금액이 서로, 그리고 실제 거래와 맞는지 확인해 바로잡고 다시 발행하세요.",
	},
	"TS7": {
		ShortEN: "business not registered", ShortKO: "미등록 사업자",
		StepEN: "Check that the business registration number is registered with the NTS for cash receipts " +
			"(Hometax, 홈택스); register it or correct the number, then issue the receipt again.",
		StepKO: "사업자등록번호가 국세청(홈택스)에 현금영수증 가맹점으로 등록되어 있는지 확인하세요. 등록하거나 번호를 바로잡은 뒤 다시 발행하세요.",
	},
}

// unknownGuidance is for a code outside the table, or none.
var unknownGuidance = Guidance{
	ShortEN: "unknown code", ShortKO: "알 수 없는 코드",
	StepEN: "This result code is not in the receiver's table: ask POPBiLL support (고객센터, through the " +
		"POPBiLL site) what it means, giving the code, the itemKey and the MID.",
	StepKO: "수신기가 모르는 결과코드입니다. 팝빌 고객센터에 결과코드, itemKey, MID를 알려 문의하세요.",
}

// GuidanceFor returns the guidance for an NTS result code; Known is false for
// a code outside the table, whose guidance sends the reader to POPBiLL.
func GuidanceFor(code string) Guidance {
	g, ok := guidance[code]
	if !ok {
		g = unknownGuidance
	}
	g.Code, g.Known = code, ok
	return g
}
