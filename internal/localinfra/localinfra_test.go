//go:build integration

package localinfra

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

func TestProvisionCreatesTheTemplatesTableAndTopic(t *testing.T) {
	ctx := context.Background()
	tmpl, err := samtemplate.Load(filepath.Join(modroot.Dir(t), "template.yaml"))
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
	if gsi := out.Table.GlobalSecondaryIndexes; len(gsi) != 1 || aws.ToString(gsi[0].IndexName) != "due-keys" || len(gsi[0].KeySchema) != 2 {
		t.Errorf("indexes = %+v, want the template's due-keys index (dueQueue, dueAt) alone: a new stack has no previous due index", gsi)
	}
	if out.Table.BillingModeSummary == nil || out.Table.BillingModeSummary.BillingMode != dbtypes.BillingModePayPerRequest {
		t.Errorf("billing mode = %+v, want PAY_PER_REQUEST", out.Table.BillingModeSummary)
	}
	if spec := out.Table.StreamSpecification; spec == nil || !aws.ToBool(spec.StreamEnabled) || spec.StreamViewType != dbtypes.StreamViewTypeNewAndOldImages {
		t.Errorf("stream = %+v, want the template's NEW_AND_OLD_IMAGES stream", spec)
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
	want := "ALERT_TOPIC_ARN='" + st.Refs["AlertTopic"] +
		"'\nBUSINESS_TOKEN_TABLE='" + st.Refs["BusinessTokenTable"] + "'\nSTATE_TABLE='" + st.Refs["StateTable"] + "'\n"
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
	const key = "KeySchema: [{AttributeName: k, KeyType: HASH}]\n      "
	tests := []struct{ name, typ, props, want string }{
		{"unknown table property", "AWS::DynamoDB::Table", key + "BillingMode: PAY_PER_REQUEST\n      KinesisStreamSpecification: {StreamArn: arn}", `unknown field "KinesisStreamSpecification"`},
		{"intrinsic in the key", "AWS::DynamoDB::Table", "BillingMode: PAY_PER_REQUEST\n      KeySchema: [{AttributeName: !Ref KeyName, KeyType: HASH}]", "reads literal values only"},
		{"no key", "AWS::DynamoDB::Table", "BillingMode: PAY_PER_REQUEST", "no KeySchema"},
		{"provisioned throughput", "AWS::DynamoDB::Table", key + "ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}", `unknown field "ProvisionedThroughput"`},
		{"provisioned billing", "AWS::DynamoDB::Table", key + "BillingMode: PROVISIONED", "only on-demand"},
		{"FIFO topic", "AWS::SNS::Topic", "FifoTopic: true", `unknown field "FifoTopic"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := parse(t, "Resources:\n  R:\n    Type: "+tt.typ+"\n    Properties:\n      "+tt.props+"\n").Resources["R"].Properties
			var err error
			if tt.typ == topicType {
				_, err = topicInput("x", props)
			} else {
				_, err = tableInput("x", props)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// A second table and a sparse index, as the sweeper and the archive will
// add them, are created in moto as the template declares them.
func TestProvisionCreatesIndexesAndEveryTable(t *testing.T) {
	ctx := context.Background()
	cfg := mototest.Config(t)
	db := dynamodb.NewFromConfig(cfg)
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
        - IndexName: byGKeys
          KeySchema: [{AttributeName: g, KeyType: HASH}, {AttributeName: k, KeyType: RANGE}]
          Projection: {ProjectionType: KEYS_ONLY}
  Archive:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: k, AttributeType: S}]
      KeySchema: [{AttributeName: k, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
  Q:
    Type: AWS::SNS::Topic
    Properties: {DisplayName: q, KmsMasterKeyId: !Ref Key}
`)
	st, err := Provision(ctx, tmpl, mototest.Name(t, "stack"), db, sns.NewFromConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if st.Refs["Archive"] == "" || st.Refs["Q"] == "" {
		t.Errorf("created %v, want tables T and Archive and topic Q", st.Refs)
	}
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(st.Refs["T"])})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, gsi := range out.Table.GlobalSecondaryIndexes {
		got[aws.ToString(gsi.IndexName)] = fmt.Sprintf("%v %s %v", keyNames(gsi.KeySchema), gsi.Projection.ProjectionType, gsi.Projection.NonKeyAttributes)
	}
	want := map[string]string{"byG": "[g:HASH] INCLUDE [a b]", "byGKeys": "[g:HASH k:RANGE] KEYS_ONLY []"}
	if !maps.Equal(got, want) {
		t.Errorf("indexes = %v, want %v", got, want)
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
