//go:build integration

package localinfra

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

func TestProvisionBusesCreatesTheTemplatesBus(t *testing.T) {
	ctx := context.Background()
	tmpl, err := samtemplate.Load(filepath.Join(modroot.Dir(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	api := eventbridge.NewFromConfig(mototest.Config(t))
	name := mototest.Name(t, "stack")
	st := &Stack{Refs: map[string]string{}}
	for range 2 { // a second run keeps the bus
		if err := st.ProvisionBuses(ctx, tmpl, name, api); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := api.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(st.Refs["EventBus"])}); err != nil {
		t.Fatalf("bus %q: %v", st.Refs["EventBus"], err)
	}
	env, err := st.Environment(tmpl, "EventForwarderFunction")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := env["EVENT_BUS_NAME"], name+"-EventBus"; got != want {
		t.Errorf("EVENT_BUS_NAME = %q, want %q", got, want)
	}
}
