package operator_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/business"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/boltbusiness"
	"github.com/popbill-cashbill-webhook/receiver/internal/operator"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

// tokenSite is a token store the tool manages: resolve answers as the
// webhook would, between two runs of the tool.
type tokenSite struct {
	flags   []string
	resolve func(t *testing.T, token string) (string, error)
}

func localTokenSite(t *testing.T) tokenSite {
	path := filepath.Join(t.TempDir(), "state.db") // not created: add creates it
	return tokenSite{flags: []string{"--local=" + path}, resolve: func(t *testing.T, token string) (string, error) {
		t.Helper()
		s := openLocal(t, path)
		defer s.Close()
		store, err := boltbusiness.New(s.DB())
		if err != nil {
			t.Fatal(err)
		}
		r, err := business.NewResolver(store, nil).Resolve(context.Background(), token)
		return r.CorpNum, err
	}}
}

func TestBusinessAddressesOnTheLocalStore(t *testing.T) {
	addressesIssuedRotatedAndRevoked(t, localTokenSite(t), "http://localhost:9854/pbconnect/")
}

func TestBusinessesAddOnAStoreHeldByTheReceiverIsReportedBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if code, _, errOut := run(t, "businesses", "add", "--local="+path, "6798700433"); code != operator.ExitBusy {
		t.Errorf("exit %d %q, want %d", code, errOut, operator.ExitBusy)
	}
}

// addressesIssuedRotatedAndRevoked is a partner's life with two client
// businesses' addresses: add, list, rotate with an overlap, revoke.
func addressesIssuedRotatedAndRevoked(t *testing.T, site tokenSite, base string) {
	t.Helper()
	tool := func(args ...string) (int, string, string) {
		t.Helper()
		return run(t, append(args, site.flags...)...)
	}
	issue := func(sub string, args ...string) operator.IssuedAddress {
		t.Helper()
		code, out, errOut := tool(append([]string{"businesses", sub, "--json"}, args...)...)
		var a operator.IssuedAddress
		if code != operator.ExitOK || json.Unmarshal([]byte(out), &a) != nil {
			t.Fatalf("businesses %s: exit %d, %q %q", sub, code, out, errOut)
		}
		if !strings.HasPrefix(a.URL, base) {
			t.Fatalf("address %q, want it under %s", a.URL, base)
		}
		return a
	}
	tokenOf := func(a operator.IssuedAddress) string { return a.URL[strings.LastIndex(a.URL, "/")+1:] }
	valid := func(a operator.IssuedAddress, want bool) {
		t.Helper()
		corp, err := site.resolve(t, tokenOf(a))
		switch {
		case want && (err != nil || corp != a.CorpNum):
			t.Fatalf("token %s: %q, %v; want business %s", a.TokenID, corp, err, a.CorpNum)
		case !want && !errors.Is(err, business.ErrUnknown):
			t.Fatalf("token %s: %q, %v; want it refused", a.TokenID, corp, err)
		}
	}

	// add prints the address to paste into POPBiLL, in words too.
	code, out, _ := tool("businesses", "add", "679-87-00433")
	if code != operator.ExitOK || !strings.Contains(out, base) || !strings.Contains(out, "콜백 URL") || !strings.Contains(out, "미사용") {
		t.Fatalf("businesses add: exit %d\n%s", code, out)
	}
	a1 := issue("add", "6798700433")
	b := issue("add", "2208162517")
	valid(a1, true)
	valid(b, true)

	// list names each token by its ID, never the token.
	code, out, _ = tool("businesses", "list")
	if code != operator.ExitOK || !strings.Contains(out, a1.TokenID) || !strings.Contains(out, "220-81-62517") || strings.Contains(out, tokenOf(a1)) {
		t.Fatalf("businesses list: exit %d\n%s", code, out)
	}

	// rotate: the old addresses stay valid for the overlap beside the new one
	// (in the one duration syntax of every flag: 1d is 24h).
	a2 := issue("rotate", "--overlap", "1d", "6798700433")
	if len(a2.Limited) != 2 {
		t.Fatalf("rotate limited %d old tokens, want the 2 of business A", len(a2.Limited))
	}
	valid(a1, true)
	valid(a2, true)
	var listed []operator.TokenRecord
	code, out, _ = tool("businesses", "list", "--json", "--corp", "6798700433")
	if code != operator.ExitOK || json.Unmarshal([]byte(out), &listed) != nil || len(listed) != 3 {
		t.Fatalf("businesses list --corp: exit %d\n%s", code, out)
	}
	states := map[string]string{}
	for _, r := range listed {
		states[r.TokenID] = r.State
	}
	if states[a1.TokenID] != "rotating" || states[a2.TokenID] != "active" {
		t.Errorf("states %v, want the old token rotating and the new one active", states)
	}

	// revoke by ID ends one address at once; --corp ends all of a business's.
	if code, out, errOut := tool("businesses", "revoke", a2.TokenID); code != operator.ExitOK || !strings.Contains(out, "revoked "+a2.TokenID) {
		t.Fatalf("revoke: exit %d %q %q", code, out, errOut)
	}
	valid(a2, false)
	valid(a1, true)
	if code, _, errOut := tool("businesses", "revoke", "--corp", "6798700433"); code != operator.ExitOK {
		t.Fatalf("revoke --corp: exit %d %q", code, errOut)
	}
	valid(a1, false)
	valid(b, true) // another business's address is untouched

	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"an unknown token ID", []string{"businesses", "revoke", "ffffffffffff"}, operator.ExitNotFound},
		{"a business without valid addresses", []string{"businesses", "revoke", "--corp", "6798700433"}, operator.ExitNotFound},
		{"a business number that is not 10 digits", []string{"businesses", "add", "12345"}, operator.ExitUsage},
		{"rotate without a business", []string{"businesses", "rotate"}, operator.ExitUsage},
		{"a negative overlap", []string{"businesses", "rotate", "--overlap", "-1h", "6798700433"}, operator.ExitUsage},
		{"an overlap without a unit", []string{"businesses", "rotate", "--overlap", "5", "6798700433"}, operator.ExitUsage},
		{"a token ID already revoked", []string{"businesses", "revoke", a2.TokenID}, operator.ExitNotFound},
	} {
		if code, _, errOut := tool(c.args...); code != c.code {
			t.Errorf("%s: exit %d %q, want %d", c.name, code, errOut, c.code)
		}
	}
}

func TestBusinessAndRouteCommandsHaveHelpAndUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{"businesses"}, {"businesses", "add"}, {"businesses", "list"}, {"businesses", "revoke"}, {"businesses", "rotate"},
		{"routes", "add"}, {"routes", "list"}, {"routes", "remove"}} {
		name := strings.Join(args, " ")
		if code, _, errOut := run(t, append(args, "--help")...); code != operator.ExitOK || !strings.Contains(errOut, "Usage: cashbill "+name) {
			t.Errorf("%s --help: exit %d\n%s", name, code, errOut)
		}
		if code, _, _ := run(t, append(args, "--no-such-flag")...); code != operator.ExitUsage {
			t.Errorf("%s --no-such-flag: exit %d, want %d", name, code, operator.ExitUsage)
		}
	}
	if code, _, errOut := run(t, "routes", "--help"); code != operator.ExitOK || !strings.Contains(errOut, "routes add") {
		t.Errorf("routes --help: exit %d\n%s", code, errOut)
	}
	if code, _, _ := run(t, "routes", "frobnicate"); code != operator.ExitUsage {
		t.Errorf("routes frobnicate: exit %d, want %d", code, operator.ExitUsage)
	}
}

// TestREADMEShowsEveryBusinessAndRouteSubcommand keeps the For partners
// section in step with the commands.
func TestREADMEShowsEveryBusinessAndRouteSubcommand(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(modroot.Dir(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, partners, ok := strings.Cut(string(readme), "\n## For partners\n")
	if !ok {
		t.Fatal("README.md has no For partners section")
	}
	for _, c := range []string{"cashbill businesses add", "cashbill businesses list", "cashbill businesses rotate", "cashbill businesses revoke",
		"cashbill businesses --since", "cashbill routes add", "cashbill routes list", "cashbill routes remove", "--overlap 24h",
		"--corp '*' --email", "--corp '*' --slack"} {
		if !strings.Contains(partners, c) {
			t.Errorf("For partners does not show %s", c)
		}
	}
	// POPBiLL's own menu words, as its page gives them.
	for _, w := range []string{"현금영수증 (e-Cashbill) > Webhook 관리", "Webhook 등록 (Webhook Registration)", "Webhook 유형 (Webhook type) as REST",
		"콜백 URL (Call-back URL)", "Webhook 인증 (Webhook authentication) as '미사용' (Not in use)", "global@linkhubcorp.com"} {
		if !strings.Contains(partners, w) {
			t.Errorf("For partners lacks POPBiLL's words %q", w)
		}
	}
}

// TestASettingThatCannotBeRightIsAUsageError: a malformed setting the tool
// reads (BUSINESS_NAMES, ARCHIVE_RETENTION_DAYS) exits 2 in one line, not 1,
// which is for a store or AWS that failed.
func TestASettingThatCannotBeRightIsAUsageError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, c := range []struct{ name, value string }{
		{"BUSINESS_NAMES", "bogus"},
		{"ARCHIVE_RETENTION_DAYS", "-3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(c.name, c.value)
			code, _, errOut := run(t, "businesses", "--local="+path)
			if code != operator.ExitUsage || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("%s=%s: exit %d %q, want %d in one line", c.name, c.value, code, errOut, operator.ExitUsage)
			}
		})
	}
}
