//go:build integration

package localserver

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/localinfra"
	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange/eventstest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

// TestMakeRunMotoPutsTheWalkthroughOnTheBus is the "done when": a
// queue subscribed to the bus by the documented rule, the README's
// walkthrough (300, then 305, each sent twice, then a stale 300) through
// make run-moto's wiring, and the queue receives exactly two events, with
// previousStateCode absent, then 300: the forwarder reads the state table's
// stream into the bus as Lambda runs it in AWS.
func TestMakeRunMotoPutsTheWalkthroughOnTheBus(t *testing.T) {
	ctx := context.Background()
	tmpl, err := samtemplate.Load(filepath.Join(modroot.Dir(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := mototest.Config(t)
	name := mototest.Name(t, "runmoto")
	st, err := localinfra.Provision(ctx, tmpl, name, dynamodb.NewFromConfig(cfg), sns.NewFromConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ProvisionBuses(ctx, tmpl, name, eventbridge.NewFromConfig(cfg)); err != nil {
		t.Fatal(err)
	}
	consumer := eventstest.Consumer(t, st.Refs["EventBus"])
	_, group := mototest.LogGroup(t)
	t.Setenv("AWS_ENDPOINT_URL", mototest.Endpoint(t))
	t.Setenv("AWS_REGION", mototest.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	srv, stop := serve(t, map[string]string{
		"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:local-secret",
		"STORE": "dynamodb", "STATE_TABLE": st.Refs["StateTable"], "ARCHIVE_LOG_GROUP": group,
		"ALERTS": "sns", "ALERT_TOPIC_ARN": st.Refs["AlertTopic"], "EVENT_BUS_NAME": st.Refs["EventBus"],
	})
	walkthrough(t, srv)
	got := consumer.Await(t, 2, 10*time.Second)
	time.Sleep(2 * streamPollEvery) // a third event would have come by now
	got = append(got, consumer.Received(t)...)
	stop()
	wantWalkthroughEvents(t, got)
}
