//go:build integration

package operator_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/dynamoarchive"
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
	table, arch, topic := st.Refs["StateTable"], st.Refs["ArchiveTable"], st.Refs["AlertTopic"]
	q := dynamostore.NewQueues(db, db, table)
	return site{
		store: q, queues: q, rec: dynamoarchive.NewRecorder(db, arch),
		alerts: snsalert.New(sns.NewFromConfig(cfg), topic), done: func() {},
		flags: []string{"--state-table", table, "--archive-table", arch, "--topic", topic},
	}
}

func TestCommandsOnDynamoDB(t *testing.T) {
	refusedThenReplayed(t, motoSite(t))
	owedAndOverdue(t, motoSite(t))
}
