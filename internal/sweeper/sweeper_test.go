package sweeper_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/alerttest"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
)

// adapters is a store and a publisher with a way to read what was published
// (alert JSON, one per delivery).
type adapters struct {
	name string
	open func(t *testing.T) (statetest.Adapter, alert.Publisher, func(t *testing.T) []alert.Failure)
}

// adapterSets: the integration tag adds DynamoDB (the template's table and
// due index) and SNS on moto_server.
var adapterSets = []adapters{{"bbolt-console", func(t *testing.T) (statetest.Adapter, alert.Publisher, func(t *testing.T) []alert.Failure) {
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.NotDurable())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rec := &alerttest.Recorder{Next: consolealert.New(io.Discard)}
	return s, rec, func(*testing.T) []alert.Failure {
		var out []alert.Failure
		for _, p := range rec.Drain() {
			out = append(out, p.Failure)
		}
		return out
	}
}}}

// failing fails every publish while down is set.
type failing struct {
	next alert.Publisher
	down bool
}

func (p *failing) Publish(ctx context.Context, f alert.Failure) (string, error) {
	if p.down {
		return "", errors.New("injected: SNS unavailable secret-topic")
	}
	return p.next.Publish(ctx, f)
}

type env struct {
	store     statetest.Adapter
	publisher *failing
	delivered func(t *testing.T) []alert.Failure
	logs      *bytes.Buffer
	sweeper   *sweeper.Sweeper
}

func each(t *testing.T, test func(t *testing.T, newEnv func(t *testing.T) *env)) {
	for _, set := range adapterSets {
		t.Run(set.name, func(t *testing.T) {
			test(t, func(t *testing.T) *env {
				e := &env{logs: &bytes.Buffer{}}
				var pub alert.Publisher
				e.store, pub, e.delivered = set.open(t)
				e.publisher = &failing{next: pub}
				e.sweeper = sweeper.New(e.store, outbox.New(e.store, e.publisher, nil, outbox.Settings{}), sweeper.Settings{}, slog.New(slog.NewJSONHandler(e.logs, nil)))
				return e
			})
		})
	}
}

func (e *env) run(t *testing.T, now time.Time) (sweeper.Report, error) {
	t.Helper()
	return e.sweeper.Run(context.Background(), now)
}

func (e *env) apply(t *testing.T, d state.Delivery) {
	t.Helper()
	if _, err := e.store.Apply(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

func TestSweeperPublishesAnAlertNoDeliveryPublished(t *testing.T) {
	each(t, func(t *testing.T, newEnv func(t *testing.T) *env) {
		t.Run("a crash between write and publish is published once, after the lease", func(t *testing.T) {
			e := newEnv(t)
			key := statetest.ItemKey()
			d := statetest.Delivery(key, 305, "mid-1")
			e.apply(t, d)
			if rep, err := e.run(t, d.ReceivedAt.Add(sweeper.DefaultThreshold/2)); err != nil || rep.Published != 0 {
				t.Fatalf("run inside the lease = %+v, %v; want the alert left to its delivery", rep, err)
			}
			later := d.ReceivedAt.Add(sweeper.DefaultThreshold + time.Second)
			if rep, err := e.run(t, later); err != nil || rep.Found != 1 || rep.Published != 1 {
				t.Fatalf("run after the lease = %+v, %v; want 1 found, 1 published", rep, err)
			}
			if rep, err := e.run(t, later.Add(5*time.Minute)); err != nil || rep.Found != 0 || rep.Published != 0 {
				t.Errorf("second run = %+v, %v; want nothing found", rep, err)
			}
			got := e.delivered(t)
			if len(got) != 1 || alert.IDOf(got[0]) != key+"/failure" {
				t.Fatalf("delivered %+v, want one failure alert %s/failure", got, key)
			}
			if it, _, _ := e.store.Get(context.Background(), key); it.AlertStatus != state.AlertSent {
				t.Errorf("alert status %q, want sent", it.AlertStatus)
			}
		})

		t.Run("a failed publish fails the run and the next run publishes", func(t *testing.T) {
			e := newEnv(t)
			d := statetest.Delivery(statetest.ItemKey(), 305, "mid-1")
			e.apply(t, d)
			e.publisher.down = true
			later := d.ReceivedAt.Add(sweeper.DefaultThreshold + time.Second)
			rep, err := e.run(t, later)
			if !errors.Is(err, sweeper.ErrFailed) || rep.Failed != 1 {
				t.Fatalf("run with SNS down = %+v, %v; want 1 failed and ErrFailed", rep, err)
			}
			if bytes.Contains(e.logs.Bytes(), []byte("secret-topic")) || bytes.Contains(e.logs.Bytes(), []byte("injected")) {
				t.Errorf("a raw error reached the log: %s", e.logs)
			}
			e.publisher.down = false
			if rep, err := e.run(t, later.Add(5*time.Minute)); err != nil || rep.Published != 1 {
				t.Errorf("next run = %+v, %v; want 1 published", rep, err)
			}
			if n := len(e.delivered(t)); n != 1 {
				t.Errorf("%d alerts delivered, want 1", n)
			}
		})
	})
}

// issued is a 300 issued at 2025-11-27 14:10 KST.
func issued(itemKey string, stateCode int) state.Delivery {
	d := statetest.Delivery(itemKey, stateCode, "mid-issue")
	d.Event.IssueDT, d.Event.EventDT = "20251127141000", "20251127141000"
	d.ReceivedAt = time.Date(2025, 11, 27, 14, 10, 5, 0, kst)
	return d
}

var (
	kst = time.FixedZone("KST", 9*60*60)
	// deadline is 18:00 KST on the second day after issue.
	deadline = time.Date(2025, 11, 29, 18, 0, 0, 0, kst)
)

func TestWatchdogRaisesOneOverdueAlertAfterTheDeadline(t *testing.T) {
	each(t, func(t *testing.T, newEnv func(t *testing.T) *env) {
		cases := []struct {
			name       string
			states     []int
			at         time.Time
			overdue    int
			stillQueue bool
		}{
			{"a 300 is not overdue at 17:59 on the second day", []int{300}, deadline.Add(-time.Minute), 0, true},
			{"a 300 is overdue at 18:01", []int{300}, deadline.Add(time.Minute), 1, false},
			{"a 304 before the deadline takes it out of the queue", []int{300, 304}, deadline.Add(time.Minute), 0, false},
			{"a 305 before the deadline owes its failure alert only", []int{300, 305}, deadline.Add(time.Minute), 0, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t)
				key := statetest.ItemKey()
				for _, sc := range tc.states {
					e.apply(t, issued(key, sc))
				}
				e.delivered(t) // the 305's failure alert is the sweeper's too; count only overdue ones
				rep, err := e.run(t, tc.at)
				if err != nil || rep.OverdueRaised != tc.overdue {
					t.Errorf("run = %+v, %v; want %d overdue raised", rep, err, tc.overdue)
				}
				overdue := 0
				for _, f := range e.delivered(t) {
					if f.Kind == alert.KindOverdue {
						overdue++
						if f.AlertID != key+"/overdue" || f.IssueDT != "20251127141000" || f.FranchiseCorpNum == "" {
							t.Errorf("overdue alert %+v lacks its id, issue time or business number", f)
						}
					}
				}
				if overdue != tc.overdue {
					t.Errorf("%d overdue alerts published, want %d", overdue, tc.overdue)
				}
				items, err := e.store.Due(context.Background(), state.QueueResult, tc.at.Add(72*time.Hour), 100)
				if err != nil {
					t.Fatal(err)
				}
				if in := len(items) == 1; in != tc.stillQueue {
					t.Errorf("still awaiting its result: %v, want %v", in, tc.stillQueue)
				}
			})
		}

		t.Run("one overdue alert when the watchdog runs twice and concurrently", func(t *testing.T) {
			e := newEnv(t)
			key := statetest.ItemKey()
			e.apply(t, issued(key, 300))
			at := deadline.Add(time.Minute)
			var wg sync.WaitGroup
			reps := make([]sweeper.Report, 2)
			for i := range reps {
				wg.Add(1)
				go func() {
					defer wg.Done()
					reps[i], _ = e.sweeper.Run(context.Background(), at)
				}()
			}
			wg.Wait()
			again, err := e.run(t, at.Add(5*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if raised := reps[0].OverdueRaised + reps[1].OverdueRaised + again.OverdueRaised; raised != 1 {
				t.Errorf("overdue raised %d times over three runs, want 1", raised)
			}
			if n := len(e.delivered(t)); n != 1 {
				t.Errorf("%d alerts published, want 1", n)
			}
		})
	})
}
