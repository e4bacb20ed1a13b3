package localserver

import (
	"context"
	"log/slog"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
)

// sweeping is the outbox the handler and the sweeper share, and how to stop
// the sweeper.
type sweeping struct {
	outbox *outbox.Outbox
	stop   func()
}

// startSweeper builds the outbox and runs the sweeper on store every
// SWEEP_INTERVAL until stop is called (it waits for a run under way, so the
// store can be closed after it). With SWEEP_INTERVAL=0 nothing runs. Each
// run logs its own line; a failed run is retried at the next tick, as the
// schedule does. The outbox routes alerts into storm digests only when the
// sweeper runs and the store keeps storm windows, since only the sweeper
// publishes digests.
func startSweeper(getenv func(string) string, store state.Store, alerts alert.Publisher, settings outbox.Settings, log *slog.Logger) (sweeping, error) {
	every, err := config.ReadSweepInterval(getenv)
	if err != nil {
		return sweeping{}, err
	}
	sweep, err := config.ReadSweep(getenv)
	if err != nil {
		return sweeping{}, err
	}
	queues, ok := store.(state.Queues)
	if every == 0 || !ok {
		return sweeping{outbox: outbox.New(store, alerts, nil, settings), stop: func() {}}, nil
	}
	storms, _ := store.(outbox.Storms)
	out := outbox.New(store, alerts, storms, settings)
	sw := sweeper.New(queues, out, sweep, log)
	if storms != nil {
		sw = sw.WithStorms(storms)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				_, _ = sw.Run(ctx, now)
			}
		}
	}()
	log.Info("sweeper and overdue-result watchdog running on the local store", "every", every.String())
	return sweeping{outbox: out, stop: func() { cancel(); <-done }}, nil
}
