// Package consolealert is the local adapter of the alert port: it prints each
// alert, as an email subscriber would read it, so that `make run` shows what
// production would send without an AWS account.
package consolealert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sync"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
)

// Publisher writes alerts to w.
type Publisher struct {
	mu  sync.Mutex
	w   io.Writer
	tag string
	n   int
}

var _ alert.Publisher = (*Publisher)(nil)

// New returns a publisher that writes to w. Its message ids,
// local-<tag>-<n>, carry a random tag of its own, so that the receiver's
// and the cashbill tool's ids never repeat each other's (SNS's are unique).
func New(w io.Writer) *Publisher {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return &Publisher{w: w, tag: hex.EncodeToString(b[:])}
}

// Publish prints f and returns a local message id.
func (p *Publisher) Publish(ctx context.Context, f alert.Failure) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	id := fmt.Sprintf("local-%s-%d", p.tag, p.n)
	_, err := fmt.Fprintf(p.w, "\n=== ALERT %s ===\nSubject: %s\n\n%s\n=== end of alert ===\n\n", id, alert.Subject(f), alert.EmailText(f))
	if err != nil {
		return "", fmt.Errorf("consolealert: write: %w", err)
	}
	return id, nil
}
