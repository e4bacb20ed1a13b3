package xray_test

import (
	"context"
	"net"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/xray"
)

// BenchmarkPublish is one SNS Publish against an in-process fake: without
// instrumentation, instrumented in an unsampled invocation, and sampled (one
// datagram to a local listener). The differences are what tracing costs a call.
func BenchmarkPublish(b *testing.B) {
	daemon, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer daemon.Close()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, _, err := daemon.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	const sampled = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	cases := []struct {
		name       string
		instrument bool
		trace      string
	}{{"uninstrumented", false, ""}, {"instrumented-unsampled", true, ""}, {"instrumented-sampled", true, sampled}}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			cfg := aws.Config{Region: "ap-northeast-2", HTTPClient: &fakeSNS{status: 200}, Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
				BaseEndpoint: aws.String("http://sns.test")}
			if tc.instrument {
				xray.Instrument(&cfg, daemon.LocalAddr().String())
			}
			client := sns.NewFromConfig(cfg)
			//lint:ignore SA1029 the key aws-lambda-go puts the invocation's trace header under
			ctx := context.WithValue(context.Background(), "x-amzn-trace-id", tc.trace)
			in := &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:ap-northeast-2:123456789012:t"), Message: aws.String("m")}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.Publish(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
