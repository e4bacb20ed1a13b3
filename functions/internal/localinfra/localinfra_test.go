//go:build integration

package localinfra

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/functions/internal/mototest"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/rietest"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/samtemplate"
)

func TestProvisionCreatesTheTemplatesTableAndTopic(t *testing.T) {
	ctx := context.Background()
	tmpl, err := samtemplate.Load(filepath.Join(rietest.Root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := mototest.Config(t)
	db, topics := dynamodb.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	name := mototest.Name(t, "stack")

	st, err := Provision(ctx, tmpl, name, db, topics)
	if err != nil {
		t.Fatal(err)
	}
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(st.Refs["StateTable"])})
	if err != nil {
		t.Fatal(err)
	}
	if got := keyNames(out.Table.KeySchema); len(got) != 1 || got[0] != "itemKey:HASH" {
		t.Errorf("key schema = %v, want the template's itemKey:HASH", got)
	}
	if out.Table.BillingModeSummary == nil || out.Table.BillingModeSummary.BillingMode != dbtypes.BillingModePayPerRequest {
		t.Errorf("billing mode = %+v, want PAY_PER_REQUEST", out.Table.BillingModeSummary)
	}
	if !strings.HasSuffix(st.Refs["AlertTopic"], ":"+name+"-AlertTopic") {
		t.Errorf("topic ARN = %q", st.Refs["AlertTopic"])
	}

	again, err := Provision(ctx, tmpl, name, db, topics)
	if err != nil {
		t.Fatalf("second run on the same emulator: %v", err)
	}
	if again.Refs["AlertTopic"] != st.Refs["AlertTopic"] || again.Refs["StateTable"] != st.Refs["StateTable"] {
		t.Errorf("second run gave %v, first %v", again.Refs, st.Refs)
	}

	env, err := st.Environment(tmpl, "WebhookFunction")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteEnv(&buf, env); err != nil {
		t.Fatal(err)
	}
	want := "ALERT_TOPIC_ARN='" + st.Refs["AlertTopic"] + "'\nARCHIVE_TABLE='" + st.Refs["ArchiveTable"] + "'\nSTATE_TABLE='" + st.Refs["StateTable"] + "'\n"
	if buf.String() != want {
		t.Errorf("environment:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestProvisionRefusesATableWithAnotherKey(t *testing.T) {
	ctx := context.Background()
	cfg := mototest.Config(t)
	db := dynamodb.NewFromConfig(cfg)
	name := mototest.Name(t, "stack")
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name + "-StateTable"),
		BillingMode:          dbtypes.BillingModePayPerRequest,
		KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: dbtypes.KeyTypeHash}},
		AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: dbtypes.ScalarAttributeTypeS}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := parse(t, `
Resources:
  StateTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: itemKey, AttributeType: S}]
      KeySchema: [{AttributeName: itemKey, KeyType: HASH}]
`)
	_, err = Provision(ctx, tmpl, name, db, sns.NewFromConfig(cfg))
	if err == nil || !strings.Contains(err.Error(), "already exists with key schema") {
		t.Errorf("error = %v, want a key schema mismatch", err)
	}
}

func TestTemplatesItCannotFollow(t *testing.T) {
	tests := []struct{ name, props, want string }{
		{"unknown table property", "KeySchema: [{AttributeName: k, KeyType: HASH}]\n      StreamSpecification: {StreamViewType: NEW_IMAGE}", "StreamSpecification is not supported locally"},
		{"intrinsic in the key", "KeySchema: [{AttributeName: !Ref KeyName, KeyType: HASH}]", "not a literal string"},
		{"no key", "BillingMode: PAY_PER_REQUEST", "no KeySchema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := parse(t, "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      "+tt.props+"\n")
			_, err := tableInput("x", tmpl.Resources["T"].Properties)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestIndexesAndFifoTopicsCarryOver(t *testing.T) {
	tmpl := parse(t, `
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: k, AttributeType: S}, {AttributeName: g, AttributeType: N}]
      KeySchema: [{AttributeName: k, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
      GlobalSecondaryIndexes:
        - IndexName: byG
          KeySchema: [{AttributeName: g, KeyType: HASH}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [a, b]}
  Q:
    Type: AWS::SNS::Topic
    Properties: {FifoTopic: true, ContentBasedDeduplication: true, KmsMasterKeyId: !Ref Key}
`)
	in, err := tableInput("x", tmpl.Resources["T"].Properties)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.GlobalSecondaryIndexes) != 1 || aws.ToString(in.GlobalSecondaryIndexes[0].IndexName) != "byG" ||
		len(in.GlobalSecondaryIndexes[0].Projection.NonKeyAttributes) != 2 {
		t.Errorf("indexes = %+v", in.GlobalSecondaryIndexes)
	}
	topic, err := topicInput("x-Q", tmpl.Resources["Q"].Properties)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(topic.Name) != "x-Q.fifo" || topic.Attributes["FifoTopic"] != "true" || topic.Attributes["ContentBasedDeduplication"] != "true" {
		t.Errorf("topic = %s %v", aws.ToString(topic.Name), topic.Attributes)
	}
}

func TestWriteEnvQuotesForTheShell(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteEnv(&buf, map[string]string{"B": "it's", "A": "x y"}); err != nil {
		t.Fatal(err)
	}
	if want := "A='x y'\nB='it'\\''s'\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func parse(t *testing.T, yaml string) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}
