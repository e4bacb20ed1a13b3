package mototest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// LogGroup creates a log group and returns a client and the group's name.
func LogGroup(tb testing.TB) (*cloudwatchlogs.Client, string) {
	tb.Helper()
	client := cloudwatchlogs.NewFromConfig(Config(tb))
	name := Name(tb, "logs")
	// As Table: a retried create finds the group its first try made.
	_, err := client.CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name)})
	var exists *types.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		tb.Fatalf("create log group %s on moto: %v", name, err)
	}
	return client, name
}

// Shipper is what Lambda does with a function's output: each line written
// to it becomes a log event of stream in group, timed when it was written.
type Shipper struct {
	tb            testing.TB
	client        *cloudwatchlogs.Client
	group, stream string
	mu            sync.Mutex
	buf           bytes.Buffer
}

// Ship returns a shipper into a new stream of group.
func Ship(tb testing.TB, client *cloudwatchlogs.Client, group string) *Shipper {
	tb.Helper()
	stream := Name(tb, "stream")
	_, err := client.CreateLogStream(context.Background(), &cloudwatchlogs.CreateLogStreamInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
	})
	var exists *types.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) { // a retried create, as in LogGroup
		tb.Fatalf("create log stream on moto: %v", err)
	}
	return &Shipper{tb: tb, client: client, group: group, stream: stream}
}

// Write puts every whole line of p as one event.
func (s *Shipper) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	for {
		i := bytes.IndexByte(s.buf.Bytes(), '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(s.buf.Next(i + 1)[:i])
		_, err := s.client.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
			LogGroupName: aws.String(s.group), LogStreamName: aws.String(s.stream),
			LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String(line)}},
		})
		if err != nil {
			s.tb.Errorf("ship a log line to moto: %v", err)
			return 0, err
		}
	}
}
