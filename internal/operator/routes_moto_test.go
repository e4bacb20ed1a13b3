//go:build integration

package operator_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/operator"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

// emailPolicies are the filter policies of the topic's e-mail subscriptions, by address.
func emailPolicies(t *testing.T, client *sns.Client, topic string) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	subs, err := client.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs.Subscriptions {
		if aws.ToString(s.Protocol) != "email" {
			continue
		}
		attrs, err := client.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: s.SubscriptionArn})
		if err != nil {
			t.Fatal(err)
		}
		var p any
		if err := json.Unmarshal([]byte(attrs.Attributes["FilterPolicy"]), &p); err != nil {
			t.Fatalf("%s: filter policy %q: %v", aws.ToString(s.Endpoint), attrs.Attributes["FilterPolicy"], err)
		}
		out[aws.ToString(s.Endpoint)] = p
	}
	return out
}

func policyJSON(s string) any {
	var v any
	_ = json.Unmarshal([]byte(s), &v)
	return v
}

func TestRoutesOnAStack(t *testing.T) {
	const corpA, corpB = "6798700433", "2208162517"
	cfg := mototest.Config(t)
	snsClient := sns.NewFromConfig(cfg)
	topic, err := snsClient.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(mototest.Name(t, "alerts"))})
	if err != nil {
		t.Fatal(err)
	}
	topicARN := aws.ToString(topic.TopicArn)
	param := "/" + mototest.Name(t, "slack-routes")
	flags := []string{"--topic", topicARN, "--slack-routes-param", param}
	tool := func(args ...string) (int, string, string) {
		t.Helper()
		return run(t, append(args, flags...)...)
	}
	mustRun := func(args ...string) string {
		t.Helper()
		code, out, errOut := tool(args...)
		if code != operator.ExitOK {
			t.Fatalf("%v: exit %d %q %q", args, code, out, errOut)
		}
		return out
	}

	// E-mail: a catch-all first, then two businesses' routes; the catch-all
	// leaves out each routed business, and keeps every message without the
	// attribute (alarms).
	mustRun("routes", "add", "--corp", "*", "--email", "ops@example.com")
	if got, want := emailPolicies(t, snsClient, topicARN)["ops@example.com"], policyJSON(`{"franchiseCorpNum":[{"exists":false},{"anything-but":["-"]}]}`); !reflect.DeepEqual(got, want) {
		t.Errorf("catch-all with no routes: %v, want %v", got, want)
	}
	mustRun("routes", "add", "--corp", "679-87-00433", "--email", "a@example.com")
	mustRun("routes", "add", "--corp", corpB, "--email", "b@example.com")
	want := map[string]any{
		"a@example.com":   policyJSON(`{"franchiseCorpNum":["6798700433"]}`),
		"b@example.com":   policyJSON(`{"franchiseCorpNum":["2208162517"]}`),
		"ops@example.com": policyJSON(`{"franchiseCorpNum":[{"exists":false},{"anything-but":["2208162517","6798700433"]}]}`),
	}
	if got := emailPolicies(t, snsClient, topicARN); !reflect.DeepEqual(got, want) {
		t.Errorf("filter policies\n got %v\nwant %v", got, want)
	}
	deliveredAsFiltered(t, cfg, snsClient, topicARN, want)

	// Slack: routes in the SSM parameter, created by the first add.
	hookA := "https://hooks.slack.com/services/T0/BA/secretA"
	mustRun("routes", "add", "--corp", corpA, "--slack", hookA)
	mustRun("routes", "add", "--corp", "*", "--slack", "https://hooks.slack.com/services/T0/BD/secretD")
	got, err := ssm.NewFromConfig(cfg).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(param), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Parameter.Type != "SecureString" {
		t.Errorf("parameter type %s, want SecureString", got.Parameter.Type)
	}
	routes, err := config.ParseSlackRoutes(aws.ToString(got.Parameter.Value))
	if err != nil || routes[corpA] != hookA || len(routes) != 2 {
		t.Errorf("Slack routes %v (%v), want business A's and the default", routes, err)
	}

	// list shows both kinds, never a webhook's secret path.
	out := mustRun("routes", "list")
	for _, s := range []string{"slack", "679-87-00433", "hooks.slack.com/…", "a@example.com", "catch-all", "* (the rest)"} {
		if !strings.Contains(out, s) {
			t.Errorf("routes list lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "secretA") {
		t.Errorf("routes list shows a webhook's secret:\n%s", out)
	}

	// remove: the catch-all takes business A back.
	mustRun("routes", "remove", "--corp", corpA, "--email", "a@example.com")
	mustRun("routes", "remove", "--corp", corpA, "--slack")
	delete(want, "a@example.com")
	want["ops@example.com"] = policyJSON(`{"franchiseCorpNum":[{"exists":false},{"anything-but":["2208162517"]}]}`)
	if got := emailPolicies(t, snsClient, topicARN); !reflect.DeepEqual(got, want) {
		t.Errorf("after remove\n got %v\nwant %v", got, want)
	}
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"a route that is not there", []string{"routes", "remove", "--corp", corpA, "--email", "a@example.com"}, operator.ExitNotFound},
		{"no kind", []string{"routes", "add", "--corp", corpA}, operator.ExitUsage},
		{"both kinds", []string{"routes", "add", "--corp", corpA, "--email", "x@example.com", "--slack", hookA}, operator.ExitUsage},
		{"a bad business number", []string{"routes", "add", "--corp", "12", "--email", "x@example.com"}, operator.ExitUsage},
		{"a Slack route that is no URL", []string{"routes", "add", "--corp", corpA, "--slack", "not-a-url"}, operator.ExitUsage},
	} {
		if code, _, errOut := tool(c.args...); code != c.code {
			t.Errorf("%s: exit %d %q, want %d", c.name, code, errOut, c.code)
		}
	}
}

// deliveredAsFiltered subscribes a queue per address with the same filter
// policy and publishes business A's, B's and C's alerts and an alarm: each
// route gets its business's, the catch-all the rest.
func deliveredAsFiltered(t *testing.T, cfg aws.Config, client *sns.Client, topic string, policies map[string]any) {
	t.Helper()
	ctx := context.Background()
	q := sqs.NewFromConfig(cfg)
	queues := map[string]string{}
	for addr, p := range policies {
		created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(mototest.Name(t, strings.Split(addr, "@")[0]))})
		if err != nil {
			t.Fatal(err)
		}
		attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: created.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(p)
		if _, err := client.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"),
			Endpoint:   aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
			Attributes: map[string]string{"FilterPolicy": string(b), "RawMessageDelivery": "true"}}); err != nil {
			t.Fatal(err)
		}
		queues[addr] = aws.ToString(created.QueueUrl)
	}
	for _, m := range []struct{ body, corp string }{{"alert A", "6798700433"}, {"alert B", "2208162517"}, {"alert C", "1234567890"}, {"alarm", ""}} {
		in := &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(m.body)}
		if m.corp != "" {
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{"franchiseCorpNum": {DataType: aws.String("String"), StringValue: aws.String(m.corp)}}
		}
		if _, err := client.Publish(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{"a@example.com": {"alert A"}, "b@example.com": {"alert B"}, "ops@example.com": {"alert C", "alarm"}}
	for addr, url := range queues {
		res, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range res.Messages {
			got = append(got, aws.ToString(m.Body))
		}
		if strings.Join(got, ",") != strings.Join(want[addr], ",") {
			t.Errorf("%s's filter lets through %v, want %v", addr, got, want[addr])
		}
	}
}
