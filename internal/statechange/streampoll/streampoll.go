// Package streampoll reads a DynamoDB table's stream and hands its records,
// in order, to a stream handler, as Lambda's event source mapping does for
// the deployed forwarder (template.yaml, EventForwarderStream): the local
// stand-in for that mapping, for make run-moto and the tests on moto_server.
//
// Like the mapping, it starts at the oldest record (TRIM_HORIZON), hands at
// most BatchSize records at a time, and when the handler reports a failed
// record (partial batch response) or fails, hands the batch again from that
// record at the next poll. Unlike it, it follows every shard's iterator
// without regard to shard lineage: moto_server keeps one shard per table.
package streampoll

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	st "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// BatchSize is the most records handed at once, as template.yaml's mapping.
const BatchSize = 100

// TableAPI finds the table's stream.
type TableAPI interface {
	DescribeTable(ctx context.Context, params *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// API is the stream calls the poller makes.
type API interface {
	DescribeStream(ctx context.Context, params *dynamodbstreams.DescribeStreamInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, params *dynamodbstreams.GetShardIteratorInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, params *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// Handler is a stream handler with partial batch responses, such as
// forwarder.Forwarder.Handle or a call to the built function.
type Handler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Poller reads one table's stream.
type Poller struct {
	api     API
	stream  string
	handler Handler
	// iterators holds the next iterator of each shard read so far.
	iterators map[string]string
	// backlog is what was read and not yet handled successfully, in order.
	backlog []events.DynamoDBEventRecord
}

// New finds table's stream and returns a poller that hands it to handler
// from its oldest record.
func New(ctx context.Context, tables TableAPI, api API, table string, handler Handler) (*Poller, error) {
	out, err := tables.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("streampoll: describe table %s: %w", table, err)
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	if arn == "" {
		return nil, fmt.Errorf("streampoll: table %s has no stream (template.yaml's StreamSpecification)", table)
	}
	return &Poller{api: api, stream: arn, handler: handler, iterators: map[string]string{}}, nil
}

// Poll reads the records written since the last poll and hands the backlog
// to the handler, a batch at a time, until it is empty or the handler
// reports a failure. It returns how many records were handled.
func (p *Poller) Poll(ctx context.Context) (int, error) {
	if err := p.read(ctx); err != nil {
		return 0, err
	}
	handled := 0
	for len(p.backlog) > 0 {
		batch := p.backlog[:min(len(p.backlog), BatchSize)]
		resp, err := p.handler(ctx, events.DynamoDBEvent{Records: batch})
		if err != nil {
			return handled, fmt.Errorf("streampoll: the handler failed; the batch is handed again at the next poll: %w", err)
		}
		done := len(batch)
		if len(resp.BatchItemFailures) > 0 {
			done = indexOf(batch, resp.BatchItemFailures[0].ItemIdentifier)
		}
		p.backlog = p.backlog[done:]
		handled += done
		if done < len(batch) {
			return handled, nil // retried from the failed record at the next poll
		}
	}
	return handled, nil
}

// Run polls every interval until ctx is done, logging failures.
func (p *Poller) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			log.Error("stream poll", "cause", "the stream could not be read or handled; retried at the next poll", "pending", len(p.backlog))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// indexOf is the position of the record with sequence number seq; the whole
// batch when the handler named a record not in it (Lambda, too, then retries
// the whole batch).
func indexOf(batch []events.DynamoDBEventRecord, seq string) int {
	for i, r := range batch {
		if r.Change.SequenceNumber == seq {
			return i
		}
	}
	return 0
}

// read appends every shard's new records to the backlog.
func (p *Poller) read(ctx context.Context) error {
	desc, err := p.api.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.stream)})
	if err != nil {
		return fmt.Errorf("streampoll: describe stream: %w", err)
	}
	for _, sh := range desc.StreamDescription.Shards {
		id := aws.ToString(sh.ShardId)
		it, ok := p.iterators[id]
		if !ok {
			out, err := p.api.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
				StreamArn: aws.String(p.stream), ShardId: sh.ShardId, ShardIteratorType: st.ShardIteratorTypeTrimHorizon,
			})
			if err != nil {
				return fmt.Errorf("streampoll: shard iterator: %w", err)
			}
			it = aws.ToString(out.ShardIterator)
		}
		for it != "" {
			out, err := p.api.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(it)})
			if err != nil {
				return fmt.Errorf("streampoll: get records: %w", err)
			}
			for _, r := range out.Records {
				p.backlog = append(p.backlog, record(r))
			}
			next := aws.ToString(out.NextShardIterator)
			p.iterators[id] = next
			if len(out.Records) == 0 || next == "" {
				break
			}
			it = next
		}
	}
	return nil
}

// record is the stream record as Lambda hands it to a function.
func record(r st.Record) events.DynamoDBEventRecord {
	out := events.DynamoDBEventRecord{
		AWSRegion: aws.ToString(r.AwsRegion), EventID: aws.ToString(r.EventID), EventName: string(r.EventName),
		EventSource: aws.ToString(r.EventSource), EventVersion: aws.ToString(r.EventVersion),
	}
	if c := r.Dynamodb; c != nil {
		out.Change = events.DynamoDBStreamRecord{
			Keys: image(c.Keys), NewImage: image(c.NewImage), OldImage: image(c.OldImage),
			SequenceNumber: aws.ToString(c.SequenceNumber), SizeBytes: aws.ToInt64(c.SizeBytes),
			StreamViewType: string(c.StreamViewType),
		}
		if c.ApproximateCreationDateTime != nil {
			out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *c.ApproximateCreationDateTime}
		}
	}
	return out
}

func image(m map[string]st.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = attribute(v)
	}
	return out
}

func attribute(v st.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *st.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *st.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *st.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *st.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *st.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *st.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *st.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *st.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = attribute(e)
		}
		return events.NewListAttribute(l)
	case *st.AttributeValueMemberM:
		return events.NewMapAttribute(image(v.Value))
	}
	return events.NewNullAttribute()
}
