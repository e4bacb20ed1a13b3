//go:build integration

package localserver

import (
	"context"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive/logarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

func TestLocalReceiverCanUseDynamoDBAndSNS(t *testing.T) {
	_, table := mototest.Table(t, dynamostore.KeyAttribute)
	sub := mototest.Topic(t)
	logs, group := mototest.LogGroup(t)
	t.Setenv("AWS_ENDPOINT_URL", mototest.Endpoint(t))
	t.Setenv("AWS_REGION", mototest.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	srv, _ := serve(t, map[string]string{
		"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:local-secret",
		"STORE": "dynamodb", "STATE_TABLE": table, "ALERTS": "sns", "ALERT_TOPIC_ARN": sub.TopicARN,
		"ARCHIVE_LOG_GROUP": group,
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
	ds, err := logarchive.NewReader(logs, group, time.Hour).ByItem(context.Background(), "022122116191200001", 0)
	if err != nil || len(ds) != 2 || ds[0].Outcome != state.Duplicate || ds[1].Outcome != state.Stored {
		t.Errorf("archived in the log group: %+v, %v; want the duplicate, then the stored delivery", ds, err)
	}
}
