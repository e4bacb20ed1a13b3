package dynamostore

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// DecodeImage reads an item of the state table as this store wrote it, from
// a stream record's image (the state-change forwarder). An image with no
// stateCode, which the store never leaves once its write completes, decodes
// with StateCode 0: it is not a cashbill state.
func DecodeImage(image map[string]types.AttributeValue) (state.Item, error) {
	if _, ok := image[attrState]; !ok {
		var k itemKey
		if err := attributevalue.UnmarshalMap(image, &k); err != nil {
			return state.Item{}, fmt.Errorf("dynamostore: decode image: %w", err)
		}
		return state.Item{Event: cashbill.Event{ItemKey: k.ItemKey}}, nil
	}
	return decodeItem(image)
}
