// Package alerttest is the contract every alert.Publisher adapter passes: the
// SNS one against moto_server, the console one on a buffer.
package alerttest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
)

// Harness is a publisher and a way to read what its subscribers received,
// each delivery as text that carries the alert's content.
type Harness struct {
	Publisher alert.Publisher
	Received  func(t *testing.T) []string
}

// Failure is a sample NTS filing failure.
func Failure(itemKey string) alert.Failure {
	return alert.Failure{
		ItemKey: itemKey, FranchiseCorpNum: "6798700433", MgtKey: "20221221-001",
		ConfirmNum: "TB0001146", TradeDate: "20221221", StateCode: 305,
		NTSResultCode: "TS4", NTSResultDT: "20221222100033", EventDT: "20221222100033",
		EventType: "NTS", MID: "016120000002-1777d55c2c41492ab06826d",
		Kind: alert.KindFailure, AlertID: alert.ID(itemKey, alert.KindFailure),
	}
}

// Presentation is the sample deployment every golden file is rendered for:
// prod, with a display name for the sample business and its logs in Seoul.
func Presentation() alert.Presentation {
	return alert.Presentation{
		Environment:   "prod",
		BusinessNames: map[string]string{"6798700433": "가나다상사"},
		Region:        "ap-northeast-2",
		LogGroup:      "/aws/lambda/popbill-webhook-prod-WebhookFunction",
	}
}

// Run checks the contract of alert.Publisher.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("each publish is delivered once with its content and an id", func(t *testing.T) {
		h := newHarness(t)
		keys := []string{"022122116191200001", "022122116191200002"}
		ids := map[string]bool{}
		for _, k := range keys {
			id, err := h.Publisher.Publish(context.Background(), Failure(k))
			if err != nil {
				t.Fatalf("Publish(%s): %v", k, err)
			}
			if id == "" || ids[id] {
				t.Errorf("Publish(%s) returned id %q: want a new, non-empty id", k, id)
			}
			ids[id] = true
		}
		got := h.Received(t)
		if len(got) != len(keys) {
			t.Fatalf("subscriber received %d messages, want %d: %q", len(got), len(keys), got)
		}
		for i, k := range keys {
			if !strings.Contains(got[i], k) || !strings.Contains(got[i], "TS4") {
				t.Errorf("message %d does not carry itemKey %s and result code TS4: %q", i, k, got[i])
			}
		}
	})

	t.Run("a cancelled request is an error and delivers nothing", func(t *testing.T) {
		h := newHarness(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := h.Publisher.Publish(ctx, Failure("022122116191200003")); err == nil {
			t.Fatal("Publish with a cancelled context succeeded")
		}
		if got := h.Received(t); len(got) != 0 {
			t.Errorf("subscriber received %d messages after a failed publish", len(got))
		}
	})
}

// RenderCase is an alert variant whose renderings (email, Slack) are kept as
// golden files named after it.
type RenderCase struct {
	Name string
	Edit func(*alert.Failure)
}

// RenderCases are the variants every channel's rendering is checked with.
var RenderCases = []RenderCase{
	{"known-code", func(*alert.Failure) {}},
	{"unknown-code", func(f *alert.Failure) { f.NTSResultCode = "TS99" }},
	{"missing-mgtkey", func(f *alert.Failure) { f.MgtKey = "" }},
	{"hangul-in-fields", func(f *alert.Failure) { f.MgtKey = "영수증-001"; f.NTSResultCode = "오류" }},
	{"overdue", func(f *alert.Failure) {
		*f = alert.Failure{
			ItemKey: f.ItemKey, FranchiseCorpNum: f.FranchiseCorpNum, MgtKey: f.MgtKey, ConfirmNum: f.ConfirmNum,
			TradeDate: f.TradeDate, StateCode: 300, EventDT: "20221221161912", EventType: "Issue",
			IssueDT: "20221221161912", MID: f.MID, Kind: alert.KindOverdue, AlertID: alert.ID(f.ItemKey, alert.KindOverdue),
		}
	}},
	{"digest", func(f *alert.Failure) { *f = Digest(37) }},
}

// Digest is a sample digest alert of n rejections of the sample business in
// the window 2022-12-22 10:00-10:10 KST, after 5 sent one by one: most TS4,
// every seventh TS1, one unknown code.
func Digest(n int) alert.Failure {
	start := time.Date(2022, 12, 22, 10, 0, 0, 0, time.FixedZone("KST", 9*60*60))
	d := alert.Digest{WindowStart: start, WindowEnd: start.Add(10 * time.Minute), SentIndividually: 5}
	for i := range n {
		code := "TS4"
		switch {
		case i == 3:
			code = "TS99"
		case i%7 == 0:
			code = "TS1"
		}
		d.Entries = append(d.Entries, alert.DigestEntry{
			ItemKey: fmt.Sprintf("0221222100%08d", i+1), MgtKey: fmt.Sprintf("20221222-%03d", i+1),
			Code: code, Kind: alert.KindFailure,
		})
	}
	return alert.NewDigest("6798700433", "storm#6798700433#20221222T0100Z", d)
}

// Recorder is a publisher that keeps what Next accepted, for adapters whose
// subscribers cannot be read back (the console one).
type Recorder struct {
	Next alert.Publisher
	mu   sync.Mutex
	got  []Published
}

// Published is one alert Next accepted, with its message id.
type Published struct {
	Failure   alert.Failure
	MessageID string
}

// Publish publishes through Next and keeps what it accepted.
func (r *Recorder) Publish(ctx context.Context, f alert.Failure) (string, error) {
	id, err := r.Next.Publish(ctx, f)
	if err == nil {
		r.mu.Lock()
		r.got = append(r.got, Published{f, id})
		r.mu.Unlock()
	}
	return id, err
}

// Drain returns what was published since the last Drain.
func (r *Recorder) Drain() []Published {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}
