package operator

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
)

// since reads 90m, 24h or 7d.
func since(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("--since %q: want a duration such as 90m, 24h or 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--since %q: want a duration such as 90m, 24h or 7d", s)
	}
	return d, nil
}

// windowFlags are the flags that select deliveries by time and filters.
type windowFlags struct {
	since, outcome, corp string
	limit                int
}

// register adds the flags; sinceDefault "" means no window unless asked.
func (w *windowFlags) register(fs *flag.FlagSet, sinceDefault string) {
	fs.StringVar(&w.since, "since", sinceDefault, "the window: how far back (90m, 24h, 7d)")
	fs.StringVar(&w.outcome, "outcome", "", "only this outcome: stored, duplicate, stale, rejected, failed")
	fs.StringVar(&w.corp, "corp", "", "only this business number")
	fs.IntVar(&w.limit, "limit", archive.DefaultLimit, "the most deliveries")
}

func (w *windowFlags) query(now time.Time) (archive.Query, error) {
	d, err := since(w.since)
	if err != nil {
		return archive.Query{}, exit(ExitUsage, "%s", err.Error())
	}
	return archive.Query{From: now.Add(-d), To: now.Add(time.Second), Outcome: w.outcome,
		CorpNum: strings.ReplaceAll(w.corp, "-", ""), Limit: w.limit}, nil
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
		fs.Usage()
		return exit(ExitUsage, "deliveries takes no arguments, only flags")
	}
	q, err := w.query(time.Now())
	if err != nil {
		return err
	}
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
