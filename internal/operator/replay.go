package operator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// Replayed is what replay did with one archived delivery.
type Replayed struct {
	ID       string `json:"id"`
	ItemKey  string `json:"itemKey,omitempty"`
	Original struct {
		Status  int           `json:"status"`
		Outcome state.Outcome `json:"outcome"`
	} `json:"original"`
	// Skipped says why the delivery was not replayed; then Status is 0.
	Skipped string        `json:"skipped,omitempty"`
	DryRun  bool          `json:"dryRun,omitempty"`
	Status  int           `json:"status,omitempty"`
	Outcome state.Outcome `json:"outcome,omitempty"`
	Reason  string        `json:"reason,omitempty"`
	// AlertOwed: a dry run that would store an NTS failure whose alert is then published.
	AlertOwed bool `json:"alertOwed,omitempty"`
	// DeliveryID is the replay's own record in the archive.
	DeliveryID string            `json:"deliveryId,omitempty"`
	Archive    archive.Recording `json:"archive,omitempty"`
}

func replay(ctx context.Context, e *Env, args []string) error {
	var (
		t                       Target
		asJSON, dryRun, anyAuth bool
		w                       windowFlags
		verbose                 bool
		usage, summary          = commandText("replay")
	)
	fs := e.flagSet("replay", usage, &t, &asJSON)
	w.register(fs, "") // --since selects by window instead of IDs
	fs.BoolVar(&dryRun, "dry-run", false, "show what each replay would do, changing nothing")
	fs.BoolVar(&anyAuth, "include-unauthenticated", false,
		"also replay deliveries that failed the credential check: the credential is never archived, so you vouch for them (e.g. after a botched rotation)")
	fs.BoolVar(&verbose, "verbose", false, "print the handler's own log lines on stderr")
	fs.Usage = helpWith(fs, usage, summary+`.
The handler is the webhook's own, with the deployment's allowlists (the stack's parameters, or
ALLOWED_CORPNUMS, ALLOWED_SOURCE_IPS, CHECK_CORPNUM_CHECKSUM locally) and the archived source
address; the credential check is skipped, the operator vouching instead. Each replay is archived
as a new delivery that names the one it replays. An NTS failure it stores is alerted as usual`)
	ids, err := parse(fs, args)
	if err != nil {
		return err
	}
	if (len(ids) == 0) == (w.since == "") {
		return usageError(fs, "give delivery IDs, or --since (with --outcome, --corp) to select them")
	}
	if err := w.check(fs); err != nil {
		return err
	}
	b, err := e.Open(ctx, t, !dryRun)
	if err != nil {
		return err
	}
	defer b.Close()

	var selected []archive.Delivery
	if len(ids) > 0 {
		for _, id := range ids {
			d, found, err := b.Archive.Get(ctx, id)
			if err != nil {
				return err
			}
			if !found {
				return exit(ExitNotFound, "no delivery %s in the archive", id)
			}
			selected = append(selected, d)
		}
	} else {
		if selected, err = b.Archive.Window(ctx, w.query(time.Now())); err != nil {
			return err
		}
		// Oldest first, as they arrived: a later state is then not
		// overtaken by an earlier one (the store would keep it anyway).
		for i, j := 0, len(selected)-1; i < j; i, j = i+1, j-1 {
			selected[i], selected[j] = selected[j], selected[i]
		}
	}
	rules, err := replayRules(ctx, b.Getenv)
	if err != nil {
		return err
	}
	alerts := b.Alerts
	if alerts == nil {
		if !b.Local && !dryRun {
			return exit(ExitUsage, "replay needs the alert topic to publish the alerts it may owe: --topic, ALERT_TOPIC_ARN or --stack")
		}
		alerts = consolealert.New(e.Stderr)
	}
	logs := io.Discard
	if verbose {
		logs = e.Stderr
	}
	log := slog.New(slog.NewJSONHandler(logs, nil))

	var results []Replayed
	refused := false
	for _, d := range selected {
		r := Replayed{ID: d.ID, ItemKey: d.ItemKey, DryRun: dryRun}
		r.Original.Status, r.Original.Outcome = d.Status, d.Outcome
		switch {
		case d.Outcome == state.Resent:
			r.Skipped = "it records an alert resent by an operator, not a delivery"
		case !d.RequestKept():
			r.Skipped = "it was applied, and the archive keeps no request of an applied delivery: its state is in the state table"
		case !d.Replayable():
			r.Skipped = "only the first KiB of its body was kept"
		case !d.Authenticated && !anyAuth:
			r.Skipped = "it failed the credential check: add --include-unauthenticated to vouch for it"
		}
		if r.Skipped != "" {
			refused = true
			results = append(results, r)
			continue
		}
		rec := &capture{next: b.Recorder, of: d.ID, dry: dryRun}
		dry := &dryStore{reader: b.State}
		var (
			store state.Store = b.Store
			out               = b.outbox(b.Store, alerts)
		)
		if dryRun {
			store, out = dry, outbox.New(dry, noPublisher{}, nil, outbox.Settings{})
		}
		h := webhook.New(rules, store, out, log, webhook.WithArchive(rec, b.Retention))
		resp, _ := h.Handle(ctx, request(d))
		r.Status, r.Outcome, r.AlertOwed = resp.StatusCode, rec.got.Outcome, dry.alertOwed
		r.ItemKey = or(r.ItemKey, rec.got.ItemKey)
		if resp.StatusCode != http.StatusOK {
			r.Reason = resp.Body
			refused = true
		}
		if !dryRun {
			r.DeliveryID, r.Archive = rec.got.ID, archive.Recorded
			if rec.err != nil {
				r.Archive = archive.RecordFailed
			}
		}
		results = append(results, r)
	}
	if asJSON {
		if results == nil {
			results = []Replayed{}
		}
		if err := writeJSON(e.Stdout, results); err != nil {
			return err
		}
	} else {
		printReplays(e.Stdout, results, dryRun)
	}
	if refused {
		return exit(ExitRefused, "")
	}
	return nil
}

// replayRules are the webhook's rules for replays: the deployment's
// allowlists, no credential check.
func replayRules(ctx context.Context, getenv func(string) string) (webhook.Rules, error) {
	env := map[string]string{config.AuthMode: "none"}
	for _, name := range []string{config.AllowedCorpNums, config.AllowedSourceIPs, config.CheckCorpNumChecksum} {
		env[name] = getenv(name)
	}
	rules, _, err := config.ReadRules(ctx, func(n string) string { return env[n] }, nil)
	return rules, err
}

// request rebuilds the API Gateway request from the archive.
func request(d archive.Delivery) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for k, v := range d.Headers {
		headers[k] = v
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /pbconnect", RawPath: "/pbconnect", Headers: headers,
		Body: string(d.Body), IsBase64Encoded: d.Base64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "replay-" + hex.EncodeToString(b[:]),
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: "/pbconnect", SourceIP: d.SourceIP},
		},
	}
}

func printReplays(w io.Writer, rs []Replayed, dryRun bool) {
	if len(rs) == 0 {
		fmt.Fprintln(w, "(nothing to replay)")
		return
	}
	result := "REPLAY"
	if dryRun {
		result = "WOULD"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tITEMKEY\tWAS\t%s\tNOTE\n", result)
	for _, r := range rs {
		was := fmt.Sprintf("%d %s", r.Original.Status, r.Original.Outcome)
		now, note := "skipped", r.Skipped
		if r.Skipped == "" {
			now = fmt.Sprintf("%d %s", r.Status, r.Outcome)
			note = short(r.Reason, 60)
			if r.AlertOwed {
				note = "the NTS-failure alert would be published"
			}
			if r.DeliveryID != "" {
				note = short(or(note, "archived as "+r.DeliveryID), 60)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, or(r.ItemKey, "-"), was, now, or(note, "-"))
	}
	tw.Flush()
}

// capture is the archive recorder of one replay: it marks the record as a
// replay, keeps it for the report, and writes it unless the run is dry.
type capture struct {
	next archive.Recorder
	of   string
	dry  bool
	got  archive.Delivery
	err  error
}

func (c *capture) Record(ctx context.Context, d archive.Delivery) error {
	d.ReplayOf = c.of
	c.got = d
	if c.dry {
		return nil
	}
	c.err = c.next.Record(ctx, d)
	return c.err
}

// dryStore answers Apply as the store would, from a read, and writes nothing.
type dryStore struct {
	reader    state.Reader
	alertOwed bool
}

func (s *dryStore) Apply(ctx context.Context, r state.Delivery) (state.Result, error) {
	it, found, err := s.reader.Get(ctx, r.Event.ItemKey)
	if err != nil {
		return state.Result{}, err
	}
	res := state.Result{Outcome: state.Stored, StateCode: r.Event.StateCode}
	switch {
	case !found || it.Event.StateCode < r.Event.StateCode:
		res.AlertPending = r.Alert != nil || it.AlertStatus == state.AlertPending
	default:
		outcome := state.Stale
		if it.Event.StateCode == r.Event.StateCode {
			outcome = state.Duplicate
		}
		// A 305 owes its failure alert whatever the state, unless one is
		// recorded already (an overdue alert gives way to it).
		owesFailure := r.Alert != nil && (it.AlertStatus == "" || it.AlertKind == alert.KindOverdue)
		res = state.Result{Outcome: outcome, StateCode: it.Event.StateCode, AlertPending: owesFailure || it.AlertStatus == state.AlertPending}
	}
	s.alertOwed = res.AlertPending
	return res, nil
}

// ClaimAlert claims nothing: a dry run publishes nothing.
func (s *dryStore) ClaimAlert(context.Context, string, string, time.Time, time.Duration) (state.Claim, error) {
	return state.Claim{Status: state.NothingOwed}, nil
}
func (s *dryStore) ReleaseAlert(context.Context, string, string) error { return nil }
func (s *dryStore) MarkAlertSent(context.Context, string, string, string, time.Time) error {
	return nil
}

// noPublisher is a dry run's: never called, since nothing is claimed.
type noPublisher struct{}

func (noPublisher) Publish(context.Context, alert.Failure) (string, error) {
	return "", fmt.Errorf("a dry run publishes nothing")
}
