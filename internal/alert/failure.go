package alert

import (
	"strings"
	"unicode"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// FieldLimit is the most characters of one event field an alert carries.
// POPBiLL's longest free-text field, mgtKey, is at most 24 characters; the
// limit is generous for what POPBiLL sends and small enough that an alert of
// a dozen clipped fields stays far below SNS's 256 KiB message limit, even
// with every field rendered five times (one per protocol) and JSON-escaped.
const FieldLimit = 64

// clipped marks a field cut to FieldLimit.
const clipped = "…"

// FromEvent is the alert of kind (KindFailure: a 305 owes it; KindOverdue:
// the watchdog raises it) about the cashbill ev, as the delivery with
// message id mid reported it: the event's fields, each made one line of
// printable text of at most FieldLimit characters (see Clean). It is the one
// place an alert is built from what a caller sent, so that no renderer
// (email, SNS JSON, Slack) has to distrust its input.
func FromEvent(ev cashbill.Event, mid string, kind Kind) Failure {
	return Clean(Failure{
		ItemKey: ev.ItemKey, FranchiseCorpNum: ev.BusinessNumber(), MgtKey: ev.MgtKey,
		ConfirmNum: ev.ConfirmNum, TradeDate: ev.TradeDate, StateCode: ev.StateCode,
		NTSResultCode: ev.NTSResultCode, NTSResultDT: ev.NTSResultDT, EventDT: ev.EventDT,
		EventType: ev.EventType, IssueDT: ev.IssueDT, MID: mid,
		Kind: kind, AlertID: ID(ev.ItemKey, kind),
	})
}

// Clean returns f with every text field made safe to render: control
// characters, line and paragraph breaks and invisible format characters
// (bidirectional overrides among them) become spaces, runs of spaces become
// one, and a field longer than FieldLimit characters is cut to end in "…".
// A mgtKey of "A1\n\nURGENT: pay ..." therefore stays on the mgtKey line of
// an email instead of becoming a paragraph of its own. Clean is idempotent.
func Clean(f Failure) Failure {
	for _, s := range []*string{
		&f.ItemKey, &f.FranchiseCorpNum, &f.MgtKey, &f.ConfirmNum, &f.TradeDate,
		&f.NTSResultCode, &f.NTSResultDT, &f.EventDT, &f.EventType, &f.IssueDT, &f.MID,
		&f.Environment, &f.BusinessName,
	} {
		*s = fieldText(*s)
	}
	if f.Digest != nil {
		d := *f.Digest
		d.Entries = make([]DigestEntry, len(f.Digest.Entries))
		for i, e := range f.Digest.Entries {
			d.Entries[i] = DigestEntry{fieldText(e.ItemKey), fieldText(e.MgtKey), fieldText(e.Code), Kind(fieldText(string(e.Kind)))}
		}
		f.Digest = &d
	}
	return f
}

func fieldText(s string) string {
	s = strings.Join(strings.FieldsFunc(strings.ToValidUTF8(s, " "), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf)
	}), " ")
	if r := []rune(s); len(r) > FieldLimit {
		s = string(r[:FieldLimit-1]) + clipped
	}
	return s
}
