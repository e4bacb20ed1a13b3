// Command slack-notifier is the Lambda function that the NTS-failure alert
// topic invokes: it posts each alert, and each CloudWatch alarm on the same
// topic, to a Slack channel.
//
// Configuration, read once per cold start (config.ReadSlackWebhookURL,
// config.ReadSlackLedgerTable, config.ReadSlackRoutes):
//
//	SLACK_WEBHOOK_PARAM  name of the SSM SecureString holding the incoming webhook URL
//	SLACK_WEBHOOK_URL    the webhook URL itself, for local runs (exactly one of the two)
//	SLACK_LEDGER_TABLE   DynamoDB table of the alerts posted; empty: kept in memory
//	SLACK_ROUTES_PARAM   name of the SSM SecureString routing each business to its own
//	                     channel (config.ReadSlackRoutes); empty: one channel for all
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify"
	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify/ledger"
	"github.com/popbill-cashbill-webhook/receiver/internal/ssmparam"
)

func main() {
	logger := lambdacontext.NewLogger()
	n, err := setup(context.Background(), logger)
	if err != nil {
		logger.Error("slack-notifier cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(n.Handle)
}

func setup(ctx context.Context, logger *slog.Logger) (*slacknotify.Notifier, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	params := ssmparam.New(awsCfg, os.Getenv)
	webhookURL, err := config.ReadSlackWebhookURL(ctx, os.Getenv, params)
	if err != nil {
		return nil, err
	}
	routes, warning, err := config.ReadSlackRoutes(ctx, os.Getenv, params)
	if err != nil {
		return nil, err
	}
	if warning != "" {
		logger.Warn(warning)
	}
	var posted slacknotify.Ledger = slacknotify.NewMemoryLedger()
	if table := config.ReadSlackLedgerTable(os.Getenv); table != "" {
		posted = ledger.NewDynamo(dynamodb.NewFromConfig(awsCfg), table)
	}
	cfg := slacknotify.Config{WebhookURL: webhookURL, Routes: routes, Retry: slacknotify.DefaultRetry()}
	return slacknotify.NewNotifier(cfg, &http.Client{Timeout: slacknotify.RequestTimeout}, posted, logger), nil
}
