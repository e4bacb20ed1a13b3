package webhook_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestPropertyShuffledDuplicatedDeliveriesEndAtTheHighestStateWithOneAlertPer305
// delivers, for many cashbills, each one's events in a random order with random
// duplicates and new MIDs, from concurrent senders, while the first publishes
// fail; every failed delivery is retried as POPBiLL does. Whatever the order,
// every item must end at its highest stateCode and there must be exactly one
// alert per item that reached 305. PROPERTY_SEED replays a failing run.
func TestPropertyShuffledDuplicatedDeliveriesEndAtTheHighestStateWithOneAlertPer305(t *testing.T) {
	spec(t, propertyShuffledDuplicatedDeliveriesEndAtTheHighestStateWithOneAlertPer305)
}

func propertyShuffledDuplicatedDeliveriesEndAtTheHighestStateWithOneAlertPer305(t *testing.T, newEnv newEnvFunc) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PROPERTY_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("PROPERTY_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	e := newEnv(t)
	// Fewer injected failures than a delivery's tries below: with a fast
	// store, one delivery may meet every failure on its own retries.
	e.publishFailures = 1 + rng.IntN(5)

	type delivery struct{ key, body, mid string }
	const items = 30
	highest := map[string]int{}
	failed := 0
	var deliveries []delivery
	for i := range items {
		key := fmt.Sprintf("0221221%011d", seed%1e6*100+uint64(i))
		// Issued, then filed: succeeded or failed; some still wait for NTS,
		// some carry a code this receiver does not know.
		states := []int{300}
		switch rng.IntN(4) {
		case 0:
			states = append(states, 304)
		case 1, 2:
			states = append(states, 305)
			failed++
		}
		if rng.IntN(8) == 0 {
			states = append(states, 100)
		}
		for _, sc := range states {
			highest[key] = max(highest[key], sc)
			for d := range 1 + rng.IntN(3) {
				deliveries = append(deliveries, delivery{key, body(key, sc, nil), fmt.Sprintf("mid-%s-%d-%d", key, sc, d%2)})
			}
		}
	}
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })

	work := make(chan delivery)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				// POPBiLL sends again after a failure; 5 tries is more than it makes.
				for try := 0; ; try++ {
					resp, err := e.h.Handle(t.Context(), request(d.mid, d.body, nil))
					if err == nil && resp.StatusCode == 200 {
						break
					}
					if try == 5 {
						t.Errorf("%s: still %d after %d tries", d.key, resp.StatusCode, try+1)
						break
					}
				}
			}
		}()
	}
	for _, d := range deliveries {
		work <- d
	}
	close(work)
	wg.Wait()

	for key, want := range highest {
		if it, ok := e.stored(t, key); !ok || it.Event.StateCode != want {
			t.Errorf("%s: stored stateCode %d (found %v), want %d", key, it.Event.StateCode, ok, want)
		}
	}
	alerts := map[string]int{}
	for _, env := range e.delivered(t) {
		var f struct{ ItemKey string }
		_ = json.Unmarshal([]byte(env.Message), &f)
		alerts[f.ItemKey]++
	}
	total := 0
	for key, n := range alerts {
		total += n
		if n != 1 || highest[key] != 305 {
			t.Errorf("%s: %d alerts at highest state %d, want one alert only for 305", key, n, highest[key])
		}
	}
	if total != failed {
		t.Errorf("%d alerts for %d cashbills that reached 305 (%d deliveries)", total, failed, len(deliveries))
	}
	t.Logf("%d cashbills, %d deliveries, %d failures alerted", items, len(deliveries), failed)
}
