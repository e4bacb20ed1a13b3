package sweeper

import "github.com/popbill-cashbill-webhook/receiver/internal/outbox"

// WithStorms has the sweeper publish the digest of each storm window of
// storms once the window has ended (its outbox routes the alerts it
// publishes through the same windows).
func (s *Sweeper) WithStorms(storms outbox.Storms) *Sweeper {
	c := *s
	c.storms = storms
	return &c
}
