package operator

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/awserr"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
)

// BusinessWeek is one business's row of businesses --since: what arrived in
// the window, and what it owes now.
type BusinessWeek struct {
	// CorpNum is "" for deliveries refused before their business was known
	// (a failed credential or source check).
	CorpNum string `json:"corpNum"`
	Name    string `json:"name,omitempty"`
	// In the window: every delivery, the refused ones (4xx), and the
	// cashbills whose NTS failure (305) was stored.
	Deliveries  int `json:"deliveries"`
	Refused     int `json:"refused"`
	NTSFailures int `json:"ntsFailures"`
	// Now: alerts owed and not yet published, and issued receipts past the
	// NTS-result deadline with no result and no overdue alert yet.
	AlertsOwed     int       `json:"alertsOwed"`
	OverdueResults int       `json:"overdueResults"`
	LastDelivery   time.Time `json:"lastDelivery,omitzero"`
}

// BusinessView is what businesses --since prints.
type BusinessView struct {
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
	Businesses []BusinessWeek `json:"businesses"`
	// Truncated: the window held more deliveries than --limit; the counts
	// are of the newest ones.
	Truncated bool `json:"truncated,omitempty"`
}

func businessView(ctx context.Context, e *Env, args []string) error {
	var (
		t              Target
		asJSON         bool
		window         string
		limit, queue   int
		usage, summary = commandText("businesses")
	)
	fs := e.flagSet("businesses", usage, &t, &asJSON)
	fs.StringVar(&window, "since", "7d", "the window of deliveries: how far back (24h, 7d)")
	fs.IntVar(&limit, "limit", 50000, "the most deliveries to count")
	fs.IntVar(&queue, "queue-limit", sweeper.DefaultBatch*5, "the most items to read from each queue (alerts owed, results awaited)")
	help := helpWith(fs, usage, summary)
	fs.Usage = func() {
		help()
		fmt.Fprintln(fs.Output(), "\nSubcommands:")
		for _, c := range businessCommands {
			fmt.Fprintf(fs.Output(), "  %-7s %s\n", c.name, c.summary)
		}
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fs, "unknown subcommand %q: add, list, revoke or rotate (or no subcommand, for the view)", cashbill.Clip(pos[0]))
	}
	d, err := durationFlag(fs, "since", window)
	if err != nil {
		return err
	}
	b, err := e.Open(ctx, t, false)
	if err != nil {
		return err
	}
	defer b.Close()
	names, err := e.businessNames(ctx, t, b)
	if err != nil {
		return err
	}
	now := time.Now()
	v, err := weekOf(ctx, b, names, now.Add(-d), now.Add(time.Second), limit, queue)
	if err != nil {
		return exit(ExitFailed, "%s", err.Error())
	}
	if asJSON {
		return writeJSON(e.Stdout, v)
	}
	printBusinessView(e.Stdout, v, window)
	return nil
}

// weekOf counts, per business, the archive's deliveries in [from, to) and
// what the state's queues hold now, through the backend's reader ports.
func weekOf(ctx context.Context, b *Backend, names map[string]string, from, to time.Time, limit, queue int) (BusinessView, error) {
	v := BusinessView{From: from, To: to, Businesses: []BusinessWeek{}}
	rows := map[string]*BusinessWeek{}
	row := func(corp string) *BusinessWeek {
		if rows[corp] == nil {
			rows[corp] = &BusinessWeek{CorpNum: corp}
		}
		return rows[corp]
	}
	for corp := range names {
		row(corp)
	}

	ds, err := b.Archive.Window(ctx, archive.Query{From: from, To: to, Limit: limit})
	if err != nil {
		return v, fmt.Errorf("the delivery archive could not be read: %s", awserr.Cause(err))
	}
	v.Truncated = len(ds) >= limit
	failed := map[string]bool{}
	for _, d := range ds {
		if d.Outcome == state.Resent {
			continue // an operator's resend, not a delivery
		}
		r := row(d.CorpNum)
		r.Deliveries++
		// POPBiLL reported the failure whatever became of the delivery,
		// unless it was refused; each cashbill once, retries and replays too.
		refused := d.Status >= 400 && d.Status < 500
		if d.StateCode == cashbill.StateNTSFailed && d.Authenticated && !refused && !failed[d.ItemKey] {
			failed[d.ItemKey] = true
			r.NTSFailures++
		}
		if refused {
			r.Refused++
		}
		if d.ReceivedAt.After(r.LastDelivery) {
			r.LastDelivery = d.ReceivedAt
		}
	}

	owed, err := b.Queues.Due(ctx, state.QueueAlert, to, queue)
	if err != nil {
		return v, fmt.Errorf("the state's alert queue could not be read: %s", awserr.Cause(err))
	}
	for _, it := range owed {
		row(it.Event.BusinessNumber()).AlertsOwed++
	}
	sweep, err := config.ReadSweep(b.Getenv)
	if err != nil {
		return v, err
	}
	deadline := cmp.Or(sweep.Deadline, sweeper.DefaultDeadline)
	waiting, err := b.Queues.Due(ctx, state.QueueResult, to.Add(-deadline), queue)
	if err != nil {
		return v, fmt.Errorf("the state's result queue could not be read: %s", awserr.Cause(err))
	}
	for _, it := range waiting {
		// As alerts --overdue.
		if it.Event.StateCode < cashbill.StateNTSSuccess && it.AlertStatus == "" {
			row(it.Event.BusinessNumber()).OverdueResults++
		}
	}

	for corp, r := range rows {
		r.Name = names[corp]
		v.Businesses = append(v.Businesses, *r)
	}
	// Businesses in trouble first, then the busiest.
	trouble := func(r BusinessWeek) int { return r.Refused + r.NTSFailures + r.AlertsOwed + r.OverdueResults }
	slices.SortFunc(v.Businesses, func(a, b BusinessWeek) int {
		return cmp.Or(cmp.Compare(trouble(b), trouble(a)), cmp.Compare(b.Deliveries, a.Deliveries), strings.Compare(a.CorpNum, b.CorpNum))
	})
	return v, nil
}

func printBusinessView(w io.Writer, v BusinessView, window string) {
	fmt.Fprintf(w, "client businesses, deliveries since %s KST (%s); alerts owed and overdue results as of now\n", kst(v.From), window)
	if len(v.Businesses) == 0 {
		fmt.Fprintln(w, "(no delivery, and no business in BUSINESS_NAMES)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BUSINESS\tNAME\tDELIVERIES\tREFUSED\tNTS FAILURES\tALERTS OWED\tOVERDUE\tLAST DELIVERY (KST)")
	for _, r := range v.Businesses {
		corp, name := cashbill.FormatBusinessNumber(r.CorpNum), or(r.Name, "-")
		if r.CorpNum == "" {
			corp, name = "-", "(refused before the business was known)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", corp, name, r.Deliveries, r.Refused, r.NTSFailures, r.AlertsOwed, r.OverdueResults, kst(r.LastDelivery))
	}
	tw.Flush()
	if v.Truncated {
		fmt.Fprintln(w, "(the window holds more deliveries than --limit: the counts are of the newest ones)")
	}
}

// businessNames are the BusinessNames setting: the stack's parameter, or
// BUSINESS_NAMES where the tool runs.
func (e *Env) businessNames(ctx context.Context, t Target, b *Backend) (map[string]string, error) {
	raw := b.Getenv(config.BusinessNames)
	if t.Stack != "" {
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("AWS configuration: %w", err)
		}
		_, params, err := stackOutputs(ctx, cloudformation.NewFromConfig(cfg), t.Stack)
		if err != nil {
			return nil, err
		}
		raw = params["BusinessNames"]
	}
	names, _, _ := alert.ParseBusinessNames(raw)
	return names, nil
}
