package snsalert

import (
	"encoding/json"
	"fmt"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
)

// message is the message to publish with MessageStructure "json": one
// message per subscription protocol. Email subscribers get alert.EmailText;
// every machine subscriber (sqs, lambda, email-json, and any protocol not
// listed, through "default") gets the JSON of alert.Encode, which alert.Decode
// reads back.
func message(f alert.Failure) (string, error) {
	data := string(alert.Encode(f))
	b, err := json.Marshal(map[string]string{
		"default":    data,
		"email":      alert.EmailText(f),
		"email-json": data,
		"sqs":        data,
		"lambda":     data,
	})
	if err != nil {
		return "", fmt.Errorf("snsalert: build SNS message: %w", err)
	}
	return string(b), nil
}

// Attributes are the SNS message attributes: subscription filter policies
// route on them.
func Attributes(f alert.Failure) map[string]string {
	return map[string]string{
		"stateCode":        fmt.Sprint(f.StateCode),
		"eventType":        f.EventType,
		"franchiseCorpNum": f.FranchiseCorpNum,
		"alertId":          alert.IDOf(f),
	}
}
