package localserver

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange/eventsink"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange/forwarder"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange/streampoll"
)

// streamPollEvery is how often the stand-in for Lambda's stream mapping reads
// the state table's stream.
const streamPollEvery = time.Second

// stateEvents returns store announcing each stored increase as a
// "Cashbill State Changed" event (docs/events.md): POSTed to EVENTS_URL when
// it is set, else printed to stdout as a JSON line. With STORE=dynamodb and
// EVENT_BUS_NAME set (make run-moto), it also runs the forwarder on the state
// table's stream into that bus, as Lambda does in AWS, until the returned
// func is called.
func stateEvents(ctx context.Context, getenv func(string) string, awsCfg aws.Config, store state.Store, stdout io.Writer, log *slog.Logger) (state.Store, func(), error) {
	var sink eventsink.Sink = eventsink.NewConsole(stdout)
	if url := getenv(config.EventsURL); url != "" {
		sink = eventsink.NewHTTP(url)
		log.Info("state-change events: POSTed", "url", url)
	}
	announced := eventsink.Announce(store, sink, log)
	bus := getenv(config.EventBusName)
	if getenv("STORE") != "dynamodb" || bus == "" {
		return announced, func() {}, nil
	}
	table, err := config.Required(getenv, config.StateTable)
	if err != nil {
		return nil, nil, err
	}
	fwd := forwarder.New(eventbridge.NewFromConfig(awsCfg), bus, log)
	p, err := streampoll.New(ctx, dynamodb.NewFromConfig(awsCfg), dynamodbstreams.NewFromConfig(awsCfg), table, fwd.Handle)
	if err != nil {
		return nil, nil, err
	}
	pollCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(pollCtx, streamPollEvery, log)
	}()
	log.Info("state-change events: the forwarder reads the state table's stream into the bus", "table", table, "bus", bus)
	return announced, func() { cancel(); <-done }, nil
}
