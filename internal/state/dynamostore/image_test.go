package dynamostore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
)

// TestDecodeImageReadsTheBodysOtherFields: an item keeps the body's fields
// that the event does not name in extra; an item that kept the raw body
// instead yields the same fields from it.
func TestDecodeImageReadsTheBodysOtherFields(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	base := func() map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"itemKey": s("022122116191200001"), "stateCode": &types.AttributeValueMemberN{Value: "304"},
		}
	}
	cases := []struct {
		name string
		set  map[string]types.AttributeValue
		want string
	}{
		{"none", nil, ""},
		{"extra", map[string]types.AttributeValue{"extra": s(`{"stateMemo":"m"}`)}, `{"stateMemo":"m"}`},
		{"a raw body", map[string]types.AttributeValue{"body": s(`{"itemKey":"022122116191200001","stateCode":304,"stateMemo":"m"}`)}, `{"stateMemo":"m"}`},
		{"a raw body with nothing else", map[string]types.AttributeValue{"body": s(`{"itemKey":"022122116191200001","stateCode":304}`)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			image := base()
			for k, v := range c.set {
				image[k] = v
			}
			it, err := dynamostore.DecodeImage(image)
			if err != nil || string(it.Extra) != c.want || it.Event.StateCode != 304 {
				t.Errorf("DecodeImage = extra %s, stateCode %d, %v; want extra %q and 304", it.Extra, it.Event.StateCode, err, c.want)
			}
		})
	}
}
