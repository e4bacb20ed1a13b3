// Command sweeper is the scheduled Lambda function (every 5 minutes) that
// publishes alerts left pending and raises "NTS result overdue" alerts. It is
// wiring only: configuration and clients are built once per cold start and
// handed to sweeper.New.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/functions/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/sweeper"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/webhook"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/xray"
)

func main() {
	ctx := context.Background()
	log := lambdacontext.NewLogger()
	fatal := func(msg string, err error) {
		log.Error(msg, "error", err.Error())
		os.Exit(1)
	}
	table, topic, err := config.ReadStore(os.Getenv)
	if err != nil {
		fatal("configuration", err)
	}
	settings, err := config.ReadSweep(os.Getenv)
	if err != nil {
		fatal("configuration", err)
	}
	pres, err := config.ReadPresentation(os.Getenv)
	if err != nil {
		fatal("configuration", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fatal("aws configuration", err)
	}
	obs, err := config.ReadObservability(os.Getenv)
	if err != nil {
		fatal("configuration", err)
	}
	if obs.Tracing {
		xray.Instrument(&awsCfg, obs.Daemon)
	}
	db := dynamodb.NewFromConfig(awsCfg)
	queues := dynamostore.NewQueues(db, db, table)
	storm, err := config.ReadStorm(os.Getenv)
	if err != nil {
		fatal("configuration", err)
	}
	s := sweeper.New(queues, queues, snsalert.New(sns.NewFromConfig(awsCfg), topic).WithPresentation(pres), sweeper.Settings(settings), log).
		WithStorms(queues, webhook.StormPolicy(storm))
	// The schedule's event says nothing the sweep needs: it runs as of now.
	lambda.Start(func(ctx context.Context) (sweeper.Report, error) {
		return s.Run(ctx, time.Now())
	})
}
