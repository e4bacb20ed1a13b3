package webhook_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// snsMessageLimit is SNS's limit on a message with its attributes, in bytes.
const snsMessageLimit = 256 * 1024

// snsWithLimits is SNS's Publish as far as its documented input limits go:
// it refuses, with SNS's own InvalidParameter error, a message over 256 KiB
// (attributes included) and a Subject over 100 characters, outside
// printable ASCII or starting with a space. moto_server does not check all of them.
type snsWithLimits struct {
	mu        sync.Mutex
	published []*sns.PublishInput
}

func (s *snsWithLimits) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	size := len(aws.ToString(in.Message))
	for name, v := range in.MessageAttributes {
		size += len(name) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue))
	}
	subject := aws.ToString(in.Subject)
	badSubject := len(subject) > 100 || strings.HasPrefix(subject, " ") ||
		strings.IndexFunc(subject, func(r rune) bool { return r < ' ' || r > '~' }) >= 0
	if size > snsMessageLimit || badSubject {
		return nil, snsError(http.StatusBadRequest, "InvalidParameter")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = append(s.published, in)
	return &sns.PublishOutput{MessageId: aws.String("sns-msg-1")}, nil
}

// snsError is an SNS error as the SDK returns it: the operation, the HTTP
// response and the service's error code.
func snsError(status int, code string) error {
	return &smithy.OperationError{ServiceID: "SNS", OperationName: "Publish", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: "details " + credential},
		},
	}}
}

// withPublisher puts pub in place of the console publisher.
func withPublisher(pub alert.Publisher) func(state.Store, alert.Publisher) (state.Store, alert.Publisher) {
	return func(s state.Store, _ alert.Publisher) (state.Store, alert.Publisher) { return s, pub }
}

func TestEveryAcceptedNTSFailureRendersAPublishableAlert(t *testing.T) {
	long := func(s string, n int) string { return strings.Repeat(s, n/len(s)) }
	cases := []struct {
		name   string
		fields map[string]any
		mid    string
	}{
		{"a 45,000-character mgtKey", map[string]any{"mgtKey": long("K", 45000)}, ""},
		{"characters JSON escapes, in every free-text field", map[string]any{
			"mgtKey": long("<&>", 2900), "confirmNum": long("<&>", 2900), "ntsresultCode": long("<&>", 2900),
			"eventType": long("<&>", 1200),
		}, ""},
		{"a long Hangul mgtKey", map[string]any{"mgtKey": long("영수증", 20000)}, ""},
		{"a 9,000-character MID", nil, long("M", 9000)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := &snsWithLimits{}
			l := newLocal(t, withPublisher(snsalert.New(api, "arn:aws:sns:ap-northeast-2:123456789012:alerts")))
			headers := map[string]string{"pb-webhook-eventtype": ""}
			if tc.mid != "" {
				headers["pb-webhook-mid"] = tc.mid
			}
			resp, _ := l.h.Handle(context.Background(), sample(t, "05-nts-305-failure.json", tc.fields, headers))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d %q, want 200 with the alert published", resp.StatusCode, resp.Body)
			}
			if len(api.published) != 1 {
				t.Fatalf("%d alerts published, want 1", len(api.published))
			}
			if msg := aws.ToString(api.published[0].Message); !strings.Contains(msg, "…") {
				t.Errorf("the published alert has no clipping marker …: %.200s", msg)
			}
		})
	}
}

func TestAlertFieldsAreOneLineOfPrintableText(t *testing.T) {
	const injected = "URGENT: pay the NTS penalty today to account 110-123-456789"
	cases := []struct {
		name   string
		fields map[string]any
	}{
		{"blank lines in mgtKey", map[string]any{"mgtKey": "A1\n\n" + injected}},
		{"a carriage return in confirmNum", map[string]any{"confirmNum": "TB1\r\n\r\n" + injected}},
		{"Unicode line and paragraph separators in ntsresultCode", map[string]any{"ntsresultCode": "TS4\u2028\u2029" + injected}},
		{"a tab, a NUL, DEL and an escape sequence in mgtKey", map[string]any{"mgtKey": "A\t\x00\x7f\x1b[2J" + injected}},
		{"a right-to-left override in mgtKey", map[string]any{"mgtKey": "A\u202e" + injected}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLocal(t, nil)
			resp, _ := l.h.Handle(context.Background(), sample(t, "05-nts-305-failure.json", tc.fields, map[string]string{"pb-webhook-eventtype": ""}))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d %q, want 200", resp.StatusCode, resp.Body)
			}
			email := l.alerts.String()
			if !strings.Contains(email, injected) {
				t.Fatalf("the alert lost the field's text: %s", email)
			}
			for _, line := range strings.Split(email, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "URGENT") {
					t.Errorf("the injected text is a line of its own in the email:\n%s", email)
				}
			}
			if i := strings.IndexFunc(email, func(r rune) bool {
				return r != '\n' && (unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf))
			}); i >= 0 {
				t.Errorf("the email holds control character %U: %q", []rune(email[i:])[0], email)
			}
		})
	}
}

func TestAPermanentSNSErrorIsNotAnswered503(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		alert  string
	}{
		{"InvalidParameter (400) is the receiver's fault: 500", snsError(400, "InvalidParameter"), 500, "publish-refused"},
		{"InvalidParameterValue (400): 500", snsError(400, "InvalidParameterValue"), 500, "publish-refused"},
		{"AuthorizationError (403): 500", snsError(403, "AuthorizationError"), 500, "publish-refused"},
		{"NotFound, a deleted topic (404): 500", snsError(404, "NotFound"), 500, "publish-refused"},
		{"Throttling (400) is passing: 503", snsError(400, "Throttling"), 503, "publish-failed"},
		{"KMSThrottling (400) is passing: 503", snsError(400, "KMSThrottling"), 503, "publish-failed"},
		{"a 429 is passing: 503", snsError(429, "TooManyRequests"), 503, "publish-failed"},
		{"InternalError (500): 503", snsError(500, "InternalError"), 503, "publish-failed"},
		{"an error that is not SNS's answer: 503", context.DeadlineExceeded, 503, "publish-failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLocal(t, withPublisher(failingPublisher{tc.err}))
			req := sample(t, "05-nts-305-failure.json", nil, nil)
			resp, _ := l.h.Handle(context.Background(), req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if strings.Contains(resp.Body, credential) || strings.Contains(l.logs.String(), credential) {
				t.Errorf("the error's text leaked: %q / %s", resp.Body, l.logs.String())
			}
			line := l.lastLog(t)
			if line["alert"] != tc.alert || line["level"] != "ERROR" {
				t.Errorf("log alert=%v level=%v, want alert=%s at ERROR", line["alert"], line["level"], tc.alert)
			}
			it, _, err := l.store.Get(context.Background(), "025112715223900001")
			if err != nil || it.AlertStatus != state.AlertPending {
				t.Errorf("alert status %q (%v), want it kept pending", it.AlertStatus, err)
			}
			// The lease is given back: the next delivery may publish at once.
			if c, _ := l.store.ClaimAlert(context.Background(), "025112715223900001", "next", time.Now(), 0); c.Status != state.Claimed {
				t.Error("the failed delivery kept its lease on the alert")
			}
		})
	}
}

type failingPublisher struct{ err error }

func (p failingPublisher) Publish(context.Context, alert.Failure) (string, error) { return "", p.err }
