// Package eventsink shows state-change events on a workstation, with no AWS
// account: the local server announces each increase its store makes, as the
// EventBridge bus would deliver it to a rule's target (statechange.Envelope),
// printed as one JSON line or POSTed to a consumer under development.
package eventsink

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange"
)

// Sink receives each event.
type Sink interface {
	Emit(ctx context.Context, e statechange.Envelope) error
}

// Account and Region stand in for the AWS account and region in a local
// envelope.
const (
	Account = "000000000000"
	Region  = "local"
)

// Console prints each event as one JSON line.
type Console struct {
	mu sync.Mutex
	w  io.Writer
}

// NewConsole prints to w.
func NewConsole(w io.Writer) *Console { return &Console{w: w} }

// Emit writes e as a JSON line.
func (c *Console) Emit(_ context.Context, e statechange.Envelope) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err = c.w.Write(append(b, '\n'))
	return err
}

// HTTP POSTs each event as a JSON body, as an API destination does.
type HTTP struct {
	url    string
	client *http.Client
}

// NewHTTP posts to url.
func NewHTTP(url string) *HTTP {
	return &HTTP{url: url, client: &http.Client{Timeout: 5 * time.Second}}
}

// Emit POSTs e; any answer but 2xx is an error.
func (h *HTTP) Emit(ctx context.Context, e statechange.Envelope) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the events URL answered %s", resp.Status)
	}
	return nil
}

// Announcing is a store that hands each increase it stores to a sink, after
// the write. A sink that fails is logged and does not fail the delivery: the
// webhook's answer never waits on the events, in AWS either.
type Announcing struct {
	state.Store
	sink Sink
	log  *slog.Logger
	now  func() time.Time
}

// Announce wraps store.
func Announce(store state.Store, sink Sink, log *slog.Logger) *Announcing {
	return &Announcing{Store: store, sink: sink, log: log, now: time.Now}
}

// Apply is the store's Apply, then the event of a stored increase.
func (a *Announcing) Apply(ctx context.Context, d state.Delivery) (state.Result, error) {
	res, err := a.Store.Apply(ctx, d)
	if err != nil {
		return res, err
	}
	if detail, ok := statechange.Applied(d, res); ok {
		e := statechange.Wrap(detail, newID(), Account, Region, a.now())
		if err := a.sink.Emit(ctx, e); err != nil {
			a.log.WarnContext(ctx, "state-change event not delivered", "itemKey", detail.ItemKey, "stateCode", detail.StateCode, "cause", "the events sink failed (EVENTS_URL unreachable or not 2xx)")
		}
	}
	return res, nil
}

// newID is a random event id in the form EventBridge gives (a UUID).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
