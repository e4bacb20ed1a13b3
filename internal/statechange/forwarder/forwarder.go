// Package forwarder is the Lambda handler that reads the state table's
// DynamoDB stream (NEW_AND_OLD_IMAGES) and puts one "Cashbill State Changed"
// event on the EventBridge bus for each write that raised a cashbill's
// stateCode (statechange.Increase). It runs beside the webhook, never in it:
// the webhook's answer to POPBiLL does not wait on EventBridge.
//
// Delivery is at least once, in stream order within a cashbill. Records are
// put in order, at most one per cashbill in each PutEvents call, and a call
// is made only when every earlier one succeeded; on a failure the handler
// reports the first record not known to be on the bus (partial batch
// response), so Lambda retries from it and nothing after it for the same
// cashbill reaches the bus before it. Records of other cashbills in the
// failed call may go out again: consumers deduplicate on (itemKey, stateCode).
package forwarder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange"
)

// API is the EventBridge call the forwarder makes; template.yaml grants
// exactly this, on the bus only.
type API interface {
	PutEvents(ctx context.Context, params *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// MaxEntries is the most entries PutEvents takes in one call.
const MaxEntries = 10

// Forwarder puts state increases on one bus.
type Forwarder struct {
	api API
	bus string
	log *slog.Logger
}

// New returns a forwarder to the bus named bus.
func New(api API, bus string, log *slog.Logger) *Forwarder {
	return &Forwarder{api: api, bus: bus, log: log}
}

// Report is what one batch did, for its log line.
type Report struct {
	Records   int `json:"records"`
	Published int `json:"published"`
	// Skipped are writes that raised no stateCode (the alert's lifecycle, a
	// removal, a write of an item with no state).
	Skipped int `json:"skipped"`
	// FailedAt is the sequence number of the first record not published, from
	// which Lambda retries the batch; empty when all went out.
	FailedAt string `json:"failedAt,omitempty"`
	Cause    string `json:"cause,omitempty"`
}

// pending is one increase waiting to be put, with the record it came from.
type pending struct {
	seq   string
	key   string
	entry ebtypes.PutEventsRequestEntry
}

// Handle is the handler for a batch of stream records, with
// FunctionResponseTypes ReportBatchItemFailures. It returns an error only
// when it cannot answer for a record at all.
func (f *Forwarder) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	rep := Report{Records: len(ev.Records)}
	var todo []pending
	for _, r := range ev.Records {
		d, ok, err := increase(r)
		if err != nil {
			// Not an item the store wrote: retried, then parked in the
			// dead-letter queue, where the alarm shows it.
			rep.Cause = "a record whose image is not a stored cashbill state"
			todo = append(todo, pending{seq: r.Change.SequenceNumber})
			break
		}
		if !ok {
			rep.Skipped++
			continue
		}
		detail, err := json.Marshal(d)
		if err != nil {
			return events.DynamoDBEventResponse{}, err
		}
		todo = append(todo, pending{seq: r.Change.SequenceNumber, key: d.ItemKey, entry: ebtypes.PutEventsRequestEntry{
			EventBusName: aws.String(f.bus),
			Source:       aws.String(statechange.Source),
			DetailType:   aws.String(statechange.DetailType),
			Detail:       aws.String(string(detail)),
		}})
	}
	failed := f.put(ctx, todo, &rep)
	// An empty list, not null: every record went out.
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	level := slog.LevelInfo
	if failed != "" {
		rep.FailedAt = failed
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: failed})
		level = slog.LevelError
	}
	f.log.Log(ctx, level, "forward", "report", rep)
	return resp, nil
}

// put sends todo in order and returns the sequence number of the first
// record not known to be on the bus, or "".
func (f *Forwarder) put(ctx context.Context, todo []pending, rep *Report) string {
	for len(todo) > 0 {
		if todo[0].key == "" { // an unreadable record stops the batch here
			return todo[0].seq
		}
		call := nextCall(todo)
		entries := make([]ebtypes.PutEventsRequestEntry, len(call))
		for i, p := range call {
			entries[i] = p.entry
		}
		out, err := f.api.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil {
			rep.Cause = cause(err)
			return call[0].seq
		}
		first := -1
		for i := range call {
			if i >= len(out.Entries) || out.Entries[i].ErrorCode != nil {
				if first < 0 {
					first = i
				}
				continue
			}
			rep.Published++
		}
		if first >= 0 {
			rep.Cause = "PutEvents refused an entry"
			if first < len(out.Entries) {
				rep.Cause += ": " + aws.ToString(out.Entries[first].ErrorCode)
			}
			return call[first].seq
		}
		todo = todo[len(call):]
	}
	return ""
}

// nextCall is the longest prefix of todo with at most MaxEntries readable
// records and at most one per cashbill, so that a cashbill's later state is
// never put in the same call as, or before, an earlier one that may fail.
func nextCall(todo []pending) []pending {
	seen := map[string]bool{}
	n := 0
	for n < len(todo) && n < MaxEntries && todo[n].key != "" && !seen[todo[n].key] {
		seen[todo[n].key] = true
		n++
	}
	return todo[:n]
}

// increase reads one stream record: the event of the increase it made, if any.
func increase(r events.DynamoDBEventRecord) (statechange.Detail, bool, error) {
	if r.EventName == string(events.DynamoDBOperationTypeRemove) || r.Change.NewImage == nil {
		return statechange.Detail{}, false, nil
	}
	after, err := image(r.Change.NewImage)
	if err != nil {
		return statechange.Detail{}, false, err
	}
	var before *state.Item
	if r.Change.OldImage != nil {
		old, err := image(r.Change.OldImage)
		if err != nil {
			return statechange.Detail{}, false, err
		}
		before = &old
	}
	d, ok := statechange.Increase(before, after)
	return d, ok, nil
}

func image(img map[string]events.DynamoDBAttributeValue) (state.Item, error) {
	m, err := attributeMap(img)
	if err != nil {
		return state.Item{}, err
	}
	return dynamostore.DecodeImage(m)
}

// cause names what went wrong in words fit for a log line: the service's
// error code, not its message.
func cause(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return "PutEvents failed: " + api.ErrorCode()
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "PutEvents did not answer in time"
	}
	return "PutEvents failed: " + fmt.Sprintf("%T", err)
}

// attributeMap converts a Lambda stream image to the SDK's attribute values,
// which the store's decoder reads.
func attributeMap(in map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(in))
	for k, v := range in {
		a, err := attribute(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = a
	}
	return out, nil
}

func attribute(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		var l []types.AttributeValue
		for _, e := range v.List() {
			a, err := attribute(e)
			if err != nil {
				return nil, err
			}
			l = append(l, a)
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case events.DataTypeMap:
		m, err := attributeMap(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unknown attribute type %v", v.DataType())
}
