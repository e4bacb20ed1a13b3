// Command perfhello is the runtime's floor for make bench, not a function
// that deploys: an aws-lambda-go bootstrap that answers 200 with no I/O,
// built with the same flags as the webhook, against which the webhook's CPU
// per delivery and cold start are compared (docs/performance.md).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: `{"result":"OK"}`}, nil
	})
}
