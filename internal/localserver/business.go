package localserver

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/popbill-cashbill-webhook/receiver/internal/business"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/boltbusiness"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/dynamobusiness"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
)

// tokenLookup is the business token store of POST /pbconnect/{token}: the
// embedded file's, or BUSINESS_TOKEN_TABLE's with STORE=dynamodb (nil when
// that is not set: every token is then unknown).
func tokenLookup(getenv func(string) string, awsCfg aws.Config, store state.Store) (business.Lookup, error) {
	if b, ok := store.(*boltstore.Store); ok {
		return boltbusiness.New(b.DB())
	}
	if table := config.ReadBusinessTokenTable(getenv); table != "" {
		return dynamobusiness.NewLookup(dynamodb.NewFromConfig(awsCfg), table), nil
	}
	return nil, nil
}
