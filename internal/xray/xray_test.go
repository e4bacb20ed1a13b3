package xray_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/xray"
)

// fakeSNS answers every request with status and remembers the trace header.
type fakeSNS struct {
	status int
	header string
}

func (f *fakeSNS) Do(r *http.Request) (*http.Response, error) {
	f.header = r.Header.Get("X-Amzn-Trace-Id")
	body := `<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></PublishResponse>`
	if f.status != 200 {
		body = `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>no</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`
	}
	return &http.Response{StatusCode: f.status, Header: http.Header{"X-Amzn-Requestid": {"req-1"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func TestASampledCallIsASubsegmentUnderTheInvocation(t *testing.T) {
	const root, parent = "1-5759e988-bd862e3fe1be46a994272793", "53995c3f42cd8ad8"
	cases := []struct {
		name      string
		trace     string
		status    int
		wantSent  bool
		wantError bool
	}{
		{"a sampled call is sent with its operation and request id", "Root=" + root + ";Parent=" + parent + ";Sampled=1", 200, true, false},
		{"a refused call is marked error", "Root=" + root + ";Parent=" + parent + ";Sampled=1", 400, true, true},
		{"an unsampled invocation sends nothing and adds no header", "Root=" + root + ";Parent=" + parent + ";Sampled=0", 200, false, false},
		{"no trace (init, make run) sends nothing", "", 200, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("_X_AMZN_TRACE_ID", "")
			daemon, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer daemon.Close()
			fake := &fakeSNS{status: tc.status}
			cfg := aws.Config{Region: "ap-northeast-2", HTTPClient: fake, Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
				BaseEndpoint: aws.String("http://sns.test")}
			xray.Instrument(&cfg, "tcp:"+daemon.LocalAddr().String()+" udp:"+daemon.LocalAddr().String())
			client := sns.NewFromConfig(cfg, func(o *sns.Options) { o.RetryMaxAttempts = 1 })
			//lint:ignore SA1029 the key aws-lambda-go puts the invocation's trace header under
			ctx := context.WithValue(context.Background(), "x-amzn-trace-id", tc.trace)
			_, callErr := client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:ap-northeast-2:123456789012:t"), Message: aws.String("m")})
			if (callErr != nil) != (tc.status != 200) {
				t.Fatalf("Publish error %v with status %d", callErr, tc.status)
			}
			buf := make([]byte, 4096)
			_ = daemon.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			n, _, readErr := daemon.ReadFrom(buf)
			if !tc.wantSent {
				if readErr == nil {
					t.Errorf("sent %s, want nothing", buf[:n])
				}
				if fake.header != "" {
					t.Errorf("X-Amzn-Trace-Id %q, want none", fake.header)
				}
				return
			}
			if readErr != nil {
				t.Fatalf("nothing reached the daemon: %v", readErr)
			}
			head, doc, _ := bytes.Cut(buf[:n], []byte("\n"))
			if string(head)+"\n" != xray.Header {
				t.Errorf("datagram header %q", head)
			}
			var seg map[string]any
			if err := json.Unmarshal(doc, &seg); err != nil {
				t.Fatalf("segment is not JSON: %s", doc)
			}
			awsInfo, _ := seg["aws"].(map[string]any)
			if seg["trace_id"] != root || seg["parent_id"] != parent || seg["type"] != "subsegment" || seg["name"] != "SNS" ||
				awsInfo["operation"] != "Publish" || awsInfo["request_id"] != "req-1" {
				t.Errorf("segment %s", doc)
			}
			if e, _ := seg["error"].(bool); e != tc.wantError {
				t.Errorf("error = %v, want %v: %s", seg["error"], tc.wantError, doc)
			}
			if end, start := seg["end_time"].(float64), seg["start_time"].(float64); end < start || start < 1e9 {
				t.Errorf("start %v end %v", start, end)
			}
			if want := "Root=" + root + ";Parent=" + seg["id"].(string) + ";Sampled=1"; fake.header != want {
				t.Errorf("X-Amzn-Trace-Id %q, want %q (the subsegment as parent)", fake.header, want)
			}
		})
	}
}
