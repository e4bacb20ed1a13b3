package outbox

import (
	"context"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
)

// Storm windows are items of their own in the state store's table (a
// window's digest carries the alerts of a storm of one business's failures;
// the alert slot on each cashbill's item says which window, as
// state.AlertDigested). Their port is the outbox's, which routes alerts
// through them and publishes their digests.

// The statuses of a storm window.
const (
	// WindowOpen: entries are still added (empty status).
	WindowOpen = ""
	// WindowClosed: a sweeper took the window to publish its digest; a late
	// entry goes to the next window.
	WindowClosed = "closed"
	// WindowSent: the digest went out; the members are being marked sent.
	WindowSent = "sent"
)

// StormEntry is one alert a storm window's digest lists.
// MaxDigestEntries bounds one window's digest. An entry is about 120 bytes
// of JSON, and the digest's SNS message carries the list once per machine
// protocol (four times): 300 entries keep the message far below SNS's
// 256 KiB and the window item below DynamoDB's 400 KB. A window that is full
// sends its further alerts one by one: a storm that large pages more, but
// nothing waits on a digest that could not be published.
const MaxDigestEntries = 300

type StormEntry struct {
	ItemKey string     `json:"itemKey"`
	MgtKey  string     `json:"mgtKey,omitempty"`
	Code    string     `json:"code,omitempty"`
	Kind    alert.Kind `json:"kind,omitempty"`
}

// Window is a business's storm window as stored: an item of its own in the
// state table, under WindowKey (never an 18-digit itemKey, so it cannot
// collide with a cashbill).
type Window struct {
	Key     string    `json:"key"`
	CorpNum string    `json:"corpNum"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	// SentKeys are the itemKeys published one by one in the window: at most
	// the threshold.
	SentKeys []string `json:"sentKeys,omitempty"`
	// Entries are the digested alerts in arrival order, each itemKey once.
	Entries   []StormEntry `json:"entries,omitempty"`
	Status    string       `json:"status,omitempty"`
	MessageID string       `json:"messageId,omitempty"`
}

// WindowKey is the key of corp's window starting at start: storm#<corp>#<start UTC>.
func WindowKey(corp string, start time.Time) string {
	return "storm#" + corp + "#" + start.UTC().Format("20060102T1504Z")
}

// WindowStart is the start of the clock-aligned window of size that holds t.
func WindowStart(t time.Time, size time.Duration) time.Time { return t.UTC().Truncate(size) }

// Routed is what RouteAlert did.
type Routed struct {
	// Digested: the alert went into the window's digest; false: publish it
	// one by one.
	Digested bool
	// WindowKey is the window the alert was counted in.
	WindowKey string
}

// StormRouter is what the webhook's sender needs of the storm windows: it
// routes each failure alert through RouteAlert before publishing it.
type StormRouter interface {
	// RouteAlert counts e's failure alert, whose lease owner holds, in the
	// window of corp that starts at start and lasts size. While fewer than
	// threshold alerts went out one by one in it (or e's itemKey is one of
	// them: a retry), the answer is to publish it. Otherwise e is added to the
	// window's digest (once per itemKey), the window is put in state.QueueDigest due
	// at its end, and the item's alert becomes state.AlertDigested with the window,
	// out of the alert queue, in that order: nothing is lost between the
	// writes. A window already closed sends e to the next one.
	RouteAlert(ctx context.Context, corp string, start time.Time, size time.Duration, threshold int, owner string, e StormEntry) (Routed, error)
}

// Storms is the store of storm windows as the sweeper uses it: it publishes
// the digests of the windows that ended.
type Storms interface {
	StormRouter
	// DueWindows returns up to limit windows of state.QueueDigest that ended at or
	// before through, earliest first.
	DueWindows(ctx context.Context, through time.Time, limit int) ([]Window, error)
	// ClaimWindow closes the window to new entries and takes it for owner
	// until now+lease; a window already sent is returned as it is (its
	// members still need marking). false: another owner holds it, or it is
	// not owed.
	ClaimWindow(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (Window, bool, error)
	// MarkWindowSent records owner's publish of the window's digest.
	MarkWindowSent(ctx context.Context, key, owner, messageID string) error
	// MarkDigestedSent records the digest's publish on a member item still
	// digested into windowKey; on any other item it changes nothing.
	MarkDigestedSent(ctx context.Context, itemKey, windowKey, messageID string, at time.Time) error
	// FinishWindow takes a sent window out of state.QueueDigest.
	FinishWindow(ctx context.Context, key string) error
}
