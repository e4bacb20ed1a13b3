// Command localinfra creates template.yaml's DynamoDB tables (with their
// global secondary indexes and streams), SNS topics, EventBridge buses and
// the webhook's log group (the delivery archive) in an AWS emulator and
// prints the webhook function's and the state-change forwarder's
// environment variables that name them, and ARCHIVE_LOG_GROUP, as
// KEY='value' lines a shell can eval:
//
//	AWS_ENDPOINT_URL=http://127.0.0.1:5000 go run ./cmd/localinfra
//	ALERT_TOPIC_ARN='arn:aws:sns:ap-northeast-2:123456789012:popbill-webhook-local-AlertTopic'
//	ARCHIVE_LOG_GROUP='popbill-webhook-local-WebhookFunctionLogs'
//	EVENT_BUS_NAME='popbill-webhook-local-EventBus'
//	STATE_TABLE='popbill-webhook-local-StateTable'
//
// It refuses to run without AWS_ENDPOINT_URL, so it never creates anything in
// a real account. infra/local-infra.sh starts moto_server and calls it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/localinfra"
	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "localinfra:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	flags := flag.NewFlagSet("localinfra", flag.ContinueOnError)
	template := flags.String("template", "template.yaml", "SAM template to read")
	stack := flags.String("stack", "popbill-webhook-local", "prefix of the resource names")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if getenv("AWS_ENDPOINT_URL") == "" {
		return errors.New("AWS_ENDPOINT_URL is not set: point it at moto_server (infra/local-infra.sh starts one)")
	}
	tmpl, err := samtemplate.Load(*template)
	if err != nil {
		return err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	if cfg.Region == "" {
		return errors.New("AWS_REGION is not set")
	}
	st, err := localinfra.Provision(ctx, tmpl, *stack, dynamodb.NewFromConfig(cfg), sns.NewFromConfig(cfg))
	if err != nil {
		return err
	}
	env, err := st.Environment(tmpl, "WebhookFunction")
	if err != nil {
		return err
	}
	if err := forwarderEnv(ctx, tmpl, st, *stack, cfg, env); err != nil {
		return err
	}
	// After the functions' environments: the group is the archive of the
	// programs that are not the Lambda (ARCHIVE_LOG_GROUP), not an alert's link.
	group, err := st.ProvisionLogGroup(ctx, tmpl, "WebhookFunction", *stack, cloudwatchlogs.NewFromConfig(cfg))
	if err != nil {
		return err
	}
	env[archiveLogGroup] = group
	return localinfra.WriteEnv(stdout, env)
}

// archiveLogGroup is the variable naming the delivery archive's log group
// (config.ArchiveLogGroup) for the local server and the cashbill tool.
const archiveLogGroup = "ARCHIVE_LOG_GROUP"

// forwarderEnv creates the template's event bus and adds the state-change
// forwarder's variables (EVENT_BUS_NAME) to env.
func forwarderEnv(ctx context.Context, tmpl *samtemplate.Template, st *localinfra.Stack, stack string, cfg aws.Config, env map[string]string) error {
	if err := st.ProvisionBuses(ctx, tmpl, stack, eventbridge.NewFromConfig(cfg)); err != nil {
		return err
	}
	fenv, err := st.Environment(tmpl, "EventForwarderFunction")
	if err != nil {
		return err
	}
	maps.Copy(env, fenv)
	return nil
}
