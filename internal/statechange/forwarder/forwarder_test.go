package forwarder_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/statechange"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange/forwarder"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

// fakeBus records every PutEvents call; refuse decides, per call, which
// entries fail (by index) or whether the whole call fails.
type fakeBus struct {
	calls  [][]statechange.Detail
	refuse func(call int, entries []ebtypes.PutEventsRequestEntry) (failed map[int]bool, err error)
}

func (b *fakeBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	var failed map[int]bool
	if b.refuse != nil {
		var err error
		if failed, err = b.refuse(len(b.calls), in.Entries); err != nil {
			b.calls = append(b.calls, nil)
			return nil, err
		}
	}
	var ds []statechange.Detail
	out := &eventbridge.PutEventsOutput{}
	for i, e := range in.Entries {
		if aws.ToString(e.Source) != statechange.Source || aws.ToString(e.DetailType) != statechange.DetailType || aws.ToString(e.EventBusName) != "bus" {
			return nil, errors.New("entry with the wrong source, detail type or bus")
		}
		if failed[i] {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{ErrorCode: aws.String("InternalFailure")})
			continue
		}
		var d statechange.Detail
		if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
			return nil, err
		}
		ds = append(ds, d)
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String("id")})
	}
	b.calls = append(b.calls, ds)
	return out, nil
}

func (b *fakeBus) published() []string {
	var out []string
	for _, c := range b.calls {
		for _, d := range c {
			out = append(out, d.ItemKey[len(d.ItemKey)-1:]+":"+strconv.Itoa(d.StateCode))
		}
	}
	return out
}

// image is a state item as dynamostore writes it.
func image(key string, stateCode int, extra ...string) map[string]events.DynamoDBAttributeValue {
	m := map[string]events.DynamoDBAttributeValue{
		"itemKey":          events.NewStringAttribute(key),
		"stateCode":        events.NewNumberAttribute(strconv.Itoa(stateCode)),
		"franchiseCorpNum": events.NewStringAttribute("6798700433"),
		"eventType":        events.NewStringAttribute("Issue"),
		"mid":              events.NewStringAttribute("m-" + strconv.Itoa(stateCode)),
		"receivedAt":       events.NewStringAttribute("2025-11-27T05:10:03.12Z"),
		"interOPYN":        events.NewBooleanAttribute(true),
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = events.NewStringAttribute(extra[i+1])
	}
	return m
}

var seq int

func record(name string, before, after map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
	seq++
	return events.DynamoDBEventRecord{EventName: name, Change: events.DynamoDBStreamRecord{
		SequenceNumber: strconv.Itoa(seq), OldImage: before, NewImage: after,
	}}
}

const keyA, keyB, keyC = "02511271410320000A", "02511271410320000B", "02511271410320000C"

func handle(t *testing.T, bus *fakeBus, recs ...events.DynamoDBEventRecord) events.DynamoDBEventResponse {
	t.Helper()
	f := forwarder.New(bus, "bus", slog.New(slog.NewJSONHandler(io.Discard, nil)))
	resp, err := f.Handle(context.Background(), events.DynamoDBEvent{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func failedAt(resp events.DynamoDBEventResponse) string {
	if len(resp.BatchItemFailures) == 0 {
		return ""
	}
	return resp.BatchItemFailures[0].ItemIdentifier
}

func TestEveryIncreaseIsPutOnceInOrder(t *testing.T) {
	bus := &fakeBus{}
	resp := handle(t, bus,
		record("INSERT", nil, image(keyA, 300)),
		record("MODIFY", image(keyA, 300), image(keyA, 300, "dueQueue", "result")), // the result queue
		record("INSERT", nil, image(keyB, 300)),
		record("MODIFY", image(keyA, 300), image(keyA, 305, "alertStatus", "pending")),
		record("MODIFY", image(keyA, 305, "alertStatus", "pending"), image(keyA, 305, "alertStatus", "sent")), // the alert marked sent
		record("REMOVE", image(keyB, 300), nil),
		record("INSERT", nil, map[string]events.DynamoDBAttributeValue{"itemKey": events.NewStringAttribute(keyC)}), // no state
	)
	if got := failedAt(resp); got != "" {
		t.Fatalf("reported failure at %s", got)
	}
	want := []string{"A:300", "B:300", "A:305"}
	if got := bus.published(); !slices.Equal(got, want) {
		t.Errorf("published %v, want %v", got, want)
	}
	// A's 305 is in a later call than A's 300: one entry per cashbill per call.
	if len(bus.calls) != 2 || len(bus.calls[0]) != 2 {
		t.Fatalf("calls %v, want [A:300 B:300] then [A:305]", bus.calls)
	}
	if d := bus.calls[1][0]; d.PreviousStateCode != 300 {
		t.Errorf("A's 305 has previousStateCode %d, want 300", d.PreviousStateCode)
	}
}

func TestAFailureIsReportedAtTheFirstRecordNotPut(t *testing.T) {
	recs := func() []events.DynamoDBEventRecord {
		return []events.DynamoDBEventRecord{
			record("INSERT", nil, image(keyA, 300)),
			record("INSERT", nil, image(keyB, 300)),
			record("INSERT", nil, image(keyC, 300)),
			record("MODIFY", image(keyB, 300), image(keyB, 304)),
		}
	}
	t.Run("the bus fails the whole call: nothing after it is sent", func(t *testing.T) {
		bus := &fakeBus{refuse: func(int, []ebtypes.PutEventsRequestEntry) (map[int]bool, error) {
			return nil, errors.New("500")
		}}
		rs := recs()
		if got, want := failedAt(handle(t, bus, rs...)), rs[0].Change.SequenceNumber; got != want {
			t.Errorf("failure reported at %s, want %s (the first record)", got, want)
		}
		if len(bus.calls) != 1 {
			t.Errorf("%d calls, want 1: no call after a failed one", len(bus.calls))
		}
	})
	t.Run("the bus refuses one entry: retried from it, its cashbill's later state not sent", func(t *testing.T) {
		bus := &fakeBus{refuse: func(call int, _ []ebtypes.PutEventsRequestEntry) (map[int]bool, error) {
			return map[int]bool{1: call == 0}, nil // B's 300
		}}
		rs := recs()
		if got, want := failedAt(handle(t, bus, rs...)), rs[1].Change.SequenceNumber; got != want {
			t.Errorf("failure reported at %s, want %s (B's 300)", got, want)
		}
		if got, want := bus.published(), []string{"A:300", "C:300"}; !slices.Equal(got, want) {
			t.Errorf("published %v, want %v: B's 304 must wait for B's 300", got, want)
		}
	})
	t.Run("an unreadable record stops the batch at it", func(t *testing.T) {
		bus := &fakeBus{}
		bad := record("INSERT", nil, map[string]events.DynamoDBAttributeValue{"itemKey": events.NewStringAttribute(keyC), "stateCode": events.NewStringAttribute("three hundred")})
		resp := handle(t, bus, record("INSERT", nil, image(keyA, 300)), bad, record("INSERT", nil, image(keyB, 300)))
		if got := failedAt(resp); got != bad.Change.SequenceNumber {
			t.Errorf("failure reported at %s, want %s", got, bad.Change.SequenceNumber)
		}
		if got, want := bus.published(), []string{"A:300"}; !slices.Equal(got, want) {
			t.Errorf("published %v, want %v", got, want)
		}
	})
}

func TestTenEntriesAtMostPerCall(t *testing.T) {
	bus := &fakeBus{}
	var recs []events.DynamoDBEventRecord
	for i := range 25 {
		recs = append(recs, record("INSERT", nil, image("0251127141032"+strconv.Itoa(10000+i), 300)))
	}
	handle(t, bus, recs...)
	var sizes []int
	for _, c := range bus.calls {
		sizes = append(sizes, len(c))
	}
	if len(sizes) != 3 || sizes[0] != forwarder.MaxEntries || sizes[2] != 5 {
		t.Errorf("call sizes %v, want [10 10 5]", sizes)
	}
}

// TestSampleEventPutsItsTwoIncreases: events/stream-state-changes.json, the
// sample for make invoke FUNCTION=EventForwarderFunction, holds an issue, its
// NTS result and an alert marked sent: two events, the second after the first.
func TestSampleEventPutsItsTwoIncreases(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(modroot.Dir(t), "events", "stream-state-changes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	bus := &fakeBus{}
	if got := failedAt(handle(t, bus, ev.Records...)); got != "" {
		t.Fatalf("reported failure at %s", got)
	}
	if got, want := bus.published(), []string{"1:300", "1:304"}; !slices.Equal(got, want) {
		t.Errorf("published %v, want %v", got, want)
	}
}
