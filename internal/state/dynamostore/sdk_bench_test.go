package dynamostore_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
)

// canned answers every request with one DynamoDB answer, in-process.
type canned struct {
	status int
	body   string
}

func (c canned) Do(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	return &http.Response{StatusCode: c.status, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(strings.NewReader(c.body)), ContentLength: int64(len(c.body)), Request: r}, nil
}

const oldItem = `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed","Item":{"itemKey":{"S":"022122100000000001"},"stateCode":{"N":"304"},"corpNum":{"S":"6798700433"},"franchiseCorpNum":{"S":"6798700433"},"tradeDate":{"S":"20221221"},"confirmNum":{"S":"TB0001147"},"stateDT":{"S":"20221221161938"},"issueDT":{"S":"20221221161938"},"mgtKey":{"S":"20221221-001"},"eventDT":{"S":"20221221161938"},"eventType":{"S":"NTS"},"ntssendDT":{"S":"20221222000000"},"ntsresultDT":{"S":"20221222100033"},"ntsresultCode":{"S":"0000"},"mid":{"S":"m"},"receivedAt":{"S":"2022-12-21T16:19:38.123Z"},"body":{"S":"{\"itemKey\":\"022122100000000001\"}"}}}`

func client(c canned) *dynamodb.Client {
	return dynamodb.NewFromConfig(aws.Config{Region: "ap-northeast-2", HTTPClient: c,
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), BaseEndpoint: aws.String("http://ddb.test")})
}

// BenchmarkApplyCall is Apply's UpdateItem through the real SDK, answered
// in-process, so the figure is the CPU the webhook spends on its one write
// per delivery (building the request, marshalling, signing, reading the
// answer) without the network or moto: written (an increase, 304) and
// refused (a duplicate, whose answer carries the old item). The handwritten
// cases are the same answers to the three-value UpdateItem that a receiver
// written by hand makes (the Go peer of make bench): the SDK's own floor.
func BenchmarkApplyCall(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		c    canned
		code int
	}{{"stored", canned{200, `{"Attributes":{"stateCode":{"N":"300"}}}`}, 304}, {"duplicate", canned{400, oldItem}, 304}} {
		b.Run(tc.name, func(b *testing.B) {
			s := dynamostore.New(client(tc.c), "state")
			d := statetest.Delivery("022122100000000001", tc.code, "m")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Apply(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/handwritten", func(b *testing.B) {
			db := client(tc.c)
			d := statetest.Delivery("022122100000000001", tc.code, "m")
			b.ReportAllocs()
			for b.Loop() {
				_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName:           aws.String("state"),
					Key:                 map[string]types.AttributeValue{"itemKey": &types.AttributeValueMemberS{Value: d.Event.ItemKey}},
					UpdateExpression:    aws.String("SET stateCode = :sc, body = :b, mid = :m"),
					ConditionExpression: aws.String("attribute_not_exists(itemKey) OR stateCode < :sc"),
					ExpressionAttributeValues: map[string]types.AttributeValue{
						":sc": &types.AttributeValueMemberN{Value: strconv.Itoa(tc.code)},
						":b":  &types.AttributeValueMemberS{Value: string(d.Body)},
						":m":  &types.AttributeValueMemberS{Value: d.MID},
					},
				})
				if err != nil && tc.c.status == 200 {
					b.Fatal(err)
				}
			}
		})
	}
}
