//go:build integration

package dynamoarchive_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archivetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/dynamoarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

func TestContract(t *testing.T) {
	archivetest.Run(t, func(t *testing.T) archivetest.Adapter {
		client := dynamodb.NewFromConfig(mototest.Config(t))
		table := motostack.New(t).Refs["ArchiveTable"]
		return struct {
			*dynamoarchive.Recorder
			*dynamoarchive.Reader
		}{dynamoarchive.NewRecorder(client, table), dynamoarchive.NewReader(client, table)}
	})
}
