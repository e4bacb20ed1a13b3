package operator

import (
	"context"
	"flag"
	"strings"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// windowFlags are the flags that select deliveries by time and filters.
type windowFlags struct {
	since, outcome, corp string
	limit                int
}

// register adds the flags; sinceDefault "" means no window unless asked.
func (w *windowFlags) register(fs *flag.FlagSet, sinceDefault string) {
	fs.StringVar(&w.since, "since", sinceDefault, "the window: how far back (90m, 24h, 7d)")
	fs.StringVar(&w.outcome, "outcome", "", "only this outcome: "+strings.Join(Outcomes, ", ")+" (an alert resent by an operator)")
	fs.StringVar(&w.corp, "corp", "", "only this business number (10 digits)")
	fs.IntVar(&w.limit, "limit", archive.DefaultLimit, "the most deliveries")
}

// check refuses a bad window or filter before anything is read.
func (w *windowFlags) check(fs *flag.FlagSet) error {
	if w.since != "" {
		if _, err := durationFlag(fs, "since", w.since); err != nil {
			return err
		}
	}
	if err := checkOutcome(fs, w.outcome); err != nil {
		return err
	}
	if _, err := businessNumber(fs, "corp", w.corp); err != nil {
		return err
	}
	return checkLimit(fs, w.limit)
}

// query is the archive query of checked flags.
func (w *windowFlags) query(now time.Time) archive.Query {
	d, _ := Duration(w.since)
	return archive.Query{From: now.Add(-d), To: now.Add(time.Second), Outcome: state.Outcome(w.outcome),
		CorpNum: strings.ReplaceAll(w.corp, "-", ""), Limit: w.limit}
}

func deliveries(ctx context.Context, e *Env, args []string) error {
	var (
		t              Target
		asJSON         bool
		w              windowFlags
		usage, summary = commandText("deliveries")
	)
	fs := e.flagSet("deliveries", usage, &t, &asJSON)
	w.register(fs, "24h")
	fs.Usage = helpWith(fs, usage, summary)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fs, "deliveries takes no arguments, only flags (%s)", pos[0])
	}
	if err := w.check(fs); err != nil {
		return err
	}
	q := w.query(time.Now())
	b, err := e.Open(ctx, t, false)
	if err != nil {
		return err
	}
	defer b.Close()
	ds, err := b.Archive.Window(ctx, q)
	if err != nil {
		return err
	}
	out := []DeliveryRecord{}
	for _, d := range ds {
		out = append(out, record(d))
	}
	if asJSON {
		return writeJSON(e.Stdout, out)
	}
	printDeliveries(e.Stdout, out)
	return nil
}

// commandText is the usage line and summary of a command in the table.
func commandText(name string) (string, string) {
	for _, c := range commands {
		if c.name == name {
			return c.usage, c.summary
		}
	}
	return name, ""
}
