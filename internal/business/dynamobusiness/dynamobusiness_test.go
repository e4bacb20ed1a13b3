//go:build integration

package dynamobusiness_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/popbill-cashbill-webhook/receiver/internal/business"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/businesstest"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/dynamobusiness"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

func TestContract(t *testing.T) {
	businesstest.Run(t, func(t *testing.T) business.Store {
		client := dynamodb.NewFromConfig(mototest.Config(t))
		return dynamobusiness.New(client, motostack.New(t).Refs["BusinessTokenTable"])
	})
}
