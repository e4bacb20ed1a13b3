// Package mototest connects tests to the moto_server that `make test` starts,
// and makes uniquely named resources on it so that packages run in parallel.
package mototest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// EnvVar names the moto_server endpoint that infra/with-moto.sh exports.
const EnvVar = "MOTO_ENDPOINT"

// Endpoint returns the moto_server address, or fails the test with the way to
// get one: integration tests never skip.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	ep := os.Getenv(EnvVar)
	if ep == "" {
		tb.Fatalf("%s is not set: this test needs moto_server. Run it through `make test`, "+
			"which starts one (install it with `pip install 'moto[server]'` if missing), "+
			"or start `moto_server -p 5000` yourself and export %s=http://127.0.0.1:5000", EnvVar, EnvVar)
	}
	return ep
}

// Config is an SDK configuration that talks to moto_server. It sets the
// endpoint in code rather than in the environment so that tests may run in
// parallel; the binaries themselves take it from AWS_ENDPOINT_URL.
func Config(tb testing.TB) aws.Config {
	tb.Helper()
	ep := Endpoint(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(Region),
		config.WithBaseEndpoint(ep),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
	)
	if err != nil {
		tb.Fatalf("load AWS config for moto: %v", err)
	}
	return cfg
}

// Region is the region the tests use: POPBiLL's home, Seoul.
const Region = "ap-northeast-2"

var seq atomic.Int64

// Name returns a resource name unique to this test run.
func Name(tb testing.TB, prefix string) string {
	tb.Helper()
	n := strings.NewReplacer("/", "-", "_", "-", " ", "-").Replace(tb.Name())
	if len(n) > 40 {
		n = n[:40]
	}
	return fmt.Sprintf("%s-%s-%d-%d", prefix, n, time.Now().UnixNano()%1_000_000_000, seq.Add(1))
}

// Table creates an on-demand table keyed by the string attribute key, as
// template.yaml declares it, and returns a client and the table's name.
func Table(tb testing.TB, key string) (*dynamodb.Client, string) {
	tb.Helper()
	client := dynamodb.NewFromConfig(Config(tb))
	name := Name(tb, "state")
	_, err := client.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(key), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: types.ScalarAttributeTypeS}},
	})
	// moto closes its connection after every answer; when an answer is lost
	// that way the SDK retries, and the retry finds the table its first try
	// made. The name is this test's alone, so the table is this call's.
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		tb.Fatalf("create table %s on moto: %v", name, err)
	}
	return client, name
}

// Subscriber is an SQS queue subscribed to an SNS topic on moto_server: what
// a real subscriber would receive, read back for assertions.
type Subscriber struct {
	SNS      *sns.Client
	TopicARN string
	sqs      *sqs.Client
	queueURL string
}

// Topic creates a topic with an SQS queue subscribed to it.
func Topic(tb testing.TB) *Subscriber {
	tb.Helper()
	topic, err := sns.NewFromConfig(Config(tb)).CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(Name(tb, "alerts"))})
	if err != nil {
		tb.Fatalf("create topic on moto: %v", err)
	}
	return SubscribeTo(tb, aws.ToString(topic.TopicArn))
}

// SubscribeTo subscribes a new SQS queue to an existing topic, such as the
// one make local-infra creates.
func SubscribeTo(tb testing.TB, topicARN string) *Subscriber {
	tb.Helper()
	cfg := Config(tb)
	ctx := context.Background()
	s := &Subscriber{SNS: sns.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg), TopicARN: topicARN}
	q, err := s.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(Name(tb, "subscriber"))})
	if err != nil {
		tb.Fatalf("create queue on moto: %v", err)
	}
	s.queueURL = aws.ToString(q.QueueUrl)
	attrs, err := s.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		tb.Fatalf("queue attributes on moto: %v", err)
	}
	if _, err := s.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(topicARN), Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
	}); err != nil {
		tb.Fatalf("subscribe queue on moto: %v", err)
	}
	return s
}

// Envelope is the SNS notification as an SQS subscriber receives it.
type Envelope struct {
	Type              string
	MessageId         string
	TopicArn          string
	Subject           string
	Message           string
	Timestamp         string
	MessageAttributes map[string]struct{ Type, Value string }
}

// Drain returns every notification delivered so far and deletes them.
func (s *Subscriber) Drain(tb testing.TB) []Envelope {
	tb.Helper()
	ctx := context.Background()
	var out []Envelope
	for {
		res, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(s.queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 0,
		})
		if err != nil {
			tb.Fatalf("receive from moto queue: %v", err)
		}
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			var env Envelope
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				tb.Fatalf("queue message is not an SNS envelope: %v: %s", err, aws.ToString(m.Body))
			}
			out = append(out, env)
			if _, err := s.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				tb.Fatalf("delete from moto queue: %v", err)
			}
		}
	}
}

// LocalInfraEnv is the environment for running infra/local-infra.sh (make
// local-infra) in a test: a moto_server of the test's own on port, its files
// in dir, plus extra, and this process's environment less what would point
// the script elsewhere: make test's moto (AWS_ENDPOINT_URL, EnvVar) and the
// caller's own local infrastructure (LOCAL_MOTO_PORT, LOCAL_INFRA_DIR,
// LOCAL_MOTO_HOST).
func LocalInfraEnv(port, dir string, extra ...string) []string {
	env := append([]string{"LOCAL_MOTO_PORT=" + port, "LOCAL_INFRA_DIR=" + dir}, extra...)
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "AWS_ENDPOINT_URL", EnvVar, "LOCAL_MOTO_HOST", "LOCAL_MOTO_PORT", "LOCAL_INFRA_DIR":
		default:
			env = append(env, kv)
		}
	}
	return env
}
