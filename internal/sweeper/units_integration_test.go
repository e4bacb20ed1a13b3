//go:build integration

package sweeper_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest/motostack"
)

// units are the DynamoDB units of a span of calls, per table and index, by
// DynamoDB's sizing rules (infra/perf/units.py, through unitsproxy.py).
type units struct {
	WRU map[string]float64 `json:"wru"`
	RRU map[string]float64 `json:"rru"`
	Ops map[string]int     `json:"ops"`
}

func sum(m map[string]float64) (n float64) {
	for _, v := range m {
		n += v
	}
	return n
}

// recordingProxy starts unitsproxy.py in front of moto for table and returns
// a client that goes through it and a function that reads (and resets) the
// units of the calls since its last call.
func recordingProxy(t testing.TB, table string) (*dynamodb.Client, func() units) {
	t.Helper()
	cmd := exec.Command("python3", filepath.Join(modroot.Dir(t), "infra", "perf", "unitsproxy.py"), mototest.Endpoint(t), table)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("unitsproxy.py (needs python3 with boto3 and PyYAML, as make bench does): %v", err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var proxy, control string
	if _, serr := fmt.Sscanf(line, "PROXY %s CONTROL %s", &proxy, &control); err != nil || serr != nil {
		t.Fatalf("unitsproxy.py did not start: %q, %v, %v", line, err, serr)
	}
	client := dynamodb.NewFromConfig(mototest.Config(t), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(proxy) })
	read := func() units {
		t.Helper()
		resp, err := http.Get(control + "/units")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var u units
		if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	return client, read
}

// BenchmarkWatchdogUnits counts the DynamoDB units of the bench's mix
// (make bench-units: 300, 304, a stale 300, a duplicate 304; every fifth
// cashbill 300 and a 305 delivered three times) on 200 cashbills issued on
// one day, delivered that day, then of the sweeper's runs past their
// deadline. It fails if the watchdog writes anything but its watermark for
// cashbills that got their result, and reports the sweeper's units per
// delivery, which make bench-table prices beside the webhook's (about a
// minute on moto):
//
//	infra/with-moto.sh go test -tags integration -run '^$' -bench WatchdogUnits ./internal/sweeper/
func BenchmarkWatchdogUnits(b *testing.B) {
	for b.Loop() {
		watchdogUnits(b)
	}
}

func watchdogUnits(t *testing.B) {
	_, table := motostack.StateTable(t)
	db, read := recordingProxy(t, table)
	queues := dynamostore.NewQueues(db, db, table)
	ctx := context.Background()
	kst := time.FixedZone("KST", 9*60*60)
	issuedAt := time.Date(2026, 11, 27, 16, 19, 38, 0, kst)

	const cashbills = 200
	deliveries := 0
	for i := range cashbills {
		key := statetest.ItemKey()
		codes := []int{300, 304, 300, 304}
		if (i+1)%5 == 0 {
			codes = []int{300, 305, 305, 305}
		}
		for _, sc := range codes {
			d := statetest.Delivery(key, sc, fmt.Sprintf("mid-%d-%d", i, deliveries))
			d.Event.IssueDT, d.Event.EventDT, d.Event.StateDT = "20261127161938", "20261127161938", "20261127161938"
			d.ReceivedAt = issuedAt.Add(time.Minute)
			if sc == 305 {
				// As the webhook: the 305's write claims its alert; it publishes, then marks it.
				d.AlertOwner, d.AlertLeaseUntil = "webhook/units", d.ReceivedAt.Add(outbox.Lease)
			}
			res, err := queues.Apply(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			if res.AlertClaimed {
				if err := queues.MarkAlertSent(ctx, key, "webhook/units", "sns-"+key, d.ReceivedAt); err != nil {
					t.Fatal(err)
				}
			}
			deliveries++
		}
	}
	webhook := read()

	sw := sweeper.New(queues, outbox.New(queues, consolealert.New(io.Discard), nil, outbox.Settings{}), sweeper.Settings{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	deadline := time.Date(2026, 11, 29, 18, 0, 0, 0, kst)
	var raised, known int
	const runs = 4
	for r := range runs {
		rep, err := sw.Run(ctx, deadline.Add(time.Duration(1+5*r)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		raised += rep.OverdueRaised
		known += rep.ResultKnown
	}
	sweep := read()

	if raised != 0 || known != cashbills*4/5 {
		t.Errorf("the sweeper raised %d and found %d with their result, want 0 and %d", raised, known, cashbills*4/5)
	}
	// One write: the watermark's. None for the cashbills that got their result.
	if w := sum(sweep.WRU); w > 1 {
		t.Errorf("the sweeper wrote %.0f units over %d runs (%v), want the watermark's one", w, runs, sweep.WRU)
	}
	t.ReportMetric(sum(sweep.WRU)/float64(deliveries), "sweeper-WRU/delivery")
	t.ReportMetric(sum(sweep.RRU)/float64(deliveries), "sweeper-RRU/delivery")
	per := func(u float64) string { return fmt.Sprintf("%.3f", u/float64(deliveries)) }
	t.Logf("%d deliveries of %d cashbills; units per delivery by DynamoDB's sizing rules:", deliveries, cashbills)
	t.Logf("  deliveries (store calls as the webhook makes them): WRU %s %v, RRU %s", per(sum(webhook.WRU)), perKey(webhook.WRU, deliveries), per(sum(webhook.RRU)))
	t.Logf("  sweeper, %d runs from the deadline: WRU %s %v, RRU %s %v, calls %v", runs, per(sum(sweep.WRU)), perKey(sweep.WRU, deliveries), per(sum(sweep.RRU)), perKey(sweep.RRU, deliveries), sweep.Ops)
}

func perKey(m map[string]float64, n int) string {
	var parts []string
	for k, v := range m {
		where := "table"
		if i := strings.LastIndex(k, "/"); i >= 0 {
			where = "index " + k[i+1:]
		}
		parts = append(parts, fmt.Sprintf("%s=%.3f", where, v/float64(n)))
	}
	return strings.Join(parts, " ")
}
