package localserver

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/business"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/boltbusiness"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
)

// issueLocal issues a token for corp in the bbolt file at path, as
// cashbill businesses add does with make run stopped.
func issueLocal(t *testing.T, path, corp string) string {
	t.Helper()
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tokens, err := boltbusiness.New(s.DB())
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := business.Issue(context.Background(), tokens, corp, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestLocalReceiverServesEachBusinessItsOwnAddress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	token := issueLocal(t, path, "6798700433")
	srv, _ := serve(t, map[string]string{"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:local-secret", "STATE_FILE": path})
	send := func(path, body string) int {
		t.Helper()
		// As POPBiLL sends an Individual Webhook: no credential.
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Pb-Webhook-Type", "CASHBILL.STATE")
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	other := strings.ReplaceAll(strings.ReplaceAll(nts305, "6798700433", "2208162517"), "022122116191200001", "022122116191200002")
	for _, c := range []struct {
		name, path, body string
		status           int
	}{
		{"the business's event at its address", "/pbconnect/" + token, nts305, 200},
		{"another business's event at that address", "/pbconnect/" + token, other, 403},
		{"an unknown token", "/pbconnect/" + strings.Repeat("A", 43), nts305, 401},
		{"no credential on the Common Webhook", "/pbconnect", nts305, 401},
	} {
		if got := send(c.path, c.body); got != c.status {
			t.Errorf("%s: %d, want %d", c.name, got, c.status)
		}
	}
	if code, _ := item(t, srv, "022122116191200002"); code != 404 {
		t.Errorf("the refused event was stored (GET /items: %d)", code)
	}
	if code, it := item(t, srv, "022122116191200001"); code != 200 || it.Event.StateCode != 305 {
		t.Errorf("the accepted event: %d %+v", code, it)
	}
}
