package operator_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/operator"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/statetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// twoBusinessesWeek is the scenario every site runs for businesses --since:
// business A has an Issue long past its NTS-result deadline and an NTS
// failure whose alert could not be published; business B's event is refused
// (not among the allowed businesses); a caller with a wrong credential is
// refused before its business is known. Then the partner looks at the week.
func twoBusinessesWeek(t *testing.T, s site) {
	const corpA, corpB = "6798700433", "2208162517"
	t.Setenv("BUSINESS_NAMES", corpA+"=가나다상사,1111111111=조용한상점")
	v, err := auth.New(auth.Basic, credential)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	rules := webhook.Rules{Auth: v, AllowedCorpNums: map[string]bool{corpA: true}}
	up := webhook.New(rules, s.store, outbox.New(s.store, s.alerts, nil, outbox.Settings{}), log, webhook.WithArchive(s.rec, 24*time.Hour))
	down := webhook.New(rules, s.store, outbox.New(s.store, failingPublisher{}, nil, outbox.Settings{}), log, webhook.WithArchive(s.rec, 24*time.Hour))
	issued, failed, other := statetest.ItemKey(), statetest.ItemKey(), statetest.ItemKey()
	for _, c := range []struct {
		h      *webhook.Handler
		body   string
		cred   string
		status int
	}{
		{up, body(issued, 300), credential, 200},
		{up, body(failed, 300), credential, 200},
		{down, body(failed, 305), credential, 503},
		{up, strings.ReplaceAll(body(other, 300), corpA, corpB), credential, 403},
		{up, body(other, 300), "popbill:wrong", 401},
	} {
		resp, _ := c.h.Handle(context.Background(), request("m-"+c.body[len(c.body)-20:], c.body, c.cred))
		if resp.StatusCode != c.status {
			t.Fatalf("delivery: %d %s, want %d", resp.StatusCode, resp.Body, c.status)
		}
	}
	s.done()

	code, out, errOut := run(t, append([]string{"businesses", "--since", "7d", "--json"}, s.flags...)...)
	var view operator.BusinessView
	if code != operator.ExitOK || json.Unmarshal([]byte(out), &view) != nil {
		t.Fatalf("businesses --json: exit %d %q\n%s", code, errOut, out)
	}
	got := map[string]operator.BusinessWeek{}
	for _, r := range view.Businesses {
		got[r.CorpNum] = r
		r.LastDelivery = time.Time{}
	}
	want := map[string]operator.BusinessWeek{
		corpA:        {CorpNum: corpA, Name: "가나다상사", Deliveries: 3, Refused: 0, NTSFailures: 1, AlertsOwed: 1, OverdueResults: 1},
		corpB:        {CorpNum: corpB, Deliveries: 1, Refused: 1},
		"":           {Deliveries: 1, Refused: 1},
		"1111111111": {CorpNum: "1111111111", Name: "조용한상점"},
	}
	if len(got) != len(want) {
		t.Errorf("businesses %v, want %d rows", view.Businesses, len(want))
	}
	for corp, w := range want {
		g := got[corp]
		if (corp == corpA || corp == corpB) && (g.LastDelivery.IsZero() || time.Since(g.LastDelivery) > time.Hour) {
			t.Errorf("%s: last delivery %v, want a moment ago", corp, g.LastDelivery)
		}
		g.LastDelivery = time.Time{}
		if g != w {
			t.Errorf("%q: %+v\nwant %+v", corp, g, w)
		}
	}
	if view.Businesses[0].CorpNum != corpA {
		t.Errorf("first row %s, want the business in the most trouble (%s)", view.Businesses[0].CorpNum, corpA)
	}

	code, out, _ = run(t, append([]string{"businesses"}, s.flags...)...)
	for _, w := range []string{"679-87-00433", "가나다상사", "NTS FAILURES", "ALERTS OWED", "refused before the business was known"} {
		if code != operator.ExitOK || !strings.Contains(out, w) {
			t.Errorf("businesses table lacks %q: exit %d\n%s", w, code, out)
		}
	}
	if code, _, _ := run(t, append([]string{"businesses", "--since", "soon"}, s.flags...)...); code != operator.ExitUsage {
		t.Errorf("--since soon: exit %d, want %d", code, operator.ExitUsage)
	}
}

func TestBusinessesWeekOnTheLocalStore(t *testing.T) { twoBusinessesWeek(t, localSite(t)) }
