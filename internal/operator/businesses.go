package operator

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/awserr"
	"github.com/popbill-cashbill-webhook/receiver/internal/business"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/boltbusiness"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/dynamobusiness"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
)

const businessesSummary = "client businesses: their week (--since 7d), and their Individual Webhook addresses: businesses add|list|revoke|rotate"

const businessesUsage = "businesses [flags] [--since 7d] | businesses add|list|revoke|rotate [flags] ..."

// The business subcommands, each a usage line and a summary.
var businessCommands = []struct{ name, usage, summary string }{
	{"add", "businesses add [flags] CORPNUM", "issue a webhook address for a business and print it, to paste into POPBiLL's 콜백 URL"},
	{"list", "businesses list [flags] [--corp CORPNUM]", "the issued addresses' tokens (by ID, never the token), their business and state"},
	{"revoke", "businesses revoke [flags] TOKEN-ID... | businesses revoke [flags] --corp CORPNUM", "end tokens at once: their addresses are refused from now on"},
	{"rotate", "businesses rotate [flags] --overlap 24h CORPNUM", "issue a new address for a business; its old ones stay valid for the overlap"},
}

func businesses(ctx context.Context, e *Env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "add":
			return businessAdd(ctx, e, args[1:])
		case "list":
			return businessList(ctx, e, args[1:])
		case "revoke":
			return businessRevoke(ctx, e, args[1:])
		case "rotate":
			return businessRotate(ctx, e, args[1:])
		}
	}
	return businessView(ctx, e, args)
}

// tokenFlags are where the token store is: the Target flags, and the table
// and address when named directly.
type tokenFlags struct {
	Target
	table, url string
}

func (e *Env) tokenFlagSet(sub string, f *tokenFlags, asJSON *bool) *flag.FlagSet {
	var usage, summary string
	for _, c := range businessCommands {
		if c.name == sub {
			usage, summary = c.usage, c.summary
		}
	}
	fs := e.flagSet("businesses "+sub, usage, &f.Target, asJSON)
	fs.StringVar(&f.table, "token-table", "", "the business token table (default $"+config.BusinessTokenTable+"; --stack finds it)")
	fs.StringVar(&f.url, "url", "", "the webhook's Common address, https://.../pbconnect, that a business's address extends (--stack and --local find it)")
	fs.Usage = helpWith(fs, usage, summary)
	return fs
}

// tokenSite is an open token store and the address business tokens extend.
type tokenSite struct {
	store   business.Store
	baseURL string
	names   map[string]string
	close   func()
}

// openTokens opens the token store f chooses. write opens the local file
// for writing, creating it when make run has not yet.
func (e *Env) openTokens(ctx context.Context, f tokenFlags, write bool) (*tokenSite, error) {
	getenv := e.Getenv
	if f.Stack == "" && !f.Local.set {
		f.table = or(f.table, getenv(config.BusinessTokenTable))
	}
	names, _, _ := alert.ParseBusinessNames(getenv(config.BusinessNames))
	if f.Stack == "" && f.table == "" {
		path := DefaultLocalFile
		if f.Local.set {
			path = f.Local.path
		}
		return openLocalTokens(path, write, or(f.url, "http://localhost:"+or(getenv("PORT"), "9854")+"/pbconnect"), names)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if f.Stack != "" {
		out, params, err := stackOutputs(ctx, cloudformation.NewFromConfig(cfg), f.Stack)
		if err != nil {
			return nil, err
		}
		if f.table = out["BusinessTokenTableName"]; f.table == "" {
			return nil, exit(ExitFailed, "stack %s has no BusinessTokenTableName output: deploy a version with Individual Webhook addresses", f.Stack)
		}
		f.url = or(f.url, out["WebhookUrl"])
		names, _, _ = alert.ParseBusinessNames(params["BusinessNames"])
	}
	return &tokenSite{store: dynamobusiness.New(dynamodb.NewFromConfig(cfg), f.table), baseURL: f.url, names: names, close: func() {}}, nil
}

func openLocalTokens(path string, write bool, baseURL string, names map[string]string) (*tokenSite, error) {
	if _, err := os.Stat(path); write && errors.Is(err, fs.ErrNotExist) {
		// Addresses may be issued before make run ever ran: create its file.
		s, err := boltstore.Open(path)
		if err != nil {
			return nil, err
		}
		s.Close()
	}
	b, err := OpenLocal(path, write, func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	bs, ok := b.Store.(*boltstore.Store)
	if !ok {
		b.Close()
		return nil, errors.New("the local store is not a bbolt file")
	}
	store, err := boltbusiness.New(bs.DB())
	if err != nil {
		b.Close()
		return nil, err
	}
	return &tokenSite{store: store, baseURL: baseURL, names: names, close: b.Close}, nil
}

// address is the webhook address of token.
func (s *tokenSite) address(token string) string {
	if s.baseURL == "" {
		return "/pbconnect/" + token
	}
	return strings.TrimSuffix(s.baseURL, "/") + "/" + token
}

func (s *tokenSite) name(corp string) string {
	if n := s.names[corp]; n != "" {
		return n
	}
	return "-"
}

// IssuedAddress is what add and rotate print: the only time a token is shown.
type IssuedAddress struct {
	CorpNum string    `json:"corpNum"`
	Name    string    `json:"name,omitempty"`
	TokenID string    `json:"tokenId"`
	URL     string    `json:"url"`
	Created time.Time `json:"createdAt"`
	// Limited are the business's older tokens a rotation let run on until their validUntil.
	Limited []TokenRecord `json:"limited,omitempty"`
}

// TokenRecord is a token as list shows it: never the token itself.
type TokenRecord struct {
	TokenID    string    `json:"tokenId"`
	CorpNum    string    `json:"corpNum"`
	Name       string    `json:"name,omitempty"`
	State      string    `json:"state"`
	Created    time.Time `json:"createdAt"`
	ValidUntil time.Time `json:"validUntil,omitzero"`
	RevokedAt  time.Time `json:"revokedAt,omitzero"`
}

func (s *tokenSite) record(t business.Token, now time.Time) TokenRecord {
	return TokenRecord{TokenID: t.ID(), CorpNum: t.CorpNum, Name: s.names[t.CorpNum], State: t.State(now),
		Created: t.Created, ValidUntil: t.ValidUntil, RevokedAt: t.RevokedAt}
}

// oneCorp reads the single CORPNUM argument.
func oneCorp(fs *flag.FlagSet, pos []string) (string, error) {
	if len(pos) != 1 {
		return "", usageError(fs, "name one business number (10 digits)")
	}
	corp, err := business.Normalise(pos[0])
	if err != nil {
		return "", usageError(fs, "%s", err.Error())
	}
	return corp, nil
}

func businessAdd(ctx context.Context, e *Env, args []string) error {
	var (
		f      tokenFlags
		asJSON bool
	)
	fs := e.tokenFlagSet("add", &f, &asJSON)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	corp, err := oneCorp(fs, pos)
	if err != nil {
		return err
	}
	s, err := e.openTokens(ctx, f, true)
	if err != nil {
		return err
	}
	defer s.close()
	raw, t, err := business.Issue(ctx, s.store, corp, time.Now())
	if err != nil {
		return exit(ExitFailed, "the address could not be issued: %s", awserr.Cause(err))
	}
	return s.printIssued(e.Stdout, asJSON, IssuedAddress{CorpNum: corp, Name: s.names[corp], TokenID: t.ID(), URL: s.address(raw), Created: t.Created}, "")
}

func (s *tokenSite) printIssued(w io.Writer, asJSON bool, a IssuedAddress, note string) error {
	if asJSON {
		return writeJSON(w, a)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "business\t%s %s\n", cashbill.FormatBusinessNumber(a.CorpNum), s.name(a.CorpNum))
	fmt.Fprintf(tw, "token\t%s (its ID; the token itself is in the address and is shown only now)\n", a.TokenID)
	fmt.Fprintf(tw, "address\t%s\n", a.URL)
	for _, l := range a.Limited {
		fmt.Fprintf(tw, "old token\t%s stays valid until %s KST\n", l.TokenID, kst(l.ValidUntil))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nOn the POPBiLL site, as that business: 현금영수증 > Webhook 관리 > Webhook 등록: Webhook 유형 REST,\n콜백 URL the address above, Webhook 인증 미사용."+note)
	if !strings.Contains(a.URL, "://") {
		fmt.Fprintln(w, "Put the API's address (the stack's WebhookUrl, without /pbconnect) in front of it, or pass --url.")
	}
	return nil
}

func businessList(ctx context.Context, e *Env, args []string) error {
	var (
		f      tokenFlags
		asJSON bool
		corp   string
	)
	fs := e.tokenFlagSet("list", &f, &asJSON)
	fs.StringVar(&corp, "corp", "", "only this business number")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fs, "businesses list takes no arguments, only flags")
	}
	corp = strings.ReplaceAll(corp, "-", "")
	s, err := e.openTokens(ctx, f, false)
	if err != nil {
		return err
	}
	defer s.close()
	all, err := s.store.List(ctx)
	if err != nil {
		return exit(ExitFailed, "the token store could not be read: %s", awserr.Cause(err))
	}
	now := time.Now()
	out := []TokenRecord{}
	for _, t := range all {
		if corp == "" || t.CorpNum == corp {
			out = append(out, s.record(t, now))
		}
	}
	slices.SortFunc(out, func(a, b TokenRecord) int {
		return cmp.Or(strings.Compare(a.CorpNum, b.CorpNum), b.Created.Compare(a.Created))
	})
	if asJSON {
		return writeJSON(e.Stdout, out)
	}
	if len(out) == 0 {
		fmt.Fprintln(e.Stdout, "(no address issued: businesses add CORPNUM issues one)")
		return nil
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BUSINESS\tNAME\tTOKEN ID\tSTATE\tCREATED (KST)\tENDS (KST)")
	for _, r := range out {
		ends := kst(r.ValidUntil)
		if !r.RevokedAt.IsZero() {
			ends = kst(r.RevokedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cashbill.FormatBusinessNumber(r.CorpNum), s.name(r.CorpNum), r.TokenID, r.State, kst(r.Created), ends)
	}
	return tw.Flush()
}

func businessRevoke(ctx context.Context, e *Env, args []string) error {
	var (
		f      tokenFlags
		asJSON bool
		corp   string
	)
	fs := e.tokenFlagSet("revoke", &f, &asJSON)
	fs.StringVar(&corp, "corp", "", "revoke every valid token of this business")
	ids, err := parse(fs, args)
	if err != nil {
		return err
	}
	if (len(ids) == 0) == (corp == "") {
		return usageError(fs, "name token IDs (businesses list shows them) or --corp CORPNUM, not both")
	}
	s, err := e.openTokens(ctx, f, true)
	if err != nil {
		return err
	}
	defer s.close()
	now := time.Now()
	var targets []business.Token
	if corp != "" {
		n, err := business.Normalise(corp)
		if err != nil {
			return usageError(fs, "--corp: %s", err.Error())
		}
		if targets, err = business.OfBusiness(ctx, s.store, n, now); err != nil {
			return exit(ExitFailed, "the token store could not be read: %s", awserr.Cause(err))
		}
		if len(targets) == 0 {
			return exit(ExitNotFound, "business %s has no valid address to revoke", cashbill.FormatBusinessNumber(n))
		}
	}
	for _, id := range ids {
		found, err := business.Find(ctx, s.store, id)
		if err != nil {
			return exit(ExitFailed, "the token store could not be read: %s", awserr.Cause(err))
		}
		if len(found) != 1 {
			return exit(ExitNotFound, "no single token with ID %s (%d match): businesses list shows the IDs", cashbill.Clip(id), len(found))
		}
		if !found[0].Valid(now) {
			return exit(ExitNotFound, "token %s is already %s: nothing to revoke", found[0].ID(), found[0].State(now))
		}
		targets = append(targets, found[0])
	}
	out := []TokenRecord{}
	for _, t := range targets {
		if err := s.store.Revoke(ctx, t.Hash, now); err != nil {
			return exit(ExitFailed, "token %s could not be revoked: %s", t.ID(), awserr.Cause(err))
		}
		t, _, err := s.store.Get(ctx, t.Hash)
		if err != nil {
			return exit(ExitFailed, "the token store could not be read: %s", awserr.Cause(err))
		}
		out = append(out, s.record(t, now))
	}
	if asJSON {
		return writeJSON(e.Stdout, out)
	}
	for _, r := range out {
		fmt.Fprintf(e.Stdout, "revoked %s of %s %s at %s KST: its address is refused from now on\n", r.TokenID, cashbill.FormatBusinessNumber(r.CorpNum), s.name(r.CorpNum), kst(r.RevokedAt))
	}
	return nil
}

func businessRotate(ctx context.Context, e *Env, args []string) error {
	var (
		f           tokenFlags
		asJSON      bool
		overlapText string
	)
	fs := e.tokenFlagSet("rotate", &f, &asJSON)
	fs.StringVar(&overlapText, "overlap", "24h", "how long the business's old addresses stay valid beside the new one: a duration such as 24h or 7d (0: they end now)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	corp, err := oneCorp(fs, pos)
	if err != nil {
		return err
	}
	var overlap time.Duration
	if overlapText != "0" {
		if overlap, err = durationFlag(fs, "overlap", overlapText); err != nil {
			return err
		}
	}
	s, err := e.openTokens(ctx, f, true)
	if err != nil {
		return err
	}
	defer s.close()
	now := time.Now()
	raw, t, limited, err := business.Rotate(ctx, s.store, corp, overlap, now)
	if err != nil {
		return exit(ExitFailed, "the address could not be rotated: %s", awserr.Cause(err))
	}
	a := IssuedAddress{CorpNum: corp, Name: s.names[corp], TokenID: t.ID(), URL: s.address(raw), Created: t.Created}
	for _, l := range limited {
		a.Limited = append(a.Limited, s.record(l, now))
	}
	next := fmt.Sprintf("\nPaste it within %s: then the old address is refused.", overlapText)
	switch {
	case len(limited) == 0:
		next = "\nThe business had no valid address: this is now its only one."
	case overlap == 0:
		next = "\nThe old address is refused from now on: paste this one into POPBiLL now."
	}
	return s.printIssued(e.Stdout, asJSON, a, next)
}
