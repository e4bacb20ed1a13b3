//go:build integration

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/localinfra"
	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/rietest"
)

// expectation is one entry of events/expected.json.
type expectation struct {
	Status  int    `json:"status"`
	Outcome string `json:"outcome"`
	// Alert is true when the event must publish one NTS-failure alert.
	Alert bool `json:"alert"`
}

// Files in events/ that are not HTTP API events, and what checks them.
var notHTTPEvents = map[string]string{
	"env.json":      "internal/systemtest/deploytest (against template.yaml)",
	"expected.json": "this test (it is the list of expectations)",
	"README.md":     "documentation",
	// The sweeper's schedule event.
	"sweeper-schedule.json": "internal/systemtest/deploytest (make invoke FUNCTION=SweeperFunction)",
	// The state-change forwarder's stream batch.
	"stream-state-changes.json": "internal/statechange/forwarder and internal/systemtest/deploytest (make invoke FUNCTION=EventForwarderFunction)",
}

// TestEventsThroughBootstrap sends every HTTP API event in events/, in file
// name order, to the real bootstrap under the Lambda emulator, with the
// table and topic that template.yaml defines created on moto_server, and
// checks the answer and the logged outcome written down for each in
// events/expected.json.
func TestEventsThroughBootstrap(t *testing.T) {
	root := modroot.Dir(t)
	dir := filepath.Join(root, "events")
	want := readExpectations(t, filepath.Join(dir, "expected.json"))
	files := httpEventFiles(t, dir)
	for _, f := range files {
		if _, ok := want[f]; !ok {
			t.Errorf("events/%s has no entry in events/expected.json: write down the status and outcome it must get", f)
		}
	}
	for f := range want {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("events/expected.json lists %s, which is missing", f)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	ctx := context.Background()
	cfg := mototest.Config(t)
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stack, err := localinfra.Provision(ctx, tmpl, mototest.Name(t, "events"), dynamodb.NewFromConfig(cfg), sns.NewFromConfig(cfg))
	if err != nil {
		t.Fatalf("create the template's resources on moto: %v", err)
	}
	infra, err := stack.Environment(tmpl, "WebhookFunction")
	if err != nil {
		t.Fatal(err)
	}
	alerts := subscribeQueue(t, infra[config.AlertTopicARN])

	env := []string{
		config.AuthMode + "=basic",
		config.AuthCredential + "=popbill:local-secret",
		"AWS_ENDPOINT_URL=" + mototest.Endpoint(t),
		"AWS_REGION=" + mototest.Region,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_LAMBDA_LOG_FORMAT=JSON",
	}
	for k, v := range infra {
		env = append(env, k+"="+v)
	}
	if timeout, ok := tmpl.FunctionProperty("WebhookFunction", "Timeout"); ok {
		env = append(env, fmt.Sprintf("AWS_LAMBDA_FUNCTION_TIMEOUT=%v", timeout))
	}
	em := rietest.Start(t, rietest.Build(t, "WebhookFunction"), env)

	var wantAlerts []string
	for _, f := range files {
		exp := want[f]
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			t.Fatalf("events/%s: %v", f, err)
		}
		if exp.Alert {
			wantAlerts = append(wantAlerts, itemKey(t, req))
		}
		t.Run(strings.TrimSuffix(f, ".json"), func(t *testing.T) {
			mark := em.LogMark()
			var resp events.APIGatewayV2HTTPResponse
			out := em.Invoke(t, raw)
			if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
				t.Fatalf("response is not an HTTP API response: %s", out)
			}
			if resp.StatusCode != exp.Status {
				t.Errorf("status = %d, want %d (body %q)", resp.StatusCode, exp.Status, resp.Body)
			}
			if exp.Status == 200 && resp.Body != `{"result":"OK"}` {
				t.Errorf(`body = %q, want {"result":"OK"} exactly: POPBiLL counts anything else as a failure`, resp.Body)
			}
			if exp.Status != 200 && strings.TrimSpace(resp.Body) == "" {
				t.Error("error body is empty: POPBiLL shows it to the customer, so it must say what was wrong")
			}

			// Lambda's JSON log format calls slog's msg "message".
			line := em.WaitLog(t, mark, 5*time.Second, func(m map[string]any) bool { return m["message"] == "request" })
			if got := line["outcome"]; got != exp.Outcome {
				t.Errorf("logged outcome = %v, want %s (log line %v)", got, exp.Outcome, line)
			}
			switch exp.Outcome {
			case "stored", "duplicate", "stale":
				if got, want := line["itemKey"], itemKey(t, req); got != want {
					t.Errorf("logged itemKey = %v, want %s", got, want)
				}
				if got, want := line["mid"], req.Headers["pb-webhook-mid"]; got != want {
					t.Errorf("logged mid = %v, want %s", got, want)
				}
			case "rejected", "failed":
				if r, _ := line["reason"].(string); r == "" {
					t.Errorf("a %s request must log a reason: %v", exp.Outcome, line)
				}
			}
		})
	}

	t.Run("alerts", func(t *testing.T) {
		got := drain(t, alerts)
		sort.Strings(got)
		sort.Strings(wantAlerts)
		if strings.Join(got, ",") != strings.Join(wantAlerts, ",") {
			t.Errorf("alerts published for itemKeys %v, want %v (one per event marked \"alert\" in expected.json)", got, wantAlerts)
		}
	})
}

func readExpectations(t *testing.T, path string) map[string]expectation {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]expectation
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for f, e := range want {
		if e.Status == 0 || e.Outcome == "" {
			t.Fatalf("%s: %s needs a status and an outcome", path, f)
		}
	}
	return want
}

// httpEventFiles lists the HTTP API events in dir, sorted. SNS events (for
// the Slack notifier, tested with it) are left out; any other file that is
// neither is an error, so that nothing in events/ goes untested.
func httpEventFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || notHTTPEvents[name] != "" {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var shape struct {
			RouteKey string `json:"routeKey"`
			Records  []struct {
				EventSource string `json:"EventSource"`
			} `json:"Records"`
		}
		switch {
		case json.Unmarshal(raw, &shape) != nil:
			t.Errorf("events/%s is not JSON", name)
		case shape.RouteKey != "":
			files = append(files, name)
		case len(shape.Records) > 0 && shape.Records[0].EventSource == "aws:sns":
			t.Logf("events/%s is an SNS event for the Slack notifier; not sent here", name)
		default:
			t.Errorf("events/%s is neither an HTTP API event nor an SNS event: nothing tests it", name)
		}
	}
	sort.Strings(files)
	return files
}

func itemKey(t *testing.T, req events.APIGatewayV2HTTPRequest) string {
	t.Helper()
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			t.Fatalf("base64 body: %v", err)
		}
	}
	var b struct {
		ItemKey string `json:"itemKey"`
	}
	_ = json.Unmarshal(body, &b)
	return b.ItemKey
}

// subscribeQueue subscribes a new SQS queue to topic and returns its URL.
func subscribeQueue(t *testing.T, topic string) string {
	t.Helper()
	ctx := context.Background()
	cfg := mototest.Config(t)
	q := sqs.NewFromConfig(cfg)
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(mototest.Name(t, "alerts"))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: created.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(topic), Protocol: aws.String("sqs"),
		Endpoint:   aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
		Attributes: map[string]string{"RawMessageDelivery": "true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(created.QueueUrl)
}

// drain receives every message in the queue and returns the itemKey of each.
func drain(t *testing.T, queueURL string) []string {
	t.Helper()
	ctx := context.Background()
	q := sqs.NewFromConfig(mototest.Config(t))
	var keys []string
	for {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return keys
		}
		for _, m := range out.Messages {
			var a struct {
				ItemKey   string `json:"itemKey"`
				StateCode int    `json:"stateCode"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &a); err != nil {
				t.Errorf("alert is not JSON: %s", aws.ToString(m.Body))
			}
			if a.StateCode != cashbill.StateNTSFailed {
				t.Errorf("alert for %s has stateCode %d, want %d", a.ItemKey, a.StateCode, cashbill.StateNTSFailed)
			}
			keys = append(keys, a.ItemKey)
		}
	}
}
