// Command webhook is the Lambda function behind the API Gateway HTTP API routes
// POST /pbconnect and POST /pbconnect/{token}. It is wiring only: configuration
// and clients are built once per cold start and handed to webhook.New.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/business"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/dynamobusiness"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/lambdatune"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/ssmparam"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
	"github.com/popbill-cashbill-webhook/receiver/internal/xray"
)

func main() {
	lambdatune.Apply(os.Getenv)
	ctx := context.Background()
	log := lambdacontext.NewLogger()
	fatal := func(msg string, err error) {
		// Fail closed: without its configuration the function answers nothing.
		log.Error(msg, "error", err.Error())
		os.Exit(1)
	}
	pub, err := config.ReadPublishing(os.Getenv)
	if err != nil {
		fatal("configuration", err)
	}
	awsCfg, err := xray.LoadAWSConfig(ctx, pub.Observability.Tracing, pub.Observability.Daemon)
	if err != nil {
		fatal("aws configuration", err)
	}
	rules, warning, err := config.ReadRules(ctx, os.Getenv, ssmparam.New(awsCfg, os.Getenv))
	if err != nil {
		fatal("configuration", err)
	}
	if warning != "" {
		log.Warn(warning)
	}
	db := dynamodb.NewFromConfig(awsCfg)
	store := dynamostore.New(db, pub.Table)
	out := outbox.New(store, snsalert.New(sns.NewFromConfig(awsCfg), pub.Topic), store, pub.Outbox)
	opts := []webhook.Option{
		// The request line is the delivery archive, in the function's log group.
		webhook.WithRequestLineArchive(),
		webhook.WithMetrics(pub.Observability.Namespace),
	}
	if table := config.ReadBusinessTokenTable(os.Getenv); table != "" {
		opts = append(opts, webhook.WithBusinessTokens(business.NewResolver(dynamobusiness.NewLookup(db, table), nil)))
	}
	h := webhook.New(rules, store, out, log, opts...)
	lambda.Start(h.Handle)
}
