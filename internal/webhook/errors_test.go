package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

// leak is raw error text that must never reach a caller or a cause.
const leak = "arn:aws:dynamodb:ap-northeast-2:123456789012:table/secret password=hunter2"

func TestStatusMapsEachKind(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"Invalid is 400", fail(Invalid, "the body is not JSON", nil), http.StatusBadRequest},
		{"Unauthorized is 401", fail(Unauthorized, "authentication required", nil), http.StatusUnauthorized},
		{"Forbidden is 403", fail(Forbidden, "not from POPBiLL", nil), http.StatusForbidden},
		{"MethodNotAllowed is 405", fail(MethodNotAllowed, "use POST", nil), http.StatusMethodNotAllowed},
		{"TooLarge is 413", fail(TooLarge, "too large", nil), http.StatusRequestEntityTooLarge},
		{"NotFound is 404", fail(NotFound, "no such cashbill", nil), http.StatusNotFound},
		{"Unavailable is 503 so that POPBiLL retries", fail(Unavailable, "please retry", errors.New(leak)), http.StatusServiceUnavailable},
		{"Internal is 500", fail(Internal, "internal error", errors.New(leak)), http.StatusInternalServerError},
		{"an unknown kind is 500", fail(Kind(99), "something new", nil), http.StatusInternalServerError},
		{"a wrapped *Error keeps its kind", fmt.Errorf("handling: %w", fail(Forbidden, "not from POPBiLL", nil)), http.StatusForbidden},
		{"an *Error wrapped twice keeps its kind", fmt.Errorf("a: %w", fmt.Errorf("b: %w", fail(TooLarge, "too large", nil))), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e *Error
			if !errors.As(tc.err, &e) {
				t.Fatal("case error holds no *Error")
			}
			status, body := Status(tc.err)
			if status != tc.want || body != e.Message {
				t.Errorf("Status = %d %q, want %d %q", status, body, tc.want, e.Message)
			}
			if strings.Contains(body, "hunter2") {
				t.Errorf("body %q leaks the wrapped error", body)
			}
		})
	}
}

func TestStatusOfAPlainErrorIs500WithAGenericBody(t *testing.T) {
	for _, err := range []error{errors.New(leak), fmt.Errorf("apply: %w", errors.New(leak)), context.DeadlineExceeded} {
		status, body := Status(err)
		if status != http.StatusInternalServerError {
			t.Errorf("Status(%v) = %d, want 500", err, status)
		}
		if body == "" || strings.Contains(body, "hunter2") || strings.Contains(body, err.Error()) {
			t.Errorf("Status(%v) body %q: want a generic message without the error's text", err, body)
		}
	}
}

func TestCauseNamesWhatFailedWithoutItsText(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: leak, Fault: smithy.FaultServer}
	operation := func(err error) error {
		return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "UpdateItem", Err: err}
	}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"an AWS operation error gives service, operation and code", operation(throttled), "DynamoDB UpdateItem: ProvisionedThroughputExceededException"},
		{"the same inside an *Error", fail(Unavailable, "please retry", operation(throttled)), "DynamoDB UpdateItem: ProvisionedThroughputExceededException"},
		{"the same wrapped with %w", fmt.Errorf("apply: %w", operation(throttled)), "DynamoDB UpdateItem: ProvisionedThroughputExceededException"},
		{"an API error outside an operation gives its code", throttled, "ProvisionedThroughputExceededException"},
		{"an operation that failed without an API error", operation(errors.New(leak)), "DynamoDB UpdateItem: request failed"},
		{"a deadline is a timeout", context.DeadlineExceeded, "timeout"},
		{"a wrapped deadline is a timeout", fmt.Errorf("publish: %w", context.DeadlineExceeded), "timeout"},
		{"an operation cut short by its deadline is a timeout", operation(context.DeadlineExceeded), "timeout"},
		{"a cancelled context", fail(Unavailable, "please retry", context.Canceled), "cancelled"},
		{"an unclassified error", errors.New(leak), "unclassified error"},
		{"an *Error with no cause", fail(Internal, "internal error", nil), "unclassified error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := cause(tc.err)
			if got != tc.want {
				t.Errorf("cause = %q, want %q", got, tc.want)
			}
			if strings.Contains(got, "hunter2") {
				t.Errorf("cause %q leaks the error's text", got)
			}
		})
	}
}
