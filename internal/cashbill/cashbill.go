// Package cashbill is the POPBiLL e-Cashbill status event: its fields, how a
// webhook body is parsed and validated, and what its codes mean.
//
// It imports nothing from AWS. Every error it returns is a *FieldError whose
// message is written for the POPBiLL customer who reads it in the webhook
// execution history.
package cashbill

// State codes that the receiver acts on. Other values (100 saved, cancelled
// states) have existed; they are stored and acknowledged like any other.
const (
	StateIssued     = 300
	StateNTSSuccess = 304
	StateNTSFailed  = 305
)

// Event is one parsed CASHBILL.STATE webhook body. Optional fields are empty
// when POPBiLL sent null, an empty string, or nothing. Its JSON form uses
// POPBiLL's field names.
type Event struct {
	CorpNum          string `json:"corpNum"`
	FranchiseCorpNum string `json:"franchiseCorpNum"`
	ItemKey          string `json:"itemKey"`
	TradeDate        string `json:"tradeDate"`
	ConfirmNum       string `json:"confirmNum"`
	NTSSendDT        string `json:"ntssendDT,omitempty"`
	NTSResultDT      string `json:"ntsresultDT,omitempty"`
	NTSResultCode    string `json:"ntsresultCode,omitempty"`
	StateCode        int    `json:"stateCode"`
	StateDT          string `json:"stateDT"`
	IssueDT          string `json:"issueDT"`
	MgtKey           string `json:"mgtKey,omitempty"`
	EventDT          string `json:"eventDT"`
	EventType        string `json:"eventType"`
	// InterOPYN is nil when the field was absent.
	InterOPYN *bool `json:"interOPYN,omitempty"`
}

// BusinessNumber is the seller's business registration number: franchiseCorpNum,
// or the deprecated corpNum when POPBiLL sent only that.
func (e Event) BusinessNumber() string {
	if e.FranchiseCorpNum != "" {
		return e.FranchiseCorpNum
	}
	return e.CorpNum
}

// NTSFilingFailed reports whether the event says NTS rejected the cashbill.
func (e Event) NTSFilingFailed() bool { return e.StateCode == StateNTSFailed }

// ntsResults is POPBiLL's response-code table for NTS filing results, as far as
// it is known from POPBiLL's e-Cashbill documentation. The list goes on past TS7.
var ntsResults = map[string]string{
	"0000": "filed successfully",
	"TS1":  "identity number error: not 10-13 digits, or 11 digits not starting with 0",
	"TS2":  "cash-receipt card number error",
	"TS3":  "issuer restricted by NTS",
	"TS4":  "amount error",
	"TS7":  "business not registered",
}

// NTSResultMeaning says what an NTS result code means, and false when the code
// is not in the known table: show such a code as it is.
func NTSResultMeaning(code string) (string, bool) {
	m, ok := ntsResults[code]
	return m, ok
}

// IsBusinessNumber reports whether n has the form of a business registration
// number: exactly 10 digits.
func IsBusinessNumber(n string) bool { return len(n) == 10 && allDigits(n) }

// FormatBusinessNumber writes a 10-digit business registration number the way
// Koreans read it, 679-87-00433. Anything else is returned unchanged.
func FormatBusinessNumber(n string) string {
	if !IsBusinessNumber(n) {
		return n
	}
	return n[:3] + "-" + n[3:5] + "-" + n[5:]
}

// ValidBusinessNumberChecksum reports whether n is 10 digits whose last digit is
// the NTS check digit of the first nine. Vendor examples use 1234567890, which
// fails, so callers apply this only where the operator turned it on.
func ValidBusinessNumberChecksum(n string) bool {
	if !IsBusinessNumber(n) {
		return false
	}
	weights := [9]int{1, 3, 7, 1, 3, 7, 1, 3, 5}
	sum := 0
	for i, w := range weights {
		sum += int(n[i]-'0') * w
	}
	sum += int(n[8]-'0') * 5 / 10
	return (10-sum%10)%10 == int(n[9]-'0')
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
