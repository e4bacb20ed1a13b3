package webhook

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

// Kind classifies what went wrong; it alone decides the HTTP status.
type Kind int

// The kinds of failure. Every kind below Unavailable is the caller's: a retry
// of the same request fails the same way, so those are answered 4xx.
const (
	Internal Kind = iota
	Invalid
	Unauthorized
	Forbidden
	MethodNotAllowed
	TooLarge
	// NotFound: what was asked for does not exist (the local server's lookups).
	NotFound
	// Unavailable: a dependency failed; the same request may succeed later.
	Unavailable
)

// Error is a failure with a message the caller may read. POPBiLL shows the
// message to its customer, so it is plain words and never holds a secret or
// the text of Err.
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

func fail(k Kind, msg string, err error) *Error { return &Error{Kind: k, Message: msg, Err: err} }

// Status maps an error to the HTTP status and body of the response. It is the
// only place where error kinds become statuses.
func Status(err error) (int, string) {
	var e *Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError, "internal error: the event was not stored; POPBiLL may retry it"
	}
	switch e.Kind {
	case Invalid:
		return http.StatusBadRequest, e.Message
	case Unauthorized:
		return http.StatusUnauthorized, e.Message
	case Forbidden:
		return http.StatusForbidden, e.Message
	case MethodNotAllowed:
		return http.StatusMethodNotAllowed, e.Message
	case TooLarge:
		return http.StatusRequestEntityTooLarge, e.Message
	case NotFound:
		return http.StatusNotFound, e.Message
	case Unavailable:
		return http.StatusServiceUnavailable, e.Message
	default:
		return http.StatusInternalServerError, e.Message
	}
}

// permanent reports whether err is an AWS service's refusal of the request
// itself (a 4xx answer such as SNS's InvalidParameter, AuthorizationError or
// NotFound) that a retry of the same request meets again. Throttling, a
// 429, a 5xx, a timeout, and any error that is not a service's answer are
// passing: they are answered 503 and retried. When in doubt it says
// "passing", because a wrong "passing" costs a retry and a wrong "permanent"
// costs the retry that would have delivered.
func permanent(err error) bool {
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

// cause names what failed underneath err for the log, without its text: an
// AWS error code and operation, a timeout, or the error kind.
func cause(err error) string {
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
