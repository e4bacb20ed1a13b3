//go:build integration

package localinfra

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

// TestProvisionLogGroupCreatesTheWebhooksArchive creates the log group the
// webhook logs to (the delivery archive), and keeps it on a second run.
func TestProvisionLogGroupCreatesTheWebhooksArchive(t *testing.T) {
	ctx := context.Background()
	tmpl, err := samtemplate.Load(filepath.Join(modroot.Dir(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	logs := cloudwatchlogs.NewFromConfig(mototest.Config(t))
	name := mototest.Name(t, "stack")
	st := &Stack{Refs: map[string]string{}}
	for range 2 {
		group, err := st.ProvisionLogGroup(ctx, tmpl, "WebhookFunction", name, logs)
		if err != nil {
			t.Fatal(err)
		}
		if want := name + "-WebhookFunctionLogs"; group != want || st.Refs["WebhookFunctionLogs"] != want {
			t.Fatalf("log group %q (refs %v), want %q", group, st.Refs, want)
		}
	}
	out, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	if err != nil || len(out.LogGroups) != 1 {
		t.Errorf("log groups on moto: %+v, %v; want the one", out, err)
	}
}
