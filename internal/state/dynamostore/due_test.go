package dynamostore_test

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
)

// queueAPI is the due index and the table, with the table's answers injected.
type queueAPI struct {
	entries  []string
	batchGet func(in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error)
}

func (q queueAPI) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out := &dynamodb.QueryOutput{}
	for _, k := range q.entries {
		out.Items = append(out.Items, map[string]types.AttributeValue{"itemKey": &types.AttributeValueMemberS{Value: k}})
	}
	return out, nil
}

func (q queueAPI) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return q.batchGet(in)
}

func queuedItem(key, queue string, dueAt time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"itemKey": &types.AttributeValueMemberS{Value: key}, "stateCode": &types.AttributeValueMemberN{Value: "305"},
		"dueQueue": &types.AttributeValueMemberS{Value: queue}, "dueAt": &types.AttributeValueMemberN{Value: strconv.FormatInt(dueAt.UnixMilli(), 10)},
	}
}

// TestDueReadsTheItemsTheIndexNamesInItsOrder: the index gives keys in due
// order; the items come from BatchGetItem in any order, some only on a retry
// of the keys left unprocessed; an item that left the queue meanwhile, or
// was deleted, is not returned.
func TestDueReadsTheItemsTheIndexNamesInItsOrder(t *testing.T) {
	now := time.Now()
	table := map[string]map[string]types.AttributeValue{
		"000000000000000001": queuedItem("000000000000000001", state.QueueAlert, now.Add(-3*time.Minute)),
		"000000000000000002": queuedItem("000000000000000002", state.QueueAlert, now.Add(-2*time.Minute)),
		"000000000000000003": queuedItem("000000000000000003", state.QueueResult, now.Add(-time.Minute)), // moved meanwhile
		"000000000000000005": queuedItem("000000000000000005", state.QueueAlert, now.Add(time.Minute)),   // due later now
		"000000000000000006": queuedItem("000000000000000006", state.QueueAlert, now.Add(-time.Second)),
	}
	calls := 0
	api := queueAPI{
		entries: []string{"000000000000000006", "000000000000000002", "000000000000000003", "000000000000000004", "000000000000000005", "000000000000000001"},
		batchGet: func(in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
			calls++
			keys := in.RequestItems["state"].Keys
			out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
			for i := len(keys) - 1; i >= 0; i-- { // in another order than asked
				if calls == 1 && i%2 == 0 {
					ks := out.UnprocessedKeys["state"]
					ks.Keys = append(ks.Keys, keys[i])
					out.UnprocessedKeys = map[string]types.KeysAndAttributes{"state": ks}
					continue
				}
				k := keys[i]["itemKey"].(*types.AttributeValueMemberS).Value
				if item, ok := table[k]; ok {
					out.Responses["state"] = append(out.Responses["state"], item)
				}
			}
			return out, nil
		},
	}
	q := dynamostore.NewQueues(nil, api, "state")
	items, err := q.Due(context.Background(), state.QueueAlert, now, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Event.ItemKey)
	}
	want := []string{"000000000000000006", "000000000000000002", "000000000000000001"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("Due = %v, want %v", got, want)
	}
	if calls != 2 {
		t.Errorf("%d BatchGetItem calls, want 2: one, then one for the keys left unprocessed", calls)
	}
}

// TestDueWindowsListsEveryMemberOnce: a window's digest lists the entries the
// window kept itself (as windows once did), then its members, each as its
// own item's alert says, each itemKey once; a member whose item is gone is
// still listed, by its itemKey.
func TestDueWindowsListsEveryMemberOnce(t *testing.T) {
	now := time.Now()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	l := func(vs ...string) types.AttributeValue {
		out := &types.AttributeValueMemberL{}
		for _, v := range vs {
			out.Value = append(out.Value, s(v))
		}
		return out
	}
	win := queuedItem("storm#6798700433#20221222T0100Z", state.QueueDigest, now.Add(-time.Minute))
	win["corpNum"], win["windowStart"], win["windowEnd"] = s("6798700433"), &types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberN{Value: "2"}
	win["digestKeys"] = &types.AttributeValueMemberSS{Value: []string{"000000000000000001"}}
	win["entries"] = l(`{"itemKey":"000000000000000001","mgtKey":"kept","code":"TS1","kind":"failure"}`)
	win["members"] = l("000000000000000001", "000000000000000002", "000000000000000003")
	member := queuedItem("000000000000000002", "", now)
	delete(member, "dueQueue")
	member["alertPayload"] = s(`{"itemKey":"000000000000000002","mgtKey":"from-alert","ntsresultCode":"TS4","kind":"failure"}`)
	table := map[string]map[string]types.AttributeValue{"storm#6798700433#20221222T0100Z": win, "000000000000000002": member}
	api := queueAPI{
		entries: []string{"storm#6798700433#20221222T0100Z"},
		batchGet: func(in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
			out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
			for _, k := range in.RequestItems["state"].Keys {
				if item, ok := table[k["itemKey"].(*types.AttributeValueMemberS).Value]; ok {
					out.Responses["state"] = append(out.Responses["state"], item)
				}
			}
			return out, nil
		},
	}
	ws, err := dynamostore.NewQueues(nil, api, "state").DueWindows(context.Background(), now, 10)
	if err != nil || len(ws) != 1 {
		t.Fatalf("DueWindows = %+v, %v; want the window", ws, err)
	}
	want := []outbox.StormEntry{
		{ItemKey: "000000000000000001", MgtKey: "kept", Code: "TS1", Kind: alert.KindFailure},
		{ItemKey: "000000000000000002", MgtKey: "from-alert", Code: "TS4", Kind: alert.KindFailure},
		{ItemKey: "000000000000000003", Kind: alert.KindFailure},
	}
	if !reflect.DeepEqual(ws[0].Entries, want) {
		t.Errorf("entries = %+v\nwant %+v", ws[0].Entries, want)
	}
}

// TestResultEntriesNeverPassAnEntryWhoseItemWasNotRead: the watchdog moves
// its watermark to the last entry ResultEntries returns, so an entry whose
// item BatchGetItem left unprocessed, and every entry after it, is left out
// with the error; an entry whose item is gone is returned, not found.
func TestResultEntriesNeverPassAnEntryWhoseItemWasNotRead(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name        string
		unprocessed string // an itemKey BatchGetItem never processes
		deleted     string // an itemKey with no item
		want        []string
		found       []bool
		wantErr     bool
	}{
		{"every item read", "", "", []string{"000000000000000001", "000000000000000002", "000000000000000003"}, []bool{true, true, true}, false},
		{"an item gone is returned, not found", "", "000000000000000002", []string{"000000000000000001", "000000000000000002", "000000000000000003"}, []bool{true, false, true}, false},
		{"an item never read stops the entries before it", "000000000000000002", "", []string{"000000000000000001"}, []bool{true}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := queueAPI{
				entries: []string{"000000000000000001", "000000000000000002", "000000000000000003"},
				batchGet: func(in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
					out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
					for _, k := range in.RequestItems["state"].Keys {
						key := k["itemKey"].(*types.AttributeValueMemberS).Value
						switch key {
						case tc.unprocessed:
							out.UnprocessedKeys = map[string]types.KeysAndAttributes{"state": {Keys: []map[string]types.AttributeValue{k}}}
						case tc.deleted:
						default:
							out.Responses["state"] = append(out.Responses["state"], queuedItem(key, state.QueueResult, now))
						}
					}
					return out, nil
				},
			}
			entries, err := dynamostore.NewQueues(nil, api, "state").ResultEntries(context.Background(), state.Position{}, now, 10)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tc.wantErr)
			}
			var got []string
			var found []bool
			for _, e := range entries {
				got, found = append(got, e.At.ItemKey), append(found, e.Found)
			}
			if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(found, tc.found) {
				t.Errorf("entries %v found %v, want %v found %v", got, found, tc.want, tc.found)
			}
		})
	}
}
