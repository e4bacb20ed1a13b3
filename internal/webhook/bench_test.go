package webhook_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// BenchmarkHandle measures the handler's own CPU and allocations per event,
// on the embedded store so that no network is in the figure: verify, parse,
// conditional write, respond, log.
func BenchmarkHandle(b *testing.B) {
	cases := []struct {
		name  string
		state func(i int) (string, int)
	}{
		{"new cashbill stored", func(i int) (string, int) { return fmt.Sprintf("0221221%011d", i), 300 }},
		{"duplicate acknowledged", func(int) (string, int) { return "022122100000000001", 300 }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			store, err := boltstore.Open(filepath.Join(b.TempDir(), "state.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			v, _ := auth.New(auth.Basic, credential)
			h := webhook.New(webhook.Rules{Auth: v}, store, outbox.New(store, consolealert.New(io.Discard), nil, outbox.Settings{}), slog.New(slog.NewJSONHandler(io.Discard, nil)))
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				key, sc := tc.state(i)
				resp, _ := h.Handle(ctx, request("mid", body(key, sc, nil), nil))
				if resp.StatusCode != 200 {
					b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
				}
			}
		})
	}
}
