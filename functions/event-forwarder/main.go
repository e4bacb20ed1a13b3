// Command event-forwarder is the Lambda function that reads the state table's
// DynamoDB stream and puts one "Cashbill State Changed" event on the
// EventBridge bus per accepted state increase (docs/events.md). It is wiring
// only: the bus name and the client are read and built once per cold start
// and handed to forwarder.New.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange/forwarder"
)

func main() {
	ctx := context.Background()
	log := lambdacontext.NewLogger()
	fatal := func(msg string, err error) {
		log.Error(msg, "error", err.Error())
		os.Exit(1)
	}
	bus, err := config.Required(os.Getenv, config.EventBusName)
	if err != nil {
		fatal("configuration", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fatal("aws configuration", err)
	}
	lambda.Start(forwarder.New(eventbridge.NewFromConfig(awsCfg), bus, log).Handle)
}
