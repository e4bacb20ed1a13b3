package snsalert

import (
	"encoding/json"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/alerttest"
)

func TestMessageGivesMachinesTheAlertJSONAndPeopleTheText(t *testing.T) {
	f := alerttest.Failure("022122116191200001")
	msg, err := message(f)
	if err != nil {
		t.Fatal(err)
	}
	var byProtocol map[string]string
	if err := json.Unmarshal([]byte(msg), &byProtocol); err != nil {
		t.Fatalf("message is not a JSON object of strings: %v", err)
	}
	if len(byProtocol) != 5 {
		t.Errorf("protocols = %d keys, want default, email, email-json, sqs, lambda: %v", len(byProtocol), byProtocol)
	}
	for _, protocol := range []string{"default", "email-json", "sqs", "lambda"} {
		got, err := alert.Decode([]byte(byProtocol[protocol]))
		if err != nil {
			t.Errorf("%s: %v", protocol, err)
		} else if got != f {
			t.Errorf("%s decodes to %+v, want %+v", protocol, got, f)
		}
	}
	if byProtocol["email"] != alert.EmailText(f) {
		t.Errorf("email = %q, want alert.EmailText", byProtocol["email"])
	}
}
