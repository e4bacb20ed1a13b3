package sweeper_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
)

// watched is the store as the watchdog sees it, with the index's lag and
// faults injected: an entry in hidden is not yet visible to ResultEntries,
// a key in failing fails its next RaiseOverdue; raises counts the calls.
type watched struct {
	statetest.Adapter
	mu      sync.Mutex
	hidden  map[string]bool
	failing map[string]bool
	raises  map[string]int
}

func (w *watched) ResultEntries(ctx context.Context, after state.Position, through time.Time, limit int) ([]state.Entry, error) {
	entries, err := w.Adapter.ResultEntries(ctx, after, through, limit)
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []state.Entry
	for _, e := range entries {
		if !w.hidden[e.At.ItemKey] {
			out = append(out, e)
		}
	}
	return out, err
}

func (w *watched) RaiseOverdue(ctx context.Context, itemKey string, a []byte, now time.Time) (state.OverdueOutcome, error) {
	w.mu.Lock()
	w.raises[itemKey]++
	fail := w.failing[itemKey]
	delete(w.failing, itemKey)
	w.mu.Unlock()
	if fail {
		return "", errors.New("injected: DynamoDB unavailable")
	}
	return w.Adapter.RaiseOverdue(ctx, itemKey, a, now)
}

func (w *watched) set(m map[string]bool, key string, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m[key] = on
}

// watchdogEnv is a sweeper on a watched store, with a batch of batch.
type watchdogEnv struct {
	store     *watched
	sweeper   *sweeper.Sweeper
	delivered func(t *testing.T) []alert.Failure
}

func eachWatchdog(t *testing.T, batch int, test func(t *testing.T, e *watchdogEnv)) {
	for _, set := range adapterSets {
		t.Run(set.name, func(t *testing.T) {
			s, pub, delivered := set.open(t)
			w := &watched{Adapter: s, hidden: map[string]bool{}, failing: map[string]bool{}, raises: map[string]int{}}
			sw := sweeper.New(w, outbox.New(s, pub, nil, outbox.Settings{}), sweeper.Settings{Batch: batch}, slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)))
			test(t, &watchdogEnv{store: w, sweeper: sw, delivered: delivered})
		})
	}
}

func (e *watchdogEnv) apply(t *testing.T, d state.Delivery) {
	t.Helper()
	if _, err := e.store.Apply(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// late is a 300 issued in 2022 and delivered at received: long past its
// deadline, it enters the result queue state.ResultHorizon before received.
func late(key string, received time.Time) state.Delivery {
	d := statetest.Delivery(key, 300, "mid-late")
	d.ReceivedAt = received
	return d
}

// sweep runs the sweeper and sums what the runs raised and found known.
type tally struct{ raised, known, failed int }

func (e *watchdogEnv) sweep(t *testing.T, at time.Time, sum *tally) error {
	t.Helper()
	rep, err := e.sweeper.Run(context.Background(), at)
	sum.raised += rep.OverdueRaised
	sum.known += rep.ResultKnown
	sum.failed += rep.Failed
	return err
}

func TestWatchdogReadsTheResultQueueAsAMovingWindow(t *testing.T) {
	cases := []struct {
		name  string
		batch int
		run   func(t *testing.T, e *watchdogEnv)
	}{
		{"a cashbill that got its result costs no write, once or on later runs", 0, func(t *testing.T, e *watchdogEnv) {
			waiting, known := statetest.ItemKey(), statetest.ItemKey()
			e.apply(t, issued(waiting, 300))
			e.apply(t, issued(known, 300))
			e.apply(t, issued(known, 304))
			var sum tally
			for i := range 3 {
				if err := e.sweep(t, deadline.Add(time.Duration(1+5*i)*time.Minute), &sum); err != nil {
					t.Fatal(err)
				}
			}
			if sum.raised != 1 || sum.known != 1 {
				t.Errorf("over three runs: %+v; want one raised and one known, each counted once", sum)
			}
			if n := e.store.raises[known]; n != 0 {
				t.Errorf("the cashbill with its result had %d overdue writes, want none", n)
			}
			if n := e.store.raises[waiting]; n != 1 {
				t.Errorf("the cashbill awaiting its result had %d overdue writes, want 1", n)
			}
		}},
		{"the first run, with no watermark, examines the queue from its start", 0, func(t *testing.T, e *watchdogEnv) {
			old := statetest.ItemKey()
			d := statetest.Delivery(old, 300, "mid-2022") // issued 2022-12-21
			d.ReceivedAt = time.Date(2022, 12, 21, 16, 20, 0, 0, kst)
			e.apply(t, d)
			var sum tally
			if err := e.sweep(t, deadline.Add(time.Minute), &sum); err != nil || sum.raised != 1 {
				t.Errorf("first run: %+v, %v; want the 2022 cashbill raised", sum, err)
			}
		}},
		{"a 300 delivered late, behind the watermark, is raised at the next run", 0, func(t *testing.T, e *watchdogEnv) {
			e.apply(t, issued(statetest.ItemKey(), 300))
			var sum tally
			if err := e.sweep(t, deadline.Add(time.Minute), &sum); err != nil || sum.raised != 1 {
				t.Fatalf("run moving the watermark to 2025-11-27: %+v, %v", sum, err)
			}
			key := statetest.ItemKey()
			received := deadline.Add(10 * time.Minute)
			e.apply(t, late(key, received)) // issued 2022: far behind the watermark
			if err := e.sweep(t, received.Add(time.Minute), &sum); err != nil || sum.raised != 2 || e.store.raises[key] != 1 {
				t.Errorf("next run: %+v, %v, %d writes to the late 300; want it raised", sum, err, e.store.raises[key])
			}
		}},
		{"an entry invisible to the run that passed it is raised by a later run", 0, func(t *testing.T, e *watchdogEnv) {
			hidden, seen := statetest.ItemKey(), statetest.ItemKey()
			at := time.Date(2026, 3, 2, 9, 0, 0, 0, kst)
			e.apply(t, late(hidden, at))
			e.apply(t, late(seen, at.Add(30*time.Second)))
			e.store.set(e.store.hidden, hidden, true) // written, not yet in the index
			var sum tally
			if err := e.sweep(t, at.Add(time.Minute), &sum); err != nil || sum.raised != 1 {
				t.Fatalf("run with one entry invisible: %+v, %v; want the visible one raised", sum, err)
			}
			e.store.set(e.store.hidden, hidden, false)
			if err := e.sweep(t, at.Add(6*time.Minute), &sum); err != nil || sum.raised != 2 || e.store.raises[hidden] != 1 {
				t.Errorf("next run: %+v, %v; want the entry behind the watermark raised", sum, err)
			}
		}},
		{"a run that fails halfway leaves the watermark before the entry it did not handle", 0, func(t *testing.T, e *watchdogEnv) {
			keys := []string{statetest.ItemKey(), statetest.ItemKey(), statetest.ItemKey()}
			for _, k := range keys {
				e.apply(t, issued(k, 300))
			}
			entries, err := e.store.ResultEntries(context.Background(), state.Position{}, deadline, 10)
			if err != nil || len(entries) != 3 {
				t.Fatalf("entries %v, %v", entries, err)
			}
			e.store.set(e.store.failing, entries[1].At.ItemKey, true)
			var sum tally
			if err := e.sweep(t, deadline.Add(time.Minute), &sum); !errors.Is(err, sweeper.ErrFailed) || sum.raised != 2 {
				t.Fatalf("run with a failed raise: %+v, %v; want 2 raised and ErrFailed", sum, err)
			}
			mark, _, err := e.store.ResultWatermark(context.Background())
			if err != nil || mark.ItemKey != entries[0].At.ItemKey {
				t.Fatalf("watermark %+v, %v; want at %s, before the failed entry", mark, err, entries[0].At.ItemKey)
			}
			// Many runs later: the overlap has long passed, the window has not.
			if err := e.sweep(t, deadline.Add(24*time.Hour), &sum); err != nil || sum.raised != 3 {
				t.Errorf("next run: %+v, %v; want the failed entry raised", sum, err)
			}
			if n := len(e.delivered(t)); n != 3 {
				t.Errorf("%d overdue alerts published, want 3", n)
			}
		}},
		{"a full batch moves the watermark no further than the batch", 2, func(t *testing.T, e *watchdogEnv) {
			for range 5 {
				e.apply(t, issued(statetest.ItemKey(), 300))
			}
			var sum tally
			for i, want := range []int{2, 4, 5, 5} {
				if err := e.sweep(t, deadline.Add(time.Duration(1+5*i)*time.Minute), &sum); err != nil || sum.raised != want {
					t.Fatalf("after run %d: %+v, %v; want %d raised in all", i+1, sum, err, want)
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachWatchdog(t, tc.batch, tc.run)
		})
	}
}
