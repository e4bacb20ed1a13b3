//go:build integration

package snsalert_test

import (
	"encoding/json"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/alerttest"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

func TestContract(t *testing.T) {
	alerttest.Run(t, func(t *testing.T) alerttest.Harness {
		sub := mototest.Topic(t)
		return alerttest.Harness{
			Publisher: snsalert.New(sub.SNS, sub.TopicARN),
			Received: func(t *testing.T) []string {
				var out []string
				for _, env := range sub.Drain(t) {
					out = append(out, env.Message)
				}
				return out
			},
		}
	})
}

func TestMachineSubscribersGetTheJSONAlertWithFilterAttributes(t *testing.T) {
	sub := mototest.Topic(t)
	want := alerttest.Failure("022122116191200009")
	if _, err := snsalert.New(sub.SNS, sub.TopicARN).Publish(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	got := sub.Drain(t)
	if len(got) != 1 {
		t.Fatalf("received %d messages, want 1", len(got))
	}
	var f alert.Failure
	if err := json.Unmarshal([]byte(got[0].Message), &f); err != nil {
		t.Fatalf("SQS subscriber's message is not the JSON alert: %v: %q", err, got[0].Message)
	}
	if f != want {
		t.Errorf("decoded alert = %+v, want %+v", f, want)
	}
	if got[0].Subject != alert.Subject(want) {
		t.Errorf("subject %q, want %q", got[0].Subject, alert.Subject(want))
	}
	for k, v := range map[string]string{"stateCode": "305", "eventType": "NTS", "franchiseCorpNum": "6798700433"} {
		if a := got[0].MessageAttributes[k]; a.Value != v {
			t.Errorf("message attribute %s = %q, want %q", k, a.Value, v)
		}
	}
}
