// Package loadgen is a bounded load generator for the local server (make
// loadtest): N deliveries over C concurrent workers on loopback, built from
// the sample events in events/ with fresh itemKeys, reported as deliveries/s
// and p50/p99/max latency.
//
// Each sample event that events/expected.json answers 200 is a delivery; the
// deliveries of one sample cashbill (same itemKey) form a story (issue, NTS
// result, a stale re-run, a duplicate retry; or an NTS failure) that one
// worker sends in order, under a fresh itemKey and fresh message ids, so that
// every story does what it does in events/: stored, stale, duplicate, alert.
package loadgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Delivery is one POST: its headers and body, with the sample's itemKey and
// message id still in them (Story.For replaces them).
type Delivery struct {
	Name   string // the sample file
	Header http.Header
	Body   []byte
}

// Story is the deliveries of one sample cashbill, in file order.
type Story struct {
	ItemKey    string
	Deliveries []Delivery
}

// event is the part of an API Gateway HTTP API event the generator reads.
type event struct {
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

// Load reads the stories from dir (events/): every file expected.json answers
// with 200, grouped by the body's itemKey in file-name order.
func Load(dir string) ([]Story, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		return nil, err
	}
	var expected map[string]struct {
		Status int `json:"status"`
	}
	if err := json.Unmarshal(raw, &expected); err != nil {
		return nil, fmt.Errorf("expected.json: %w", err)
	}
	names := make([]string, 0, len(expected))
	for name, e := range expected {
		if e.Status == http.StatusOK {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var stories []Story
	for _, name := range names {
		d, itemKey, err := readDelivery(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		i := slices.IndexFunc(stories, func(s Story) bool { return s.ItemKey == itemKey })
		if i < 0 {
			stories = append(stories, Story{ItemKey: itemKey})
			i = len(stories) - 1
		}
		stories[i].Deliveries = append(stories[i].Deliveries, d)
	}
	if len(stories) == 0 {
		return nil, fmt.Errorf("no event in %s is answered 200 in expected.json", dir)
	}
	return stories, nil
}

func readDelivery(path string) (Delivery, string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Delivery{}, "", err
	}
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Delivery{}, "", err
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return Delivery{}, "", err
		}
	}
	var fields struct {
		ItemKey string `json:"itemKey"`
	}
	if err := json.Unmarshal(body, &fields); err != nil || len(fields.ItemKey) != 18 {
		return Delivery{}, "", errors.New("the body has no 18-digit itemKey")
	}
	h := http.Header{}
	for k, v := range ev.Headers {
		switch strings.ToLower(k) {
		case "host", "content-length", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto", "x-amzn-trace-id":
			continue // the transport's, or API Gateway's own
		}
		h.Set(k, v)
	}
	return Delivery{Name: filepath.Base(path), Header: h, Body: body}, fields.ItemKey, nil
}

// For returns the story as cashbill number n: a fresh 18-digit itemKey made
// of run and n, and message ids made unique the same way.
func (s Story) For(run, n int) []Delivery {
	itemKey := fmt.Sprintf("%06d%012d", run%1_000_000, n)
	out := make([]Delivery, len(s.Deliveries))
	for i, d := range s.Deliveries {
		h := d.Header.Clone()
		if mid := h.Get("Pb-Webhook-Mid"); mid != "" {
			h.Set("Pb-Webhook-Mid", fmt.Sprintf("%s-%d-%d", mid, run, n))
		}
		out[i] = Delivery{Name: d.Name, Header: h, Body: bytes.ReplaceAll(d.Body, []byte(s.ItemKey), []byte(itemKey))}
	}
	return out
}

// Config is one run: N deliveries to URL over Workers concurrent workers.
type Config struct {
	URL        string
	Deliveries int
	Workers    int
	Run        int // makes itemKeys unique across runs on one state file
	Client     *http.Client
}

// Report is what a run measured. Errors counts transport failures and
// answers other than 200.
type Report struct {
	Sent          int
	Errors        int
	Statuses      map[int]int
	Elapsed       time.Duration
	P50, P99, Max time.Duration
}

// PerSecond is deliveries per second over the whole run.
func (r Report) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

func (r Report) String() string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
	return fmt.Sprintf("deliveries %d in %.2f s: %.0f deliveries/s; latency p50 %s, p99 %s, max %s; errors %d (statuses %v)",
		r.Sent, r.Elapsed.Seconds(), r.PerSecond(), ms(r.P50), ms(r.P99), ms(r.Max), r.Errors, r.Statuses)
}

// Run sends cfg.Deliveries deliveries, story after story (each story by one
// worker, in order), cfg.Workers at a time, and reports.
func Run(ctx context.Context, cfg Config, stories []Story) (Report, error) {
	if cfg.Deliveries <= 0 || cfg.Workers <= 0 || len(stories) == 0 {
		return Report{}, errors.New("loadgen: needs deliveries > 0, workers > 0 and at least one story")
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Workers}}
	}
	var (
		next, sent atomic.Int64
		mu         sync.Mutex
		latencies  = make([]time.Duration, 0, cfg.Deliveries)
		statuses   = map[int]int{}
		errs       int
		wg         sync.WaitGroup
	)
	record := func(d time.Duration, status int) {
		mu.Lock()
		defer mu.Unlock()
		latencies = append(latencies, d)
		statuses[status]++
		if status != http.StatusOK {
			errs++
		}
	}
	start := time.Now()
	for range cfg.Workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				n := int(next.Add(1) - 1)
				for _, d := range stories[n%len(stories)].For(cfg.Run, n) {
					if sent.Add(1) > int64(cfg.Deliveries) {
						return
					}
					t0 := time.Now()
					status := post(ctx, client, cfg.URL, d)
					record(time.Since(t0), status)
				}
			}
		})
	}
	wg.Wait()
	r := Report{Sent: len(latencies), Errors: errs, Statuses: statuses, Elapsed: time.Since(start)}
	if r.Sent > 0 {
		slices.Sort(latencies)
		r.P50, r.P99, r.Max = percentile(latencies, 50), percentile(latencies, 99), latencies[len(latencies)-1]
	}
	return r, ctx.Err()
}

// post sends d and returns the status, 0 when no answer came.
func post(ctx context.Context, client *http.Client, url string, d Delivery) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.Body))
	if err != nil {
		return 0
	}
	req.Header = d.Header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body) // so the connection is reused
	return resp.StatusCode
}

// percentile is the nearest-rank percentile of sorted, which is not empty.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}
