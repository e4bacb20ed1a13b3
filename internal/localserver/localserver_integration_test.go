//go:build integration

package localserver

import (
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

func TestLocalReceiverCanUseDynamoDBAndSNS(t *testing.T) {
	_, table := mototest.Table(t, dynamostore.KeyAttribute)
	sub := mototest.Topic(t)
	t.Setenv("AWS_ENDPOINT_URL", mototest.Endpoint(t))
	t.Setenv("AWS_REGION", mototest.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	srv, _ := serve(t, map[string]string{
		"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:local-secret",
		"STORE": "dynamodb", "STATE_TABLE": table, "ALERTS": "sns", "ALERT_TOPIC_ARN": sub.TopicARN,
		"ARCHIVE_TABLE": motostack.New(t).Refs["ArchiveTable"],
	})
	for range 2 {
		if code, body := post(t, srv, nts305); code != 200 {
			t.Fatalf("POST = %d %q", code, body)
		}
	}
	if code, it := item(t, srv, "022122116191200001"); code != 200 || it.Event.StateCode != 305 {
		t.Errorf("GET /items = %d %+v", code, it)
	}
	if n := len(sub.Drain(t)); n != 1 {
		t.Errorf("%d alerts on SNS, want 1", n)
	}
}
