package faultproxy_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/faultproxy"
)

// upstream stands in for moto_server: it answers every DynamoDB call with an
// empty JSON object and every query call with a Publish result, and counts.
type upstream struct {
	*httptest.Server
	hits atomic.Int64
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		if r.Header.Get("X-Amz-Target") != "" {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			io.WriteString(w, `{}`)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`)
	}))
	t.Cleanup(u.Close)
	return u
}

func start(t *testing.T, up *upstream, seed uint64, rules ...faultproxy.Rule) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(up.URL, seed, rules...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// clients are the SDK's, pointed at the proxy, with retries off so that
// each call is one request.
func clients(p *faultproxy.Proxy) (*dynamodb.Client, *sns.Client) {
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	db := dynamodb.New(dynamodb.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(p.URL()), Credentials: creds, RetryMaxAttempts: 1})
	sn := sns.New(sns.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(p.URL()), Credentials: creds, RetryMaxAttempts: 1})
	return db, sn
}

var key = map[string]types.AttributeValue{"itemKey": &types.AttributeValueMemberS{Value: "022122116191200001"}}

func updateItem(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("t"), Key: key})
	return err
}

func getItem(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key})
	return err
}

func publish(ctx context.Context, sn *sns.Client) error {
	_, err := sn.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:ap-northeast-2:123456789012:t"), Message: aws.String("m")})
	return err
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func TestInjectedErrorsAreWhatTheSDKReadsAsTheServiceError(t *testing.T) {
	cases := []struct {
		name     string
		rule     faultproxy.Rule
		call     func(context.Context, *dynamodb.Client, *sns.Client) error
		wantCode string
	}{
		{"DynamoDB throttling", faultproxy.Rule{Service: "dynamodb", Action: faultproxy.Throttle},
			func(ctx context.Context, db *dynamodb.Client, _ *sns.Client) error { return updateItem(ctx, db) }, "ThrottlingException"},
		{"DynamoDB provisioned throughput exceeded", faultproxy.Rule{Service: "dynamodb", Action: faultproxy.Throttle, Code: "ProvisionedThroughputExceededException"},
			func(ctx context.Context, db *dynamodb.Client, _ *sns.Client) error { return updateItem(ctx, db) }, "ProvisionedThroughputExceededException"},
		{"DynamoDB 500", faultproxy.Rule{Service: "dynamodb", Action: faultproxy.ServerError},
			func(ctx context.Context, db *dynamodb.Client, _ *sns.Client) error { return updateItem(ctx, db) }, "InternalServerError"},
		{"SNS throttling", faultproxy.Rule{Service: "sns", Operation: "Publish", Action: faultproxy.Throttle},
			func(ctx context.Context, _ *dynamodb.Client, sn *sns.Client) error { return publish(ctx, sn) }, "Throttling"},
		{"SNS 500", faultproxy.Rule{Service: "sns", Action: faultproxy.ServerError},
			func(ctx context.Context, _ *dynamodb.Client, sn *sns.Client) error { return publish(ctx, sn) }, "InternalError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t)
			p := start(t, up, 1, tc.rule)
			db, sn := clients(p)
			err := tc.call(context.Background(), db, sn)
			if got := errorCode(err); got != tc.wantCode {
				t.Fatalf("the SDK read %q (%v), want error code %s", got, err, tc.wantCode)
			}
			if n := up.hits.Load(); n != 0 {
				t.Errorf("the upstream got %d requests, want none: an injected error is answered by the proxy", n)
			}
			if inj := p.Injected(); len(inj) != 1 || inj[0].Action != tc.rule.Action {
				t.Errorf("Injected() = %v, want one %v", inj, tc.rule.Action)
			}
		})
	}
}

func TestRulesSelectByServiceAndOperation(t *testing.T) {
	up := newUpstream(t)
	p := start(t, up, 1, faultproxy.Rule{Service: "dynamodb", Operation: "UpdateItem", Action: faultproxy.Throttle})
	db, sn := clients(p)
	ctx := context.Background()
	if err := getItem(ctx, db); err != nil {
		t.Errorf("GetItem, not selected, failed: %v", err)
	}
	if err := publish(ctx, sn); err != nil {
		t.Errorf("SNS Publish, not selected, failed: %v", err)
	}
	if err := updateItem(ctx, db); errorCode(err) != "ThrottlingException" {
		t.Errorf("UpdateItem, selected, got %v, want ThrottlingException", err)
	}
	if n := up.hits.Load(); n != 2 {
		t.Errorf("the upstream got %d requests, want the 2 passed through", n)
	}
}

func TestMatchSelectsByBody(t *testing.T) {
	up := newUpstream(t)
	p := start(t, up, 1, faultproxy.Rule{Service: "sns", Match: func(b []byte) bool { return strings.Contains(string(b), "poison") }, Action: faultproxy.ServerError})
	_, sn := clients(p)
	if err := publish(context.Background(), sn); err != nil {
		t.Errorf("a body without the marker failed: %v", err)
	}
	_, err := sn.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:ap-northeast-2:1:t"), Message: aws.String("poison")})
	if errorCode(err) != "InternalError" {
		t.Errorf("a body with the marker got %v, want InternalError", err)
	}
}

func TestCountLimitsHowOftenARuleFires(t *testing.T) {
	up := newUpstream(t)
	p := start(t, up, 1, faultproxy.Rule{Service: "dynamodb", Action: faultproxy.ServerError, Count: 2})
	db, _ := clients(p)
	var got []bool
	for range 4 {
		got = append(got, updateItem(context.Background(), db) != nil)
	}
	if want := []bool{true, true, false, false}; !equal(got, want) {
		t.Errorf("failures %v, want %v", got, want)
	}
}

func TestProbabilityIsReplayedBySeed(t *testing.T) {
	run := func(seed uint64) []bool {
		up := newUpstream(t)
		p := start(t, up, seed, faultproxy.Rule{Service: "dynamodb", Action: faultproxy.ServerError, Probability: 0.5})
		db, _ := clients(p)
		var out []bool
		for range 60 {
			out = append(out, updateItem(context.Background(), db) != nil)
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	if !equal(a, b) {
		t.Error("the same seed injected different faults")
	}
	if equal(a, c) {
		t.Error("different seeds injected the same 60 faults")
	}
	n := 0
	for _, f := range a {
		if f {
			n++
		}
	}
	if n < 15 || n > 45 {
		t.Errorf("%d of 60 failed with probability 0.5", n)
	}
}

func TestDropAfterCommitForwardsAndLosesTheAnswer(t *testing.T) {
	up := newUpstream(t)
	p := start(t, up, 1, faultproxy.Rule{Service: "dynamodb", Operation: "UpdateItem", Action: faultproxy.DropAfterCommit, Count: 1})
	db, _ := clients(p)
	err := updateItem(context.Background(), db)
	if err == nil || errorCode(err) != "" {
		t.Fatalf("UpdateItem = %v, want a transport error (no answer)", err)
	}
	if n := up.hits.Load(); n != 1 {
		t.Errorf("the upstream got %d requests, want 1: the change was committed", n)
	}
	if err := updateItem(context.Background(), db); err != nil {
		t.Errorf("the next UpdateItem (rule spent) failed: %v", err)
	}
}

func TestHoldKeepsTheAnswerPastTheCallersDeadline(t *testing.T) {
	up := newUpstream(t)
	p := start(t, up, 1, faultproxy.Rule{Service: "sns", Action: faultproxy.Hold, Hold: 5 * time.Second})
	_, sn := clients(p)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err := publish(ctx, sn)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish = %v, want the caller's deadline exceeded", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Publish took %v: the caller's deadline did not end it", d)
	}
	if n := up.hits.Load(); n != 1 {
		t.Errorf("the upstream got %d requests, want 1: the publish happened", n)
	}
}

func TestPassThroughKeepsPathQueryAndBody(t *testing.T) {
	var got string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = r.Method + " " + r.URL.RequestURI() + " " + r.Header.Get("X-Custom") + " " + string(b)
		w.Header().Set("X-Answer", "yes")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "answer")
	}))
	defer up.Close()
	p, err := faultproxy.New(up.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	req, _ := http.NewRequest(http.MethodPut, p.URL()+"/a/b?c=d", strings.NewReader("body"))
	req.Header.Set("X-Custom", "h")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if got != "PUT /a/b?c=d h body" || resp.StatusCode != http.StatusTeapot || string(b) != "answer" || resp.Header.Get("X-Answer") != "yes" {
		t.Errorf("upstream saw %q; caller got %d %q %v", got, resp.StatusCode, b, resp.Header)
	}
}

func equal(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
