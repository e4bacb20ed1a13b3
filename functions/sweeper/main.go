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
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
	"github.com/popbill-cashbill-webhook/receiver/internal/xray"
)

func main() {
	ctx := context.Background()
	log := lambdacontext.NewLogger()
	fatal := func(msg string, err error) {
		log.Error(msg, "error", err.Error())
		os.Exit(1)
	}
	pub, err := config.ReadPublishing(os.Getenv)
	if err != nil {
		fatal("configuration", err)
	}
	settings, err := config.ReadSweep(os.Getenv)
	if err != nil {
		fatal("configuration", err)
	}
	awsCfg, err := xray.LoadAWSConfig(ctx, pub.Observability.Tracing, pub.Observability.Daemon)
	if err != nil {
		fatal("aws configuration", err)
	}
	db := dynamodb.NewFromConfig(awsCfg)
	queues := dynamostore.NewQueues(db, db, pub.Table)
	out := outbox.New(queues, snsalert.New(sns.NewFromConfig(awsCfg), pub.Topic), queues, pub.Outbox)
	s := sweeper.New(queues, out, settings, log).WithStorms(queues)
	// The schedule's event says nothing the sweep needs: it runs as of now.
	lambda.Start(func(ctx context.Context) (sweeper.Report, error) {
		return s.Run(ctx, time.Now())
	})
}
