// Package awserr sorts the errors of AWS calls for the code that must act on
// them: is a retry of the same request any use (Permanent), and what failed,
// named without the error's text, for a log line or a one-line message
// (Cause). The webhook, the outbox, the sweeper and the operator tool all
// sort errors this one way.
package awserr

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Permanent reports whether err is an AWS service's refusal of the request
// itself (a 4xx answer such as SNS's InvalidParameter, AuthorizationError or
// NotFound) that a retry of the same request meets again. Throttling, a
// 429, a 5xx, a timeout, and any error that is not a service's answer are
// passing. When in doubt it says "passing", because a wrong "passing" costs
// a retry and a wrong "permanent" costs the retry that would have delivered.
func Permanent(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	code := api.ErrorCode()
	if strings.Contains(code, "Throttl") || strings.Contains(code, "LimitExceeded") ||
		retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary ||
		retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return false
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		s := resp.HTTPStatusCode()
		return s >= 400 && s < 500 && s != http.StatusTooManyRequests && s != http.StatusRequestTimeout
	}
	return api.ErrorFault() == smithy.FaultClient
}

// Cause names what failed underneath err without its text: an AWS error
// code and operation, a timeout, or "unclassified error".
func Cause(err error) string {
	var op *smithy.OperationError
	var api smithy.APIError
	switch {
	case errors.As(err, &op) && errors.As(err, &api):
		return op.Service() + " " + op.Operation() + ": " + api.ErrorCode()
	case errors.As(err, &api):
		return api.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &op):
		return op.Service() + " " + op.Operation() + ": request failed"
	}
	return "unclassified error"
}
