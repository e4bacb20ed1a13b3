package reliabilitytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/alerttest"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
)

// stormSize is make test's small storm, or with STRESS=1 (make stress) the
// issue's full one: 10,000 deliveries over 1,000 cashbills.
func stormSize() (deliveries, items int) {
	if os.Getenv("STRESS") != "" {
		return 10_000, 1_000
	}
	return 300, 30
}

const stormWorkers = 32

// delivery is one send of one event, as planned.
type delivery struct {
	item, state int
	mid         string
}

// stormPlan is every cashbill's events, 1-4 copies of each, shuffled. Each
// cashbill is issued (300) and gets its NTS result, a failure (305) for about
// a third; some were saved first (100) and some reach a later state (400),
// which may arrive before the 305 (issue 9 case 2).
func stormPlan(rng *rand.Rand, deliveries, items int) []delivery {
	type event struct{ item, state int }
	var evs []event
	for i := range items {
		states := []int{300, 304}
		if rng.IntN(3) == 0 {
			states[1] = 305
		}
		if rng.IntN(2) == 0 {
			states = append(states, 100)
		}
		if rng.IntN(10) < 3 {
			states = append(states, 400)
		}
		for _, s := range states {
			evs = append(evs, event{i, s})
		}
	}
	copies := make([]int, len(evs))
	total := 0
	for i := range copies {
		copies[i] = 1 + rng.IntN(4)
		total += copies[i]
	}
	// Bring the total to the size asked, each event keeping 1-4 copies.
	for total != deliveries {
		i := rng.IntN(len(evs))
		switch {
		case total < deliveries && copies[i] < 4:
			copies[i]++
			total++
		case total > deliveries && copies[i] > 1:
			copies[i]--
			total--
		}
	}
	var out []delivery
	for i, ev := range evs {
		for range copies[i] {
			out = append(out, delivery{ev.item, ev.state, fmt.Sprintf("mid-%d-%d", ev.item, ev.state)})
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// stormTarget is the receiver under the storm: its store behind the clock,
// its publisher, and what can be read back.
type stormTarget struct {
	clock     *clock
	publisher alert.Publisher
	// published lists the alert id of every publish a subscriber received.
	published func(t testing.TB) []string
	// faults counts the faults injected so far; calm stops injecting them.
	faults func() int
	calm   func()
	// windows counts the injected faults that may publish an alert twice
	// (a publish whose answer was lost or late, a mark that failed).
	windows func() int
	get     func(ctx context.Context, itemKey string) (state.Item, bool, error)
}

// stormFigures is what a storm measured.
type stormFigures struct {
	deliveries, sends, items, faults, crashes, unacknowledged                int
	lostState, lostAlerts, unexpectedAlerts, publishes, alertIDs, duplicates int
	sweeperPublished                                                         int
	wall                                                                     time.Duration
}

func (f stormFigures) String() string {
	return fmt.Sprintf("deliveries %d (sends %d) over %d cashbills, %d workers; faults injected %d (crashes %d); "+
		"unacknowledged after 4 sends %d; lost states %d, lost alerts %d, unexpected alerts %d; "+
		"SNS publishes %d for %d alert ids (duplicates %d; the sweeper published %d); wall time %s",
		f.deliveries, f.sends, f.items, stormWorkers, f.faults, f.crashes, f.unacknowledged, f.lostState, f.lostAlerts,
		f.unexpectedAlerts, f.publishes, f.alertIDs, f.duplicates, f.sweeperPublished, f.wall.Round(time.Millisecond))
}

// storm sends the plan through the real handler, 32 at a time, each delivery
// retried as POPBiLL does; then the sweeper runs once past every lease. It
// checks the invariants and returns the figures.
func storm(t *testing.T, target stormTarget, seed uint64) stormFigures {
	deliveries, items := stormSize()
	run := int(seed % 1000)
	plan := stormPlan(rand.New(rand.NewPCG(seed, seed+1)), deliveries, items)
	pb := &popbill{h: newHandler(t, target.clock, target.publisher, io.Discard), clock: target.clock}

	var mu sync.Mutex
	acked := map[int]int{} // item -> highest state answered 200
	acked305 := map[int]bool{}
	got305 := map[int]bool{}
	var sends, unacked atomic.Int64
	start := time.Now()
	work := make(chan delivery)
	var wg sync.WaitGroup
	for range stormWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				// POPBiLL's retries come at once here, not 5 minutes later:
				// a lease a failed send left behind is the sweeper's to clear.
				status, n := pb.deliver(request(itemKey(run, d.item), d.state, d.mid), false)
				sends.Add(int64(n))
				mu.Lock()
				if d.state == 305 {
					got305[d.item] = true
				}
				if status == 200 {
					acked[d.item] = max(acked[d.item], d.state)
					if d.state == 305 {
						acked305[d.item] = true
					}
				} else {
					unacked.Add(1)
				}
				mu.Unlock()
			}
		}()
	}
	for _, d := range plan {
		work <- d
	}
	close(work)
	wg.Wait()
	target.calm()
	rep := sweep(t, target.clock, target.publisher)
	fig := stormFigures{deliveries: len(plan), sends: int(sends.Load()), items: items, faults: target.faults(),
		crashes: int(pb.crashes.Load()), unacknowledged: int(unacked.Load()), sweeperPublished: rep.Published,
		wall: time.Since(start)}

	highest := map[int]int{}
	for _, d := range plan {
		highest[d.item] = max(highest[d.item], d.state)
	}
	for i := range items {
		it, found, err := target.get(context.Background(), itemKey(run, i))
		if err != nil {
			t.Fatal(err)
		}
		// Every state POPBiLL was told was received is kept; with nothing
		// left unacknowledged, that is the highest state sent.
		want := acked[i]
		if fig.unacknowledged == 0 {
			want = highest[i]
		}
		if !found || it.Event.StateCode < want {
			fig.lostState++
			if fig.lostState <= 5 {
				t.Errorf("cashbill %d: stored state %d (found %v), want %d", i, it.Event.StateCode, found, want)
			}
		}
		if found && it.AlertStatus == state.AlertPending {
			t.Errorf("cashbill %d: alert still pending after the sweeper", i)
		}
	}
	ids := map[string]int{}
	for _, id := range target.published(t) {
		ids[id]++
		fig.publishes++
	}
	for i := range items {
		id := alert.ID(itemKey(run, i), alert.KindFailure)
		// A 305 acknowledged owes its alert; one never stored (every send
		// failed, POPBiLL shows it failed) may owe none.
		if acked305[i] && ids[id] == 0 {
			fig.lostAlerts++
			t.Errorf("cashbill %d: its 305 was answered 200 but no alert was published", i)
		}
		if ids[id] > 0 && !got305[i] {
			fig.unexpectedAlerts++
			t.Errorf("cashbill %d: an alert was published but no 305 was sent", i)
		}
		if fig.unacknowledged == 0 && got305[i] != (ids[id] > 0) {
			t.Errorf("cashbill %d: received a 305: %v, alerted: %v", i, got305[i], ids[id] > 0)
		}
	}
	fig.alertIDs = len(ids)
	fig.duplicates = fig.publishes - fig.alertIDs
	if w := target.windows(); fig.duplicates > w {
		t.Errorf("%d duplicate publishes, more than the %d injected faults that open a duplicate window", fig.duplicates, w)
	}
	for id := range ids {
		if !strings.HasSuffix(id, "/"+string(alert.KindFailure)) && !strings.HasSuffix(id, "/"+string(alert.KindOverdue)) {
			t.Errorf("unknown alert id %q", id)
		}
	}
	if fig.faults == 0 {
		t.Error("no fault was injected: the storm tested the calm path only")
	}
	return fig
}

func TestStormOnTheEmbeddedStoreLosesNothing(t *testing.T) {
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.NotDurable())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := &alerttest.Recorder{Next: consolealert.New(io.Discard)}
	const seed = 9
	f := &faulty{rng: rand.New(rand.NewPCG(seed, 7)), p: 0.03}
	f.store = s
	pub := &faultyPublisher{next: rec, f: f}
	target := stormTarget{
		clock: &clock{stores: f}, publisher: pub,
		published: func(testing.TB) []string {
			var out []string
			for _, p := range rec.Drain() {
				out = append(out, alert.IDOf(p.Failure))
			}
			return out
		},
		faults:  func() int { return int(f.count.Load()) },
		calm:    func() { f.calm.Store(true) },
		windows: func() int { return int(f.windows.Load()) },
		get:     s.Get,
	}
	fig := storm(t, target, seed)
	t.Logf("storm, embedded store (bbolt + console): %s", fig)
}

// faulty is the local run's fault injector: each store call and publish fails
// with probability p, before or after it took effect (an answer lost after
// commit), and the process dies after a state write as often.
type faulty struct {
	store interface {
		state.Store
		state.Queues
	}
	mu      sync.Mutex
	rng     *rand.Rand
	p       float64
	calm    atomic.Bool
	count   atomic.Int64
	windows atomic.Int64
}

var errInjected = errors.New("injected fault")

// roll draws a fault: 0 none, 1 before the call, 2 after it, 3 a crash after it.
func (f *faulty) roll(kinds int) int {
	if f.calm.Load() {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= f.p {
		return 0
	}
	f.count.Add(1)
	return 1 + f.rng.IntN(kinds)
}

func (f *faulty) Apply(ctx context.Context, r state.Delivery) (state.Result, error) {
	k := f.roll(3)
	if k == 1 {
		return state.Result{}, errInjected
	}
	res, err := f.store.Apply(ctx, r)
	switch {
	case k == 2:
		return state.Result{}, errInjected
	case k == 3:
		panic(crash{})
	}
	return res, err
}

func (f *faulty) ClaimAlert(ctx context.Context, itemKey, owner string, now time.Time, lease time.Duration) (state.Claim, error) {
	k := f.roll(2)
	if k == 1 {
		return state.Claim{}, errInjected
	}
	c, err := f.store.ClaimAlert(ctx, itemKey, owner, now, lease)
	if k == 2 {
		return state.Claim{}, errInjected
	}
	return c, err
}

func (f *faulty) ReleaseAlert(ctx context.Context, itemKey, owner string) error {
	return f.store.ReleaseAlert(ctx, itemKey, owner)
}

func (f *faulty) MarkAlertSent(ctx context.Context, itemKey, owner, messageID string, at time.Time) error {
	k := f.roll(2)
	if k != 0 {
		f.windows.Add(1)
	}
	if k == 1 {
		return errInjected
	}
	err := f.store.MarkAlertSent(ctx, itemKey, owner, messageID, at)
	if k == 2 {
		return errInjected
	}
	return err
}

func (f *faulty) Due(ctx context.Context, queue string, through time.Time, limit int) ([]state.Item, error) {
	return f.store.Due(ctx, queue, through, limit)
}

func (f *faulty) ResultEntries(ctx context.Context, after state.Position, through time.Time, limit int) ([]state.Entry, error) {
	return f.store.ResultEntries(ctx, after, through, limit)
}

func (f *faulty) ResultWatermark(ctx context.Context) (state.Position, bool, error) {
	return f.store.ResultWatermark(ctx)
}

func (f *faulty) AdvanceResultWatermark(ctx context.Context, p state.Position) error {
	return f.store.AdvanceResultWatermark(ctx, p)
}

func (f *faulty) RaiseOverdue(ctx context.Context, itemKey string, a []byte, now time.Time) (state.OverdueOutcome, error) {
	return f.store.RaiseOverdue(ctx, itemKey, a, now)
}

// faultyPublisher fails a publish before it or after it went out (SNS
// accepted it, its answer was lost: a duplicate window).
type faultyPublisher struct {
	next alert.Publisher
	f    *faulty
}

func (p *faultyPublisher) Publish(ctx context.Context, a alert.Failure) (string, error) {
	k := p.f.roll(2)
	if k == 1 {
		return "", errInjected
	}
	id, err := p.next.Publish(ctx, a)
	if k == 2 {
		p.f.windows.Add(1)
		return "", errInjected
	}
	return id, err
}
