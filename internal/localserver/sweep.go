package localserver

import (
	"context"
	"log/slog"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// startSweeper runs the sweeper on store every SWEEP_INTERVAL until the
// returned func is called (it waits for a run under way, so the store can be
// closed after it). With SWEEP_INTERVAL=0 nothing runs. Each run logs its
// own line; a failed run is retried at the next tick, as the schedule does.
// storms is the store's storm windows when the sweeper runs and the store
// keeps them: only then may the handler put alerts into digests, since only
// the sweeper publishes those; otherwise nil.
func startSweeper(getenv func(string) string, store state.Store, alerts alert.Publisher, log *slog.Logger) (stop func(), storms state.Storms, policy webhook.StormPolicy, err error) {
	every, err := config.ReadSweepInterval(getenv)
	if err != nil {
		return nil, nil, policy, err
	}
	settings, err := config.ReadSweep(getenv)
	if err != nil {
		return nil, nil, policy, err
	}
	storm, err := config.ReadStorm(getenv)
	if err != nil {
		return nil, nil, policy, err
	}
	queues, ok := store.(state.Queues)
	if every == 0 || !ok {
		return func() {}, nil, policy, nil
	}
	sw := sweeper.New(store, queues, alerts, sweeper.Settings(settings), log)
	if s, ok := store.(state.Storms); ok {
		storms, policy = s, webhook.StormPolicy(storm)
		sw = sw.WithStorms(storms, policy)
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
	return func() { cancel(); <-done }, storms, policy, nil
}
