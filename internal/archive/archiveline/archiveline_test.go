package archiveline_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archiveline"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archivetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

func TestALineDecodesAsWhatTheArchiveKeeps(t *testing.T) {
	at := time.Now().Truncate(time.Microsecond)
	applied := archivetest.Accepted(archivetest.ItemKey(), at)
	refused := applied
	refused.Status, refused.Outcome, refused.Reason = 400, state.Rejected, "the event was not accepted"
	notUTF8 := refused
	notUTF8.Body = []byte{0xff, 'a', 0}
	resent := archive.Delivery{ID: archive.NewID(at), ReceivedAt: at, Outcome: state.Resent, ItemKey: applied.ItemKey,
		StateCode: 305, Authenticated: true, ResentBy: "kim", AlertID: "a-1", MessageID: "m-1"}
	for _, c := range []struct {
		name string
		d    archive.Delivery
	}{
		{"applied: no request", applied},
		{"refused: the request", refused},
		{"refused, a body that is not UTF-8", notUTF8},
		{"an alert resent on purpose", resent},
	} {
		t.Run(c.name, func(t *testing.T) {
			line, err := archiveline.Encode(c.d)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := archiveline.Decode(string(line))
			want := archiveline.Kept(c.d)
			if !got.ReceivedAt.Equal(want.ReceivedAt) {
				t.Errorf("receivedAt %v, want %v", got.ReceivedAt, want.ReceivedAt)
			}
			got.ReceivedAt = want.ReceivedAt
			if !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("Decode(%s) =\n%+v, %v\nwant\n%+v", line, got, ok, want)
			}
			if !archive.Refused(c.d.Outcome) && (strings.Contains(string(line), `"body":`) || strings.Contains(string(line), `"headers":`)) {
				t.Errorf("an applied delivery's line keeps its request: %s", line)
			}
		})
	}
}

func TestOnlyRequestLinesAndResendRecordsAreDeliveries(t *testing.T) {
	id := archive.NewID(time.Now())
	for _, line := range []string{
		`{"message":"alert published but not recorded","deliveryId":"` + id + `"}`,
		`{"message":"request"}`,
		`{"message":"request","deliveryId":"not-an-id"}`,
		`START RequestId: 1 Version: $LATEST`,
	} {
		if d, ok := archiveline.Decode(line); ok {
			t.Errorf("Decode(%s) = %+v, want no delivery", line, d)
		}
	}
}
