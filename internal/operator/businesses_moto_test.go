//go:build integration

package operator_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/popbill-cashbill-webhook/receiver/internal/business"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/dynamobusiness"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

func TestBusinessAddressesOnDynamoDB(t *testing.T) {
	table := motostack.New(t).Refs["BusinessTokenTable"]
	lookup := dynamobusiness.NewLookup(dynamodb.NewFromConfig(mototest.Config(t)), table)
	site := tokenSite{
		flags: []string{"--token-table", table, "--url", "https://api.example/pbconnect"},
		resolve: func(t *testing.T, token string) (string, error) {
			r, err := business.NewResolver(lookup, nil).Resolve(context.Background(), token)
			return r.CorpNum, err
		},
	}
	addressesIssuedRotatedAndRevoked(t, site, "https://api.example/pbconnect/")
}

func TestBusinessesWeekOnDynamoDB(t *testing.T) { twoBusinessesWeek(t, motoSite(t)) }
