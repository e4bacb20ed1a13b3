// Package localinfra creates a template's DynamoDB tables and SNS topics in an
// AWS emulator (moto_server), from their definitions in template.yaml, so that
// local runs and tests get the key schema and topic kind production gets and
// cannot drift from it.
//
// Only what changes behaviour is carried over (keys, indexes, billing mode,
// FIFO); properties with no local effect (encryption, backups, deletion
// protection) are skipped. A property it does not know is an error: teach it
// here rather than let the local table silently differ.
package localinfra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/functions/internal/samtemplate"
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
	TableType = "AWS::DynamoDB::Table"
	TopicType = "AWS::SNS::Topic"
)

// Stack is what Provision created.
type Stack struct {
	// Name prefixes every physical name: "<Name>-<LogicalId>".
	Name string
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
		{TableType, func(physical string, props map[string]any) (string, error) {
			in, err := tableInput(physical, props)
			if err != nil {
				return "", err
			}
			return physical, createTable(ctx, db, in)
		}},
		{TopicType, func(physical string, props map[string]any) (string, error) {
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
	st := &Stack{Name: name, Refs: map[string]string{}}
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

func tableInput(name string, props map[string]any) (*dynamodb.CreateTableInput, error) {
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: dbtypes.BillingModeProvisioned}
	for _, k := range sortedKeys(props) {
		v := props[k]
		var err error
		switch {
		case skippedTableProps[k]:
		case k == "AttributeDefinitions":
			in.AttributeDefinitions, err = attributeDefinitions(v)
		case k == "KeySchema":
			in.KeySchema, err = keySchema(k, v)
		case k == "BillingMode":
			var s string
			s, err = literal(k, v)
			in.BillingMode = dbtypes.BillingMode(s)
		case k == "ProvisionedThroughput":
			in.ProvisionedThroughput, err = throughput(k, v)
		case k == "GlobalSecondaryIndexes":
			in.GlobalSecondaryIndexes, err = indexes(k, v)
		default:
			err = fmt.Errorf("property %s is not supported locally; teach functions/internal/localinfra about it", k)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(in.KeySchema) == 0 {
		return nil, errors.New("no KeySchema")
	}
	return in, nil
}

func attributeDefinitions(v any) ([]dbtypes.AttributeDefinition, error) {
	pairs, err := namesAndTypes("AttributeDefinitions", v, "AttributeType")
	var out []dbtypes.AttributeDefinition
	for _, p := range pairs {
		out = append(out, dbtypes.AttributeDefinition{AttributeName: aws.String(p[0]), AttributeType: dbtypes.ScalarAttributeType(p[1])})
	}
	return out, err
}

func keySchema(path string, v any) ([]dbtypes.KeySchemaElement, error) {
	pairs, err := namesAndTypes(path, v, "KeyType")
	var out []dbtypes.KeySchemaElement
	for _, p := range pairs {
		out = append(out, dbtypes.KeySchemaElement{AttributeName: aws.String(p[0]), KeyType: dbtypes.KeyType(p[1])})
	}
	return out, err
}

// namesAndTypes reads a list of {AttributeName: name, <typeKey>: type}.
func namesAndTypes(path string, v any, typeKey string) ([][2]string, error) {
	var out [][2]string
	err := eachMap(path, v, func(path string, m map[string]any) error {
		name, err := literal(path+".AttributeName", m["AttributeName"])
		if err != nil {
			return err
		}
		typ, err := literal(path+"."+typeKey, m[typeKey])
		out = append(out, [2]string{name, typ})
		return err
	})
	return out, err
}

func indexes(path string, v any) ([]dbtypes.GlobalSecondaryIndex, error) {
	var out []dbtypes.GlobalSecondaryIndex
	err := eachMap(path, v, func(path string, m map[string]any) error {
		var gsi dbtypes.GlobalSecondaryIndex
		name, err := literal(path+".IndexName", m["IndexName"])
		if err != nil {
			return err
		}
		gsi.IndexName = aws.String(name)
		if gsi.KeySchema, err = keySchema(path+".KeySchema", m["KeySchema"]); err != nil {
			return err
		}
		proj, _ := m["Projection"].(map[string]any)
		typ, err := literal(path+".Projection.ProjectionType", proj["ProjectionType"])
		if err != nil {
			return err
		}
		gsi.Projection = &dbtypes.Projection{ProjectionType: dbtypes.ProjectionType(typ)}
		if attrs, ok := proj["NonKeyAttributes"].([]any); ok {
			for i, a := range attrs {
				s, err := literal(fmt.Sprintf("%s.Projection.NonKeyAttributes[%d]", path, i), a)
				if err != nil {
					return err
				}
				gsi.Projection.NonKeyAttributes = append(gsi.Projection.NonKeyAttributes, s)
			}
		}
		if pt, ok := m["ProvisionedThroughput"]; ok {
			if gsi.ProvisionedThroughput, err = throughput(path+".ProvisionedThroughput", pt); err != nil {
				return err
			}
		}
		out = append(out, gsi)
		return nil
	})
	return out, err
}

func throughput(path string, v any) (*dbtypes.ProvisionedThroughput, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is not a literal mapping", path)
	}
	r, err := number(path+".ReadCapacityUnits", m["ReadCapacityUnits"])
	if err != nil {
		return nil, err
	}
	w, err := number(path+".WriteCapacityUnits", m["WriteCapacityUnits"])
	return &dbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(r), WriteCapacityUnits: aws.Int64(w)}, err
}

// Topic properties with no effect in an emulator.
var skippedTopicProps = map[string]bool{
	"TopicName": true, "DisplayName": true, "KmsMasterKeyId": true, "Tags": true,
}

func topicInput(name string, props map[string]any) (*sns.CreateTopicInput, error) {
	in := &sns.CreateTopicInput{Name: aws.String(name), Attributes: map[string]string{}}
	for _, k := range sortedKeys(props) {
		switch {
		case skippedTopicProps[k]:
		case k == "FifoTopic" || k == "ContentBasedDeduplication":
			b, ok := props[k].(bool)
			if !ok {
				return nil, fmt.Errorf("%s is not a literal true or false", k)
			}
			in.Attributes[k] = fmt.Sprint(b)
			if k == "FifoTopic" && b {
				in.Name = aws.String(name + ".fifo")
			}
		default:
			return nil, fmt.Errorf("property %s is not supported locally; teach functions/internal/localinfra about it", k)
		}
	}
	return in, nil
}

func eachMap(path string, v any, f func(path string, m map[string]any) error) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%s is not a literal list", path)
	}
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("%s[%d] is not a literal mapping", path, i)
		}
		if err := f(fmt.Sprintf("%s[%d]", path, i), m); err != nil {
			return err
		}
	}
	return nil
}

func literal(path string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is %v, not a literal string: localinfra does not evaluate intrinsic functions", path, v)
	}
	return s, nil
}

func number(path string, v any) (int64, error) {
	n, ok := v.(int)
	if !ok {
		return 0, fmt.Errorf("%s is %v, not a literal integer", path, v)
	}
	return int64(n), nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
