package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// OverdueAfter is how long an alert may stay pending before status calls it
// overdue: POPBiLL's three retries, five minutes apart, would have published it.
const OverdueAfter = 20 * time.Minute

// kst formats t for people.
func kst(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(archive.KST).Format("2006-01-02 15:04:05")
}

// CashbillStatus is what status prints for one cashbill.
type CashbillStatus struct {
	ItemKey    string           `json:"itemKey"`
	State      *state.Item      `json:"state"`
	Alert      AlertStatus      `json:"alert"`
	Deliveries []DeliveryRecord `json:"deliveries"`
}

// AlertStatus is the alert a cashbill owes or has had.
type AlertStatus struct {
	// Status: none, pending, overdue (pending longer than OverdueAfter) or sent.
	Status string `json:"status"`
	// Kind: failure (an NTS filing failure) or overdue (no NTS result by
	// the deadline); empty with status none.
	Kind      alert.Kind `json:"kind,omitempty"`
	MessageID string     `json:"messageId,omitempty"`
	SentAt    time.Time  `json:"sentAt,omitzero"`
	OwedSince time.Time  `json:"owedSince,omitzero"`
}

// DeliveryRecord is an archived delivery as the tool shows it: the body as
// text, with receivedAt also in KST.
type DeliveryRecord struct {
	archive.Delivery
	Body          string `json:"body,omitempty"`
	ReceivedAtKST string `json:"receivedAtKst"`
}

func record(d archive.Delivery) DeliveryRecord {
	r := DeliveryRecord{Delivery: d, ReceivedAtKST: kst(d.ReceivedAt)}
	if utf8.Valid(d.Body) {
		r.Body = string(d.Body)
	} else {
		r.Body = fmt.Sprintf("(%d bytes, not UTF-8)", len(d.Body))
	}
	return r
}

func alertOf(it *state.Item, now time.Time) AlertStatus {
	switch {
	case it == nil || it.AlertStatus == "":
		return AlertStatus{Status: "none"}
	case it.AlertStatus == state.AlertSent:
		return AlertStatus{Status: "sent", Kind: kindOf(*it), MessageID: it.AlertMessageID, SentAt: it.AlertSentAt}
	case now.Sub(it.ReceivedAt) > OverdueAfter:
		return AlertStatus{Status: "overdue", Kind: kindOf(*it), OwedSince: it.ReceivedAt}
	default:
		return AlertStatus{Status: string(it.AlertStatus), Kind: kindOf(*it), OwedSince: it.ReceivedAt}
	}
}

// kindOf is the kind of an item's alert; an alert stored before kinds
// existed is a failure alert.
func kindOf(it state.Item) alert.Kind {
	if it.AlertKind == "" {
		return alert.KindFailure
	}
	return it.AlertKind
}

// alertTitle is an alert kind for people, as the alert's subject says it.
func alertTitle(kind alert.Kind) string {
	if kind == alert.KindOverdue {
		return "NTS result overdue"
	}
	return "NTS filing failure"
}

func status(ctx context.Context, e *Env, args []string) error {
	var (
		t              Target
		asJSON         bool
		corp, mgt      string
		limit          int
		usage, summary = commandText("status")
	)
	fs := e.flagSet("status", usage, &t, &asJSON)
	fs.StringVar(&corp, "corp", "", "with --mgt: the seller's business number (10 digits)")
	fs.StringVar(&mgt, "mgt", "", "with --corp: the seller's document number (mgtKey)")
	fs.IntVar(&limit, "limit", 20, "the most deliveries to show per cashbill")
	fs.Usage = helpWith(fs, usage, summary)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 1 && corp == "" && mgt == "":
		err = checkItemKey(fs, pos[0])
	case len(pos) == 0 && corp != "" && mgt != "":
		if corp, err = businessNumber(fs, "corp", corp); err == nil {
			err = checkMgtKey(fs, mgt)
		}
	default:
		err = usageError(fs, "give one ITEMKEY, or --corp and --mgt")
	}
	if err == nil {
		err = checkLimit(fs, limit)
	}
	if err != nil {
		return err
	}
	b, err := e.Open(ctx, t, false)
	if err != nil {
		return err
	}
	defer b.Close()

	var keys []string
	if len(pos) == 1 {
		keys = pos
	} else {
		ds, err := b.Archive.ByMgtKey(ctx, corp, mgt, 0)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, d := range ds {
			if d.ItemKey != "" && !seen[d.ItemKey] {
				seen[d.ItemKey] = true
				keys = append(keys, d.ItemKey)
			}
		}
		if len(keys) == 0 {
			return exit(ExitNotFound, "no delivery in the archive for business %s, mgtKey %s", corp, mgt)
		}
	}
	var out []CashbillStatus
	for _, key := range keys {
		st := CashbillStatus{ItemKey: key, Deliveries: []DeliveryRecord{}}
		it, found, err := b.State.Get(ctx, key)
		if err != nil {
			return err
		}
		if found {
			st.State = &it
		}
		st.Alert = alertOf(st.State, time.Now())
		ds, err := b.Archive.ByItem(ctx, key, limit)
		if err != nil {
			return err
		}
		for _, d := range ds {
			st.Deliveries = append(st.Deliveries, record(d))
		}
		out = append(out, st)
	}
	if asJSON {
		if len(pos) == 1 {
			return writeJSON(e.Stdout, out[0])
		}
		return writeJSON(e.Stdout, out)
	}
	for i, st := range out {
		if i > 0 {
			fmt.Fprintln(e.Stdout)
		}
		printStatus(e.Stdout, st)
	}
	if len(out) == 1 && out[0].State == nil && len(out[0].Deliveries) == 0 {
		return exit(ExitNotFound, "nothing stored or archived for itemKey %s", keys[0])
	}
	return nil
}

func printStatus(w io.Writer, st CashbillStatus) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "itemKey\t%s\n", st.ItemKey)
	if it := st.State; it != nil {
		ev := it.Event
		fmt.Fprintf(tw, "business\t%s\n", cashbill.FormatBusinessNumber(ev.BusinessNumber()))
		fmt.Fprintf(tw, "mgtKey\t%s\n", or(ev.MgtKey, "-"))
		fmt.Fprintf(tw, "state\t%d %s (%s event of %s)\n", ev.StateCode, stateName(ev), or(ev.EventType, "-"), eventTime(ev.EventDT))
		fmt.Fprintf(tw, "stored\t%s KST, MID %s\n", kst(it.ReceivedAt), or(it.MID, "-"))
	} else {
		fmt.Fprintf(tw, "state\tnot stored\n")
	}
	a := st.Alert
	switch a.Status {
	case "sent":
		fmt.Fprintf(tw, "alert\t%s (%s), sent %s KST, message id %s\n", a.Kind, alertTitle(a.Kind), kst(a.SentAt), a.MessageID)
	case "pending", "overdue":
		fmt.Fprintf(tw, "alert\t%s (%s), %s, owed since %s KST\n", a.Kind, alertTitle(a.Kind), a.Status, kst(a.OwedSince))
	default:
		fmt.Fprintf(tw, "alert\tnone\n")
	}
	tw.Flush()
	fmt.Fprintf(w, "\ndeliveries, newest first (%d)\n", len(st.Deliveries))
	printDeliveries(w, st.Deliveries)
}

func stateName(ev cashbill.Event) string {
	switch ev.StateCode {
	case cashbill.StateIssued:
		return "issued"
	case cashbill.StateNTSSuccess:
		return "filed with the NTS"
	case cashbill.StateNTSFailed:
		meaning, _ := cashbill.NTSResultMeaning(ev.NTSResultCode)
		return fmt.Sprintf("NTS filing failed: %s (%s)", or(meaning, "unknown code"), ev.NTSResultCode)
	}
	return "unknown state"
}

// eventTime is POPBiLL's yyyyMMddHHmmss (KST) for people.
func eventTime(dt string) string {
	t, err := time.ParseInLocation("20060102150405", dt, archive.KST)
	if err != nil {
		return or(dt, "-")
	}
	return kst(t) + " KST"
}

func printDeliveries(w io.Writer, ds []DeliveryRecord) {
	if len(ds) == 0 {
		fmt.Fprintln(w, "(none)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED (KST)\tSTATUS\tOUTCOME\tITEMKEY\tSTATE\tCRED\tREASON")
	for _, d := range ds {
		st := "-"
		if d.StateCode != 0 {
			st = fmt.Sprint(d.StateCode)
		}
		cred := or(d.Credential, "-")
		if !d.Authenticated {
			cred = "none"
		}
		reason := short(d.Reason, 60)
		status := fmt.Sprint(d.Status)
		if d.Outcome == state.Resent {
			status, cred = "-", "-"
			reason = short("alert resent by "+d.ResentBy+", message id "+d.MessageID, 60)
		}
		if d.ReplayOf != "" {
			reason = short("replay of "+d.ReplayOf+" "+reason, 60)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.ReceivedAtKST, status, d.Outcome, or(d.ItemKey, "-"), st, cred, or(reason, "-"))
	}
	tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
