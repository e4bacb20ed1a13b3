// Package archivetest is the contract every delivery-archive adapter passes:
// the CloudWatch Logs one against moto_server, the embedded one on a
// temporary file.
package archivetest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// Adapter is what an adapter provides: the recorder and its reader.
type Adapter interface {
	archive.Recorder
	archive.Reader
}

// NewArchive returns an empty archive for one test.
type NewArchive func(t *testing.T) Adapter

var keySeq = rand.Uint64N(1e12)

// ItemKey returns an 18-digit itemKey not used before in this process.
func ItemKey() string {
	keySeq++
	return fmt.Sprintf("0251127%011d", keySeq%1e11)
}

// base is 14:10:03 KST three days ago: in the past, so no delivery of the
// test's own time shares its window, and recent, since a log group takes no
// event older than 14 days.
var base = func() time.Time {
	d := time.Now().In(archive.KST).AddDate(0, 0, -3)
	return time.Date(d.Year(), d.Month(), d.Day(), 14, 10, 3, 123456000, archive.KST).UTC()
}()

// Accepted is an authenticated, stored delivery of itemKey received at.
func Accepted(itemKey string, at time.Time) archive.Delivery {
	body := `{"corpNum":"6798700433","itemKey":"` + itemKey + `","stateCode":300,"mgtKey":"20251127-001","eventType":"Issue"}`
	return archive.Delivery{
		ID: archive.NewID(at), ReceivedAt: at, Status: 200, Outcome: state.Stored,
		ItemKey: itemKey, CorpNum: "6798700433", MgtKey: "20251127-001", StateCode: 300, EventType: "Issue",
		MID: "m-" + itemKey, SourceIP: "54.180.62.221", RequestID: "lambda-1", APIRequestID: "api-1", Method: "POST",
		Headers: map[string]string{"pb-webhook-type": "CASHBILL.STATE", "pb-webhook-mid": "m-" + itemKey, "content-type": "application/json"},
		Body:    []byte(body), BodySize: len(body), Authenticated: true, Credential: "current",
		ExpiresAt: time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second),
	}
}

// Run checks that an archive keeps the contract of archive.Recorder and
// archive.Reader, every field of every delivery.
func Run(t *testing.T, newArchive NewArchive) {
	RunKeeping(t, newArchive, func(d archive.Delivery) archive.Delivery { return d })
}

// RunKeeping is Run for an adapter that declares what it keeps of a
// delivery (archiveline.Kept): the deliveries read back are kept(recorded).
// An adapter whose kept deliveries have no ExpiresAt leaves expiry to its
// store (a log group's retention), so that case is not checked here.
func RunKeeping(t *testing.T, newArchive NewArchive, kept func(archive.Delivery) archive.Delivery) {
	ctx := context.Background()
	record := func(t *testing.T, a Adapter, ds ...archive.Delivery) {
		t.Helper()
		for _, d := range ds {
			if err := a.Record(ctx, d); err != nil {
				t.Fatalf("Record(%s): %v", d.ID, err)
			}
		}
	}
	ids := func(ds []archive.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}

	t.Run("a delivery reads back as recorded", func(t *testing.T) {
		key := ItemKey()
		refused := Accepted(key, base.Add(time.Second))
		refused.Status, refused.Outcome, refused.Credential = 400, state.Rejected, ""
		refused.Reason = "the Pb-Webhook-EventType header (NTS) does not match the body's eventType (Issue)"
		unauthenticated := archive.Delivery{
			ID: archive.NewID(base.Add(2 * time.Second)), ReceivedAt: base.Add(2 * time.Second), Status: 401, Outcome: state.Rejected,
			Reason: "authentication failed", SourceIP: "203.0.113.9", Method: "POST",
			Headers: map[string]string{"pb-webhook-mid": "forged"}, Body: bytes.Repeat([]byte("x"), 1024),
			BodySize: 70000, Truncated: true, ExpiresAt: time.Now().Add(time.Hour).Truncate(time.Second),
		}
		// The largest body the webhook keeps whole, not valid UTF-8, base64 as received.
		large := Accepted(ItemKey(), base.Add(3*time.Second))
		large.Body = append(bytes.Repeat([]byte{0xff, 'a'}, 32<<10), 0)
		large.BodySize, large.Base64 = len(large.Body), true
		replay := Accepted(key, base.Add(4*time.Second))
		replay.ReplayOf = refused.ID
		resent := archive.Delivery{
			ID: archive.NewID(base.Add(5 * time.Second)), ReceivedAt: base.Add(5 * time.Second), Outcome: state.Resent,
			ItemKey: key, CorpNum: "6798700433", StateCode: 305, Authenticated: true,
			ResentBy: "kim", AlertID: key + "/failure/resent-1", MessageID: "sns-message-9",
		}
		cases := []struct {
			name string
			d    archive.Delivery
		}{
			{"accepted", Accepted(key, base)},
			{"refused", refused},
			{"unauthenticated", unauthenticated},
			{"oversized body, not UTF-8", large},
			{"replay", replay},
			{"an alert resent on purpose", resent},
		}
		// The adapters keep their own copy of the fields (logarchive's line,
		// with its keys): a field no case sets would pass unread.
		t.Run("the cases set every field", func(t *testing.T) {
			typ := reflect.TypeOf(archive.Delivery{})
			for i := range typ.NumField() {
				set := false
				for _, c := range cases {
					set = set || !reflect.ValueOf(c.d).Field(i).IsZero()
				}
				if !set {
					t.Errorf("no case sets archive.Delivery.%s: add it to a case, so both adapters must keep it", typ.Field(i).Name)
				}
			}
		})
		a := newArchive(t)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				record(t, a, c.d)
				got, found, err := a.Get(ctx, c.d.ID)
				if err != nil || !found {
					t.Fatalf("Get(%s) = found %v, err %v", c.d.ID, found, err)
				}
				want := kept(c.d)
				if !got.ReceivedAt.Equal(want.ReceivedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
					t.Errorf("times = %v, %v; want %v, %v", got.ReceivedAt, got.ExpiresAt, want.ReceivedAt, want.ExpiresAt)
				}
				got.ReceivedAt, got.ExpiresAt = want.ReceivedAt, want.ExpiresAt
				if !reflect.DeepEqual(got, want) {
					t.Errorf("Get(%s) =\n%+v\nwant\n%+v", c.d.ID, got, want)
				}
			})
		}
	})

	t.Run("an unknown ID is not found", func(t *testing.T) {
		a := newArchive(t)
		if _, found, err := a.Get(ctx, archive.NewID(base)); err != nil || found {
			t.Fatalf("Get(unknown) = found %v, err %v; want not found", found, err)
		}
	})

	t.Run("the deliveries of a cashbill come newest first, only its own, up to the limit", func(t *testing.T) {
		a := newArchive(t)
		key, other := ItemKey(), ItemKey()
		var want []string
		for i := range 4 {
			d := Accepted(key, base.Add(time.Duration(i)*time.Minute))
			record(t, a, d, Accepted(other, base.Add(time.Duration(i)*time.Minute+time.Second)))
			want = append([]string{d.ID}, want...)
		}
		// Deliveries that named no cashbill are in no cashbill's list.
		record(t, a, archive.Delivery{ID: archive.NewID(base.Add(time.Hour)), ReceivedAt: base.Add(time.Hour), Status: 401, Outcome: state.Rejected})
		got, err := a.ByItem(ctx, key, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(got), want) {
			t.Errorf("ByItem = %v, want %v", ids(got), want)
		}
		got, err = a.ByItem(ctx, key, 2)
		if err != nil || !reflect.DeepEqual(ids(got), want[:2]) {
			t.Errorf("ByItem(limit 2) = %v, %v; want %v", ids(got), err, want[:2])
		}
		if got, err := a.ByItem(ctx, ItemKey(), 0); err != nil || len(got) != 0 {
			t.Errorf("ByItem(unknown) = %v, %v; want none", ids(got), err)
		}
	})

	t.Run("the deliveries of a document are found by business number and mgtKey", func(t *testing.T) {
		a := newArchive(t)
		first, second := Accepted(ItemKey(), base), Accepted(ItemKey(), base.Add(time.Minute))
		otherCorp := Accepted(ItemKey(), base.Add(2*time.Minute))
		otherCorp.CorpNum = "1234567890"
		noMgtKey := Accepted(ItemKey(), base.Add(3*time.Minute))
		noMgtKey.MgtKey = ""
		record(t, a, first, second, otherCorp, noMgtKey)
		got, err := a.ByMgtKey(ctx, "6798700433", "20251127-001", 0)
		if want := []string{second.ID, first.ID}; err != nil || !reflect.DeepEqual(ids(got), want) {
			t.Errorf("ByMgtKey = %v, %v; want %v", ids(got), err, want)
		}
	})

	t.Run("a time window is newest first, across KST days, filtered by outcome and business", func(t *testing.T) {
		a := newArchive(t)
		// 23:59:30 KST on base's day and 00:00:30 KST on the next.
		day := base.In(archive.KST)
		midnight := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, archive.KST)
		before := Accepted(ItemKey(), midnight.Add(-30*time.Second))
		after := Accepted(ItemKey(), midnight.Add(30*time.Second))
		rejected := Accepted(ItemKey(), midnight.Add(time.Minute))
		rejected.Status, rejected.Outcome = 401, state.Rejected
		otherCorp := Accepted(ItemKey(), midnight.Add(2*time.Minute))
		otherCorp.CorpNum = "1234567890"
		outside := Accepted(ItemKey(), midnight.Add(-2*time.Hour))
		atEnd := Accepted(ItemKey(), midnight.Add(time.Hour))
		record(t, a, outside, before, after, rejected, otherCorp, atEnd)
		from, to := midnight.Add(-time.Hour), atEnd.ReceivedAt
		cases := []struct {
			name string
			q    archive.Query
			want []archive.Delivery
		}{
			{"all, the end excluded", archive.Query{From: from, To: to}, []archive.Delivery{otherCorp, rejected, after, before}},
			{"from is included", archive.Query{From: before.ReceivedAt, To: after.ReceivedAt}, []archive.Delivery{before}},
			{"by outcome", archive.Query{From: from, To: to, Outcome: state.Rejected}, []archive.Delivery{rejected}},
			{"by business", archive.Query{From: from, To: to, CorpNum: "1234567890"}, []archive.Delivery{otherCorp}},
			{"by outcome and business", archive.Query{From: from, To: to, Outcome: state.Stored, CorpNum: "6798700433"}, []archive.Delivery{after, before}},
			{"limited", archive.Query{From: from, To: to, Limit: 3}, []archive.Delivery{otherCorp, rejected, after}},
			{"empty", archive.Query{From: to.Add(time.Hour), To: to.Add(2 * time.Hour)}, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := a.Window(ctx, c.q)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ids(got), ids(c.want)) {
					t.Errorf("Window = %v\nwant %v", ids(got), ids(c.want))
				}
			})
		}
	})

	t.Run("an expired delivery is not returned", func(t *testing.T) {
		d := Accepted(ItemKey(), base)
		if kept(d).ExpiresAt.IsZero() {
			return // expiry is the store's own, declared by kept
		}
		a := newArchive(t)
		d.ExpiresAt = time.Now().Add(-time.Hour).Truncate(time.Second)
		record(t, a, d)
		if _, found, err := a.Get(ctx, d.ID); err != nil || found {
			t.Errorf("Get(expired) = found %v, err %v", found, err)
		}
		if got, err := a.ByItem(ctx, d.ItemKey, 0); err != nil || len(got) != 0 {
			t.Errorf("ByItem(expired) = %v, %v", ids(got), err)
		}
	})

	t.Run("an ID recorded twice keeps the first record", func(t *testing.T) {
		a := newArchive(t)
		d := Accepted(ItemKey(), base)
		second := d
		second.Outcome = state.Duplicate
		record(t, a, d, second)
		got, _, err := a.Get(ctx, d.ID)
		if err != nil || got.Outcome != state.Stored {
			t.Errorf("Get = %q, %v; want the first record (stored)", got.Outcome, err)
		}
	})
}
