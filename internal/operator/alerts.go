package operator

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
)

// PendingAlert is an alert owed and not yet published, as alerts lists it.
type PendingAlert struct {
	ItemKey   string     `json:"itemKey"`
	Kind      alert.Kind `json:"kind"`
	AlertID   string     `json:"alertId"`
	CorpNum   string     `json:"corpNum,omitempty"`
	MgtKey    string     `json:"mgtKey,omitempty"`
	StateCode int        `json:"stateCode"`
	OwedSince time.Time  `json:"owedSince"`
	// AgeSeconds is how long it has been owed.
	AgeSeconds int64 `json:"ageSeconds"`
	// LeaseOwner is who claimed it last (the webhook's request id, sweeper/...,
	// operator/...) and LeaseUntil when that claim ends; LeaseActive says it
	// has not ended, i.e. someone is publishing it right now.
	LeaseOwner  string    `json:"leaseOwner,omitempty"`
	LeaseUntil  time.Time `json:"leaseUntil,omitzero"`
	LeaseActive bool      `json:"leaseActive"`
}

// AwaitingResult is an issued cashbill past the NTS-result deadline with no
// alert raised yet: the sweeper raises its "NTS result overdue" alert on its
// next run.
type AwaitingResult struct {
	ItemKey    string    `json:"itemKey"`
	CorpNum    string    `json:"corpNum,omitempty"`
	MgtKey     string    `json:"mgtKey,omitempty"`
	StateCode  int       `json:"stateCode"`
	IssueDay   time.Time `json:"issueDay"`
	DeadlineAt time.Time `json:"deadlineAt"`
	// OverdueSeconds is how long past the deadline it is.
	OverdueSeconds int64 `json:"overdueSeconds"`
}

// Overdue is what alerts --overdue prints.
type Overdue struct {
	// Deadline is the sweeper's RESULT_DEADLINE, from midnight KST of the issue date.
	Deadline string `json:"deadline"`
	// AwaitingResult: past the deadline, no overdue alert raised yet.
	AwaitingResult []AwaitingResult `json:"awaitingResult"`
	// AlertsRaised: overdue alerts raised and not yet published. Published
	// ones leave the due index; status ITEMKEY shows them.
	AlertsRaised []PendingAlert `json:"alertsRaised"`
}

const alertsSummary = "what is owed: alerts --pending (not yet published), alerts --overdue (NTS result late); alerts resend ITEMKEY publishes one again on purpose"

func alerts(ctx context.Context, e *Env, args []string) error {
	if len(args) > 0 && args[0] == "resend" {
		return resend(ctx, e, args[1:])
	}
	var (
		t                Target
		asJSON           bool
		pending, overdue bool
		deadlineFlag     string
		deadline         time.Duration
		limit            int
		usage, summary   = commandText("alerts")
	)
	fs := e.flagSet("alerts", usage, &t, &asJSON)
	fs.BoolVar(&pending, "pending", false, "alerts owed and not yet published, oldest first")
	fs.BoolVar(&overdue, "overdue", false, "issued receipts past the NTS-result deadline, and overdue alerts raised and not yet published")
	fs.StringVar(&deadlineFlag, "deadline", "", "the NTS-result deadline from midnight KST of the issue date, such as 66h or 3d (default $"+config.ResultDeadline+", else the sweeper's 66h)")
	fs.IntVar(&limit, "limit", sweeper.DefaultBatch, "the most items to read from each queue")
	fs.Usage = helpWith(fs, usage, summary+`.
Both lists read the state table's due index (never a scan), which is eventually consistent: an
alert owed in the last second may be missing. An alert published leaves the index: status
ITEMKEY shows it with its message id`)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageError(fs, "unknown argument %q: give --pending or --overdue, or: alerts resend ITEMKEY", pos[0])
	case pending == overdue:
		return usageError(fs, "give --pending or --overdue (or: alerts resend ITEMKEY)")
	case deadlineFlag != "" && !overdue:
		return usageError(fs, "--deadline goes with --overdue")
	case deadlineFlag != "":
		if deadline, err = durationFlag(fs, "deadline", deadlineFlag); err != nil {
			return err
		}
	}
	if err := checkLimit(fs, limit); err != nil {
		return err
	}
	b, err := e.Open(ctx, t, false)
	if err != nil {
		return err
	}
	defer b.Close()
	now := time.Now()
	if pending {
		items, err := b.Queues.Due(ctx, state.QueueAlert, now, limit)
		if err != nil {
			return err
		}
		out := []PendingAlert{}
		for _, it := range items {
			out = append(out, pendingAlert(it, now))
		}
		if asJSON {
			return writeJSON(e.Stdout, out)
		}
		printPending(e.Stdout, out)
		return nil
	}

	if deadline == 0 {
		sweep, err := config.ReadSweep(b.Getenv)
		if err != nil {
			return exit(ExitUsage, "%s", err.Error())
		}
		deadline = sweep.Deadline
		if deadline == 0 {
			deadline = sweeper.DefaultDeadline
		}
	}
	o := Overdue{Deadline: deadline.String(), AwaitingResult: []AwaitingResult{}, AlertsRaised: []PendingAlert{}}
	waiting, err := b.Queues.Due(ctx, state.QueueResult, now.Add(-deadline), limit)
	if err != nil {
		return err
	}
	for _, it := range waiting {
		// Due lists only cashbills still awaiting their result; this check
		// stays for a store that lists more.
		if it.Event.StateCode >= cashbill.StateNTSSuccess || it.AlertStatus != "" {
			continue
		}
		// A 300 delivered late entered the queue later than its issue day
		// (state.ResultDueAt): the deadline is from the issue day.
		day := state.IssueDay(it.Event, it.ReceivedAt)
		o.AwaitingResult = append(o.AwaitingResult, AwaitingResult{
			ItemKey: it.Event.ItemKey, CorpNum: it.Event.BusinessNumber(), MgtKey: it.Event.MgtKey,
			StateCode: it.Event.StateCode, IssueDay: day, DeadlineAt: day.Add(deadline),
			OverdueSeconds: int64(now.Sub(day.Add(deadline)) / time.Second),
		})
	}
	raised, err := b.Queues.Due(ctx, state.QueueAlert, now, limit)
	if err != nil {
		return err
	}
	for _, it := range raised {
		if it.AlertKind == alert.KindOverdue {
			o.AlertsRaised = append(o.AlertsRaised, pendingAlert(it, now))
		}
	}
	if asJSON {
		return writeJSON(e.Stdout, o)
	}
	printOverdue(e.Stdout, o)
	return nil
}

func pendingAlert(it state.Item, now time.Time) PendingAlert {
	kind := cmp.Or(it.AlertKind, alert.KindFailure)
	id := alert.ID(it.Event.ItemKey, kind)
	if f, err := alert.Decode(it.AlertPayload); err == nil && len(it.AlertPayload) > 0 {
		id = alert.IDOf(f)
	}
	owed := it.DueAt
	if owed.IsZero() {
		owed = it.ReceivedAt
	}
	return PendingAlert{
		ItemKey: it.Event.ItemKey, Kind: kind, AlertID: id, CorpNum: it.Event.BusinessNumber(),
		MgtKey: it.Event.MgtKey, StateCode: it.Event.StateCode, OwedSince: owed,
		AgeSeconds: int64(now.Sub(owed) / time.Second), LeaseOwner: it.AlertLeaseOwner,
		LeaseUntil: it.AlertLeaseUntil, LeaseActive: it.AlertLeaseOwner != "" && !it.AlertLeaseUntil.Before(now),
	}
}

// age is a duration for people: 45s, 12m, 3h05m, 2d04h.
func age(seconds int64) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", seconds)
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

func lease(a PendingAlert) string {
	switch {
	case a.LeaseOwner == "":
		return "-"
	case a.LeaseActive:
		return fmt.Sprintf("%s until %s", a.LeaseOwner, a.LeaseUntil.In(archive.KST).Format("15:04:05"))
	}
	return fmt.Sprintf("%s (expired %s)", a.LeaseOwner, a.LeaseUntil.In(archive.KST).Format("15:04:05"))
}

func printPending(w io.Writer, as []PendingAlert) {
	if len(as) == 0 {
		fmt.Fprintln(w, "(no alert owed)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OWED SINCE (KST)\tAGE\tKIND\tALERT ID\tBUSINESS\tMGTKEY\tSTATE\tLEASE")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", kst(a.OwedSince), age(a.AgeSeconds), a.Kind, a.AlertID,
			or(cashbill.FormatBusinessNumber(a.CorpNum), "-"), or(short(a.MgtKey, 24), "-"), a.StateCode, lease(a))
	}
	tw.Flush()
}

func printOverdue(w io.Writer, o Overdue) {
	fmt.Fprintf(w, "NTS result overdue (deadline %s after midnight KST of the issue date), no alert raised yet (%d)\n", o.Deadline, len(o.AwaitingResult))
	if len(o.AwaitingResult) == 0 {
		fmt.Fprintln(w, "(none)")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ITEMKEY\tISSUED (KST)\tDEADLINE (KST)\tOVERDUE BY\tBUSINESS\tMGTKEY\tSTATE")
		for _, a := range o.AwaitingResult {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", a.ItemKey, a.IssueDay.In(archive.KST).Format(time.DateOnly), kst(a.DeadlineAt),
				age(a.OverdueSeconds), or(cashbill.FormatBusinessNumber(a.CorpNum), "-"), or(short(a.MgtKey, 24), "-"), a.StateCode)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\noverdue alerts raised, not yet published (%d)\n", len(o.AlertsRaised))
	printPending(w, o.AlertsRaised)
}
