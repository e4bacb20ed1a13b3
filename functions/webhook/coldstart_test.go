//go:build integration

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/localinfra"
	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/rietest"
)

// BenchmarkColdStart starts the real bootstrap under the Lambda emulator and
// sends it one event (events/01-issue-300.json) against moto_server, once per
// iteration, then the same event again. It reports the wall time from
// starting the emulator to the first answer (process start, Go runtime, AWS
// config and clients, first requests on new connections) and the time of the
// second, warm invocation; their difference is what a cold start costs here.
// Lambda adds its own sandbox and code download time on top. (The emulator's
// own "Init Duration" is not used: it does not time the bootstrap's start.)
func BenchmarkColdStart(b *testing.B) {
	root := modroot.Dir(b)
	cfg := mototest.Config(b)
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	stack, err := localinfra.Provision(context.Background(), tmpl, mototest.Name(b, "cold"), dynamodb.NewFromConfig(cfg), sns.NewFromConfig(cfg))
	if err != nil {
		b.Fatal(err)
	}
	infra, err := stack.Environment(tmpl, "WebhookFunction")
	if err != nil {
		b.Fatal(err)
	}
	env := []string{
		config.AuthMode + "=basic", config.AuthCredential + "=popbill:local-secret",
		"AWS_ENDPOINT_URL=" + mototest.Endpoint(b), "AWS_REGION=" + mototest.Region,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_LAMBDA_LOG_FORMAT=JSON",
	}
	for k, v := range infra {
		env = append(env, k+"="+v)
	}
	event, err := os.ReadFile(filepath.Join(root, "events", "01-issue-300.json"))
	if err != nil {
		b.Fatal(err)
	}
	bootstrap := rietest.Build(b, "WebhookFunction")
	// X-Ray instrumentation of the SDK clients off and on (the emulator sends
	// no trace header, so on measures what instrumenting costs unsampled).
	for _, tracing := range []string{"PassThrough", "Active"} {
		b.Run("tracing="+tracing, func(b *testing.B) {
			coldStarts(b, bootstrap, append(env, config.Tracing+"="+tracing), event)
		})
	}
}

func coldStarts(b *testing.B, bootstrap string, env []string, event []byte) {
	var firstTotal, warmTotal time.Duration
	for b.Loop() {
		start := time.Now()
		em := rietest.Start(b, bootstrap, env)
		out := em.Invoke(b, event)
		firstTotal += time.Since(start)
		if !strings.Contains(string(out), `"statusCode":200`) {
			b.Fatalf("first invocation answered %s", out)
		}
		start = time.Now()
		em.Invoke(b, event)
		warmTotal += time.Since(start)
		em.Stop()
	}
	b.ReportMetric(float64(firstTotal.Microseconds())/1000/float64(b.N), "cold-ms/op")
	b.ReportMetric(float64(warmTotal.Microseconds())/1000/float64(b.N), "warm-ms/op")
}
