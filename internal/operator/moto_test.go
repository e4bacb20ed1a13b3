//go:build integration

package operator_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/logarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

// motoSite is a fresh stack on moto_server. The tool reads
// AWS_ENDPOINT_URL, which infra/with-moto.sh exports, like any SDK client.
func motoSite(t *testing.T) site {
	cfg := mototest.Config(t)
	st := motostack.New(t)
	db := dynamodb.NewFromConfig(cfg)
	table, topic := st.Refs["StateTable"], st.Refs["AlertTopic"]
	logs, group := mototest.LogGroup(t)
	q := dynamostore.NewQueues(db, db, table)
	return site{
		store: q, queues: q, rec: logarchive.NewRecorder(logs, group, "webhook-stand-in"),
		alerts: snsalert.New(sns.NewFromConfig(cfg), topic), done: func() {},
		flags: []string{"--state-table", table, "--archive-log-group", group, "--topic", topic},
	}
}

func TestCommandsOnDynamoDB(t *testing.T) {
	refusedThenReplayed(t, motoSite(t))
	owedAndOverdue(t, motoSite(t))
}
