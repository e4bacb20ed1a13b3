package webhook_test

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/boltarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/business"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/boltbusiness"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

const (
	corpA = "6798700433" // the business of the request helper's body
	corpB = "2208162517"
)

// individual is a handler serving both routes, its token store and archive
// in the same bbolt file, with a settable clock for the tokens.
type individual struct {
	h      *webhook.Handler
	store  *boltstore.Store
	tokens *boltbusiness.Store
	arch   *boltarchive.Archive
	logs   *lockedBuffer
	now    time.Time
}

func newIndividual(t *testing.T, rules func(*webhook.Rules)) *individual {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tokens, err := boltbusiness.New(s.DB())
	if err != nil {
		t.Fatal(err)
	}
	arch, err := boltarchive.New(s.DB())
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.New(auth.Basic, credential)
	if err != nil {
		t.Fatal(err)
	}
	in := &individual{store: s, tokens: tokens, arch: arch, logs: &lockedBuffer{}, now: time.Now()}
	r := webhook.Rules{Auth: v}
	if rules != nil {
		rules(&r)
	}
	in.h = webhook.New(r, s, outbox.New(s, consolealert.New(&lockedBuffer{}), nil, outbox.Settings{}), slog.New(slog.NewJSONHandler(in.logs, nil)),
		webhook.WithArchive(arch, 0), webhook.WithBusinessTokens(business.NewResolver(tokens, func() time.Time { return in.now })))
	return in
}

func (in *individual) issue(t *testing.T, corp string) (string, business.Token) {
	t.Helper()
	raw, tok, err := business.Issue(context.Background(), in.tokens, corp, in.now)
	if err != nil {
		t.Fatal(err)
	}
	return raw, tok
}

// toAddress is req sent to the Individual Webhook route of token, as POPBiLL
// sends it there: with Webhook 인증 미사용, no credential.
func toAddress(token string, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPRequest {
	delete(req.Headers, "authorization")
	req.RouteKey, req.RawPath = "POST /pbconnect/{token}", "/pbconnect/"+token
	req.RequestContext.HTTP.Path = req.RawPath
	req.PathParameters = map[string]string{webhook.TokenParameter: token}
	return req
}

func (in *individual) send(t *testing.T, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, archive.Delivery) {
	t.Helper()
	resp, err := in.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	lines := in.logs.lines(t)
	id, _ := lines[len(lines)-1]["deliveryId"].(string)
	d, found, err := in.arch.Get(context.Background(), id)
	if err != nil || !found {
		t.Fatalf("delivery %q not archived: %v", id, err)
	}
	return resp, d
}

func TestIndividualWebhookAddressAcceptsOnlyItsOwnBusiness(t *testing.T) {
	const key = "022122116191200501"
	cases := []struct {
		name string
		// token picks the address: "A" and "B" are the businesses' tokens,
		// others are sent as they are.
		token  string
		fields map[string]any
		header map[string]string
		// setup runs before the request (revocation, rotation, the clock).
		setup      func(t *testing.T, in *individual, tokens map[string]business.Token)
		status     int
		stored     bool
		credential string
	}{
		{name: "right business: stored", token: "A", status: 200, stored: true, credential: "A"},
		{name: "right business with only the deprecated corpNum: stored", token: "A", fields: map[string]any{"franchiseCorpNum": nil}, status: 200, stored: true, credential: "A"},
		{name: "another business's event at A's address: refused, nothing stored", token: "A",
			fields: map[string]any{"corpNum": corpB, "franchiseCorpNum": corpB}, header: map[string]string{"pb-webhook-corpnum": corpB}, status: 403},
		{name: "franchiseCorpNum of another business: refused", token: "A", fields: map[string]any{"franchiseCorpNum": corpB}, header: map[string]string{"pb-webhook-corpnum": ""}, status: 403},
		{name: "corpNum of another business: refused", token: "A", fields: map[string]any{"corpNum": corpB}, status: 403},
		{name: "A's event at B's address: refused", token: "B", status: 403},
		{name: "unknown token", token: "Yk9uZS1vZi10aGVzZS1pcy1hLXRva2VuLWF0LWFsbC0", status: 401},
		{name: "malformed token", token: "not-a-token", status: 401},
		{name: "revoked token", token: "A", status: 401, setup: func(t *testing.T, in *individual, tok map[string]business.Token) {
			if err := in.tokens.Revoke(context.Background(), tok["A"].Hash, in.now); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "old token within the rotation overlap: stored", token: "A", status: 200, stored: true, credential: "A", setup: func(t *testing.T, in *individual, _ map[string]business.Token) {
			if _, _, _, err := business.Rotate(context.Background(), in.tokens, corpA, 24*time.Hour, in.now); err != nil {
				t.Fatal(err)
			}
			in.now = in.now.Add(23 * time.Hour)
		}},
		{name: "old token after the rotation overlap", token: "A", status: 401, setup: func(t *testing.T, in *individual, _ map[string]business.Token) {
			if _, _, _, err := business.Rotate(context.Background(), in.tokens, corpA, 24*time.Hour, in.now); err != nil {
				t.Fatal(err)
			}
			in.now = in.now.Add(25 * time.Hour)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := newIndividual(t, nil)
			rawA, tokA := in.issue(t, corpA)
			rawB, tokB := in.issue(t, corpB)
			tokens := map[string]business.Token{"A": tokA, "B": tokB}
			if c.setup != nil {
				c.setup(t, in, tokens)
			}
			token := map[string]string{"A": rawA, "B": rawB}[c.token]
			if token == "" {
				token = c.token
			}
			resp, d := in.send(t, toAddress(token, request("m-"+c.token, body(key, 305, c.fields), c.header)))
			if resp.StatusCode != c.status {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, resp.Body, c.status)
			}
			if _, found := mustGet(t, in, key); found != c.stored {
				t.Errorf("stored = %v, want %v", found, c.stored)
			}
			switch c.status {
			case 401:
				if resp.Body != webhook.UnknownTokenMessage {
					t.Errorf("body %q, want the one answer to every invalid token", resp.Body)
				}
			case 403:
				if !strings.Contains(resp.Body, "this webhook address is for business") || resp.Headers["Content-Type"] != "text/plain; charset=utf-8" {
					t.Errorf("body %q %v, want plain words naming the address's business", resp.Body, resp.Headers)
				}
				if d.Outcome != state.Rejected || d.Authenticated || d.CorpNum != tokens[c.token].CorpNum {
					t.Errorf("archived %+v, want a rejected, unauthenticated delivery of the address's business", d)
				}
			}
			if c.credential != "" && (d.Credential != "token "+tokens[c.credential].ID() || !d.Authenticated || d.CorpNum != corpA) {
				t.Errorf("archived credential %q authenticated %v corp %s, want token %s of %s", d.Credential, d.Authenticated, d.CorpNum, tokens[c.credential].ID(), corpA)
			}
			for _, raw := range []string{rawA, rawB} {
				if strings.Contains(in.logs.String(), raw) || strings.Contains(resp.Body, raw) {
					t.Fatal("a token appears in the log or the answer")
				}
			}
		})
	}
}

func mustGet(t *testing.T, in *individual, key string) (any, bool) {
	t.Helper()
	it, found, err := in.store.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return it, found
}

func TestEveryInvalidTokenGetsTheSameAnswer(t *testing.T) {
	in := newIndividual(t, nil)
	raw, tok := in.issue(t, corpA)
	if err := in.tokens.Revoke(context.Background(), tok.Hash, in.now); err != nil {
		t.Fatal(err)
	}
	never, _ := business.NewToken()
	var answers []string
	for _, token := range []string{raw, never, "x", strings.Repeat("A", 43)} {
		resp, _ := in.send(t, toAddress(token, request("m", body("022122116191200502", 300, nil), nil)))
		answers = append(answers, resp.Body)
		if resp.StatusCode != 401 || resp.Body != answers[0] {
			t.Errorf("token %d: %d %q, want 401 %q", len(answers), resp.StatusCode, resp.Body, answers[0])
		}
	}
}

func TestTheCommonWebhookRouteIsUnchangedBesideTokens(t *testing.T) {
	in := newIndividual(t, nil)
	raw, _ := in.issue(t, corpA)
	// The Common Webhook still takes any business with the credential, and
	// nothing without it.
	resp, d := in.send(t, request("m-1", body("022122116191200503", 300, map[string]any{"corpNum": corpB, "franchiseCorpNum": corpB}), map[string]string{"pb-webhook-corpnum": corpB}))
	wantOK(t, resp)
	if d.Credential != auth.Current {
		t.Errorf("credential %q, want %q", d.Credential, auth.Current)
	}
	resp, _ = in.send(t, request("m-2", body("022122116191200504", 300, nil), map[string]string{"authorization": ""}))
	if resp.StatusCode != 401 || resp.Body == webhook.UnknownTokenMessage {
		t.Errorf("no credential on /pbconnect: %d %q, want the credential's 401", resp.StatusCode, resp.Body)
	}
	// A token is no credential for /pbconnect.
	req := request("m-3", body("022122116191200505", 300, nil), map[string]string{"authorization": "", "x-api-key": raw})
	if resp, _ = in.send(t, req); resp.StatusCode != 401 {
		t.Errorf("a token as the credential of /pbconnect: %d, want 401", resp.StatusCode)
	}
}

func TestTheSourceAllowlistGuardsTheTokenRouteToo(t *testing.T) {
	in := newIndividual(t, func(r *webhook.Rules) { r.AllowedSources = []netip.Prefix{netip.MustParsePrefix("54.180.62.221/32")} })
	raw, _ := in.issue(t, corpA)
	req := toAddress(raw, request("m", body("022122116191200506", 300, nil), nil))
	req.RequestContext.HTTP.SourceIP = "203.0.113.9"
	if resp, _ := in.send(t, req); resp.StatusCode != 403 {
		t.Fatalf("a valid token from outside the allowlist: %d, want 403", resp.StatusCode)
	}
}

func TestWithoutATokenStoreEveryTokenIsUnknown(t *testing.T) {
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, _ := auth.New(auth.Basic, credential)
	h := webhook.New(webhook.Rules{Auth: v}, s, outbox.New(s, consolealert.New(&lockedBuffer{}), nil, outbox.Settings{}), slog.New(slog.NewJSONHandler(&lockedBuffer{}, nil)))
	never, _ := business.NewToken()
	resp, err := h.Handle(context.Background(), toAddress(never, request("m", body("022122116191200507", 300, nil), nil)))
	if err != nil || resp.StatusCode != 401 || resp.Body != webhook.UnknownTokenMessage {
		t.Fatalf("%d %q %v, want 401 and the unknown-token answer", resp.StatusCode, resp.Body, err)
	}
}
