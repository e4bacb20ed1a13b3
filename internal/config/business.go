package config

import "strings"

// BusinessTokenTable names the DynamoDB table of the client businesses'
// webhook tokens (package business): POST /pbconnect/{token} resolves its
// token there. Empty: that route answers every token as unknown.
const BusinessTokenTable = "BUSINESS_TOKEN_TABLE"

func init() {
	Variables = append(Variables, Variable{Name: BusinessTokenTable,
		Doc: "DynamoDB table of the tokens of Individual Webhook addresses, POST /pbconnect/{token} (partition key tokenHash; package business). Empty: that route refuses every token."})
}

// ReadBusinessTokenTable returns the token table, or "" when none is set.
func ReadBusinessTokenTable(getenv func(string) string) string {
	return strings.TrimSpace(getenv(BusinessTokenTable))
}
