// Package localinfra creates a template's DynamoDB tables and SNS topics in an
// AWS emulator (moto_server), from their definitions in template.yaml, so that
// local runs and tests get the key schema and topic kind production gets and
// cannot drift from it.
//
// What changes behaviour is carried over: a table's keys, global secondary
// indexes and stream (on-demand billing only); properties with no local effect
// (encryption, backups, deletion protection, a topic's display name and key)
// are skipped. Any other property is an error: teach it here rather than let
// the local resource silently differ.
package localinfra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
)

// DynamoDBAPI is the DynamoDB calls Provision makes.
type DynamoDBAPI interface {
	CreateTable(ctx context.Context, params *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, params *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// SNSAPI is the SNS call Provision makes.
type SNSAPI interface {
	CreateTopic(ctx context.Context, params *sns.CreateTopicInput, optFns ...func(*sns.Options)) (*sns.CreateTopicOutput, error)
}

// Resource types Provision creates.
const (
	tableType = "AWS::DynamoDB::Table"
	topicType = "AWS::SNS::Topic"
)

// Stack is what Provision created.
type Stack struct {
	// Refs holds what !Ref returns for each created resource, by logical
	// ID: a table's name, a topic's ARN.
	Refs map[string]string
}

// Provision creates every unconditional table and topic of t, named
// "<name>-<LogicalId>". It may be run again on the same emulator: existing
// tables are kept when their key schema matches, topics are found by name.
func Provision(ctx context.Context, t *samtemplate.Template, name string, db DynamoDBAPI, topics SNSAPI) (*Stack, error) {
	creators := []struct {
		typ    string
		create func(physical string, props map[string]any) (ref string, err error)
	}{
		{tableType, func(physical string, props map[string]any) (string, error) {
			in, err := tableInput(physical, props)
			if err != nil {
				return "", err
			}
			return physical, createTable(ctx, db, in)
		}},
		{topicType, func(physical string, props map[string]any) (string, error) {
			in, err := topicInput(physical, props)
			if err != nil {
				return "", err
			}
			out, err := topics.CreateTopic(ctx, in)
			if err != nil {
				return "", fmt.Errorf("create topic %s: %w", aws.ToString(in.Name), err)
			}
			return aws.ToString(out.TopicArn), nil
		}},
	}
	st := &Stack{Refs: map[string]string{}}
	for _, c := range creators {
		for _, id := range t.ResourcesOfType(c.typ) {
			r := t.Resources[id]
			if r.Condition != "" {
				continue
			}
			ref, err := c.create(name+"-"+id, r.Properties)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
			st.Refs[id] = ref
		}
	}
	return st, nil
}

// Environment returns the environment variables of the SAM function fn whose
// value is a !Ref to a resource of the stack (STATE_TABLE, ALERT_TOPIC_ARN),
// with the local resource's name or ARN.
func (st *Stack) Environment(t *samtemplate.Template, fn string) (map[string]string, error) {
	vars, err := t.Environment(fn)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for k, v := range vars {
		if id, ok := samtemplate.Ref(v); ok {
			if ref, ok := st.Refs[id]; ok {
				env[k] = ref
			}
		}
	}
	return env, nil
}

// WriteEnv writes env as sorted KEY='value' lines that a POSIX shell can eval.
func WriteEnv(w io.Writer, env map[string]string) error {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q := "'" + strings.ReplaceAll(env[k], "'", `'\''`) + "'"
		if _, err := fmt.Fprintf(w, "%s=%s\n", k, q); err != nil {
			return err
		}
	}
	return nil
}

func createTable(ctx context.Context, db DynamoDBAPI, in *dynamodb.CreateTableInput) error {
	_, err := db.CreateTable(ctx, in)
	var inUse *dbtypes.ResourceInUseException
	if !errors.As(err, &inUse) {
		if err != nil {
			return fmt.Errorf("create table %s: %w", aws.ToString(in.TableName), err)
		}
		return nil
	}
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
	if err != nil {
		return fmt.Errorf("describe existing table %s: %w", aws.ToString(in.TableName), err)
	}
	if !reflect.DeepEqual(keyNames(out.Table.KeySchema), keyNames(in.KeySchema)) {
		return fmt.Errorf("table %s already exists with key schema %v, but the template says %v: "+
			"delete it (or restart the emulator) and run again",
			aws.ToString(in.TableName), keyNames(out.Table.KeySchema), keyNames(in.KeySchema))
	}
	return nil
}

func keyNames(ks []dbtypes.KeySchemaElement) []string {
	var out []string
	for _, k := range ks {
		out = append(out, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	return out
}

// Table properties with no effect in an emulator.
var skippedTableProps = map[string]bool{
	"TableName": true, "PointInTimeRecoverySpecification": true, "SSESpecification": true,
	"DeletionProtectionEnabled": true, "Tags": true, "ContributorInsightsSpecification": true,
	"TableClass": true, "TimeToLiveSpecification": true,
}

// tableProps are the table properties that change what a local table does,
// with the names CloudFormation and the DynamoDB API share.
type tableProps struct {
	AttributeDefinitions   []dbtypes.AttributeDefinition
	KeySchema              []dbtypes.KeySchemaElement
	BillingMode            dbtypes.BillingMode
	GlobalSecondaryIndexes []struct {
		IndexName  string
		KeySchema  []dbtypes.KeySchemaElement
		Projection dbtypes.Projection // ProjectionType ALL, KEYS_ONLY or INCLUDE with NonKeyAttributes
	}
	// StreamSpecification turns on the table's stream (the state-change
	// forwarder reads it; the local poller, package streampoll, too).
	StreamSpecification *struct {
		StreamViewType dbtypes.StreamViewType
	}
}

func tableInput(name string, props map[string]any) (*dynamodb.CreateTableInput, error) {
	var p tableProps
	if err := decodeStrict(unconditionalIndexes(props), skippedTableProps, &p); err != nil {
		return nil, err
	}
	if len(p.KeySchema) == 0 {
		return nil, errors.New("no KeySchema")
	}
	if p.BillingMode != dbtypes.BillingModePayPerRequest {
		return nil, fmt.Errorf("BillingMode is %q: only on-demand (PAY_PER_REQUEST) tables are created locally", p.BillingMode)
	}
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(name), BillingMode: p.BillingMode,
		AttributeDefinitions: p.AttributeDefinitions, KeySchema: p.KeySchema,
	}
	if p.StreamSpecification != nil {
		in.StreamSpecification = &dbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: p.StreamSpecification.StreamViewType}
	}
	for _, gsi := range p.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, dbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(gsi.IndexName), KeySchema: gsi.KeySchema, Projection: &gsi.Projection,
		})
	}
	return in, nil
}

// unconditionalIndexes is props without the global secondary indexes a
// condition adds (an Fn::If entry of the list): the state table's previous
// due index, which the template keeps only during the first deploy of an
// update, never on a new stack.
func unconditionalIndexes(props map[string]any) map[string]any {
	list, ok := props["GlobalSecondaryIndexes"].([]any)
	if !ok {
		return props
	}
	kept := make([]any, 0, len(list))
	for _, gsi := range list {
		if m, ok := gsi.(map[string]any); ok && m["Fn::If"] != nil {
			continue
		}
		kept = append(kept, gsi)
	}
	out := maps.Clone(props)
	out["GlobalSecondaryIndexes"] = kept
	return out
}

// Topic properties with no effect in an emulator.
var skippedTopicProps = map[string]bool{
	"TopicName": true, "DisplayName": true, "KmsMasterKeyId": true, "Tags": true,
}

func topicInput(name string, props map[string]any) (*sns.CreateTopicInput, error) {
	var none struct{}
	if err := decodeStrict(props, skippedTopicProps, &none); err != nil {
		return nil, err
	}
	return &sns.CreateTopicInput{Name: aws.String(name)}, nil
}

// decodeStrict decodes the properties that skipped does not name into v,
// whose fields are the properties localinfra knows. Intrinsic functions are
// not evaluated: a property that is one fails to decode.
func decodeStrict(props map[string]any, skipped map[string]bool, v any) error {
	kept := map[string]any{}
	for k, x := range props {
		if !skipped[k] {
			kept[k] = x
		}
	}
	data, err := json.Marshal(kept)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: internal/localinfra reads literal values only, and only the properties it knows; teach it the rest", err)
	}
	return nil
}
