package logarchive

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// patterns records the filter patterns and time ranges the reader asks for;
// moto treats JSON patterns as match-all, so this is where they are pinned.
type patterns struct {
	got []*cloudwatchlogs.FilterLogEventsInput
}

func (p *patterns) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	c := *in
	p.got = append(p.got, &c)
	return &cloudwatchlogs.FilterLogEventsOutput{}, nil
}

func TestLookupsAskCloudWatchLogsForTheirLinesOnly(t *testing.T) {
	const lines = `{ ($.message = "request" || $.message = "resend")`
	id := archive.NewID(time.Now().Add(-time.Hour))
	cases := []struct {
		name   string
		lookup func(r *Reader) error
		want   string
	}{
		{"one delivery", func(r *Reader) error { _, _, err := r.Get(context.Background(), id); return err },
			lines + ` && $.deliveryId = "` + id + `" }`},
		{"a cashbill", func(r *Reader) error { _, err := r.ByItem(context.Background(), "022122116191200001", 0); return err },
			lines + ` && $.itemKey = "022122116191200001" }`},
		{"a document", func(r *Reader) error {
			_, err := r.ByMgtKey(context.Background(), "6798700433", "20221221-001", 0)
			return err
		}, lines + ` && $.mgtKey = "20221221-001" && $.corpNum = "6798700433" }`},
		{"a window by outcome and business", func(r *Reader) error {
			_, err := r.Window(context.Background(), archive.Query{From: time.Now().Add(-time.Hour), To: time.Now(), Outcome: state.Rejected, CorpNum: "6798700433"})
			return err
		}, lines + ` && $.outcome = "rejected" && $.corpNum = "6798700433" }`},
		{"a value a pattern cannot quote is left to the reader", func(r *Reader) error {
			_, err := r.ByMgtKey(context.Background(), "6798700433", `a" || $.x = "`, 0)
			return err
		}, lines + ` && $.corpNum = "6798700433" }`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := &patterns{}
			if err := c.lookup(NewReader(api, "g", 90*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if len(api.got) == 0 {
				t.Fatal("no FilterLogEvents call")
			}
			for _, in := range api.got {
				if got := aws.ToString(in.FilterPattern); got != c.want {
					t.Errorf("FilterPattern = %s\nwant %s", got, c.want)
				}
			}
		})
	}
}

func TestOneDeliveryIsLookedForInTheMinutesAfterItsID(t *testing.T) {
	api := &patterns{}
	at := time.Now().Add(-time.Hour).Truncate(time.Microsecond)
	if _, _, err := NewReader(api, "g", time.Hour).Get(context.Background(), archive.NewID(at)); err != nil {
		t.Fatal(err)
	}
	in := api.got[0]
	if aws.ToInt64(in.StartTime) != at.UnixMilli() || aws.ToInt64(in.EndTime) != at.Add(MaxLag).UnixMilli() {
		t.Errorf("searched [%d, %d], want [%d, %d]: the ID's time to MaxLag after it", aws.ToInt64(in.StartTime), aws.ToInt64(in.EndTime), at.UnixMilli(), at.Add(MaxLag).UnixMilli())
	}
}
