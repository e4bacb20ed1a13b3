//go:build integration

package webhook_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archivetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/dynamoarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

func init() {
	archiveSets["dynamodb"] = func(t *testing.T) archivetest.Adapter {
		client := dynamodb.NewFromConfig(mototest.Config(t))
		table := motostack.New(t).Refs["ArchiveTable"]
		return struct {
			*dynamoarchive.Recorder
			*dynamoarchive.Reader
		}{dynamoarchive.NewRecorder(client, table), dynamoarchive.NewReader(client, table)}
	}
}
