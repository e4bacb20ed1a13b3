// Package logarchive is the production adapter of the delivery archive: the
// webhook's own request line in CloudWatch Logs (package archiveline is the
// line). Lambda ships each line to the function's log group, whose retention
// is the archive's, so archiving a delivery costs the webhook no AWS call.
//
// Reader looks deliveries up with FilterLogEvents over the log group, and
// Recorder writes the same lines from programs that are not the Lambda (the
// cashbill tool's replays and resends, make run-moto) into a stream of their
// own. Both pass archivetest, with the difference archiveline.Kept declares.
package logarchive

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archiveline"
)

// ReadAPI is the call the reader makes, for operators (cmd/cashbill).
type ReadAPI interface {
	FilterLogEvents(ctx context.Context, params *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// WriteAPI is the calls the recorder makes.
type WriteAPI interface {
	PutLogEvents(ctx context.Context, params *cloudwatchlogs.PutLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
	CreateLogStream(ctx context.Context, params *cloudwatchlogs.CreateLogStreamInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
}

// ToolStream is the log stream the programs that are not the Lambda record into.
const ToolStream = "cashbill-tool"

// MaxLag is the longest a request line can be logged after its delivery was
// received: Lambda's longest timeout. A line's event time is when Lambda
// captured it, its delivery's receive time is its ID's.
const MaxLag = 15 * time.Minute

// Reader implements archive.Reader on a log group.
type Reader struct {
	api       ReadAPI
	group     string
	retention time.Duration
	now       func() time.Time
}

var _ archive.Reader = (*Reader)(nil)

// NewReader returns a reader of the log group, whose lines are kept for
// retention: how far back a cashbill's deliveries are looked for.
func NewReader(api ReadAPI, group string, retention time.Duration) *Reader {
	return &Reader{api: api, group: group, retention: retention, now: time.Now}
}

// windowStep is the first slice of a time window read: a window is read
// newest slice first, each twice the last, until the limit is reached.
const windowStep = time.Hour

// Get reads one delivery: the lines logged within MaxLag of its ID's time.
func (r *Reader) Get(ctx context.Context, id string) (archive.Delivery, bool, error) {
	at, ok := archive.IDTime(id)
	if !ok {
		return archive.Delivery{}, false, nil
	}
	q := scan{terms: []term{{"deliveryId", id}}, from: at, to: at.Add(time.Microsecond), limit: 1,
		keep: func(d archive.Delivery) bool { return d.ID == id }}
	ds, err := r.scan(ctx, q)
	if err != nil || len(ds) == 0 {
		return archive.Delivery{}, false, err
	}
	return ds[0], true, nil
}

// ByItem reads the deliveries of a cashbill over the retention.
func (r *Reader) ByItem(ctx context.Context, itemKey string, limit int) ([]archive.Delivery, error) {
	return r.scan(ctx, r.retained(scan{terms: []term{{"itemKey", itemKey}}, limit: archive.Limit(limit),
		keep: func(d archive.Delivery) bool { return d.ItemKey == itemKey }}))
}

// ByMgtKey reads the deliveries of a business's document over the retention.
func (r *Reader) ByMgtKey(ctx context.Context, corpNum, mgtKey string, limit int) ([]archive.Delivery, error) {
	return r.scan(ctx, r.retained(scan{terms: []term{{"mgtKey", mgtKey}, {"corpNum", corpNum}}, limit: archive.Limit(limit),
		keep: func(d archive.Delivery) bool { return d.MgtKey == mgtKey && d.CorpNum == corpNum }}))
}

// Window reads the deliveries q selects, newest slice of the window first.
func (r *Reader) Window(ctx context.Context, q archive.Query) ([]archive.Delivery, error) {
	s := scan{from: q.From, to: q.To, limit: archive.Limit(q.Limit), step: windowStep, keep: q.Matches}
	if q.Outcome != "" {
		s.terms = append(s.terms, term{"outcome", string(q.Outcome)})
	}
	if q.CorpNum != "" {
		s.terms = append(s.terms, term{"corpNum", q.CorpNum})
	}
	return r.scan(ctx, s)
}

// retained is s over the log group's retention, read in one slice (its
// terms select few lines).
func (r *Reader) retained(s scan) scan {
	now := r.now()
	s.from, s.to = now.Add(-r.retention), now.Add(time.Minute)
	return s
}

// term is one `$.key = "value"` of a filter pattern.
type term struct{ key, value string }

// scan is one lookup: the deliveries received in [from, to) that keep
// accepts (and terms select), newest first, up to limit. step, when set, is
// the first slice's length; else the whole range is read at once.
type scan struct {
	terms    []term
	from, to time.Time
	limit    int
	step     time.Duration
	keep     func(archive.Delivery) bool
}

// patternValue is what a filter pattern may quote as is; a term with any
// other value is left to the client-side check.
var patternValue = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// pattern is the JSON filter pattern of the archive's lines and terms, so
// that CloudWatch Logs returns only those. The reader checks every line it
// gets all the same (moto treats JSON patterns as match-all).
func pattern(terms []term) string {
	var b strings.Builder
	b.WriteString(`{ ($.message = "` + archiveline.MessageRequest + `" || $.message = "` + archiveline.MessageResend + `")`)
	for _, t := range terms {
		if patternValue.MatchString(t.value) {
			b.WriteString(` && $.` + t.key + ` = "` + t.value + `"`)
		}
	}
	b.WriteString(" }")
	return b.String()
}

// scan reads s's lines in slices of event time, newest first. A line is
// logged within MaxLag after its delivery's receive time, so once a slice
// starting at t is read, every delivery received at or after t is known:
// those are answered, newest first, before the next (older) slice is read.
// Of several lines with one ID, the first logged is the record.
func (r *Reader) scan(ctx context.Context, s scan) ([]archive.Delivery, error) {
	if !s.from.Before(s.to) {
		return nil, nil
	}
	filter := pattern(s.terms)
	lo, end := s.from.UnixMilli(), s.to.Add(MaxLag-time.Nanosecond).UnixMilli()+1
	step := end - lo
	if s.step > 0 {
		step = s.step.Milliseconds()
	}
	type logged struct {
		d  archive.Delivery
		at int64
	}
	found := map[string]logged{}
	var out []archive.Delivery
	for end > lo && len(out) < s.limit {
		start := max(lo, end-step)
		if err := r.filter(ctx, filter, start, end, func(d archive.Delivery, at int64) {
			if f, dup := found[d.ID]; (!dup || at < f.at) && !d.ReceivedAt.Before(s.from) && d.ReceivedAt.Before(s.to) && s.keep(d) {
				found[d.ID] = logged{d, at}
			}
		}); err != nil {
			return nil, err
		}
		var known []archive.Delivery
		for id, f := range found {
			if f.d.ReceivedAt.UnixMilli() >= start {
				known = append(known, f.d)
				delete(found, id)
			}
		}
		slices.SortFunc(known, func(a, b archive.Delivery) int { return strings.Compare(b.ID, a.ID) })
		out = append(out, known...)
		end, step = start, step*2
	}
	if len(out) > s.limit {
		out = out[:s.limit]
	}
	return out, nil
}

// filter hands each archive line the log group holds with an event time in
// [start, end) milliseconds to each, with that time, oldest first.
func (r *Reader) filter(ctx context.Context, pattern string, start, end int64, each func(archive.Delivery, int64)) error {
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(r.group), FilterPattern: aws.String(pattern),
		StartTime: aws.Int64(start), EndTime: aws.Int64(end - 1), // EndTime is included
	}
	for {
		page, err := r.api.FilterLogEvents(ctx, in)
		if err != nil {
			return fmt.Errorf("logarchive: filter %s: %w", r.group, err)
		}
		for _, e := range page.Events {
			if d, ok := archiveline.Decode(aws.ToString(e.Message)); ok {
				each(d, aws.ToInt64(e.Timestamp))
			}
		}
		if page.NextToken == nil {
			return nil
		}
		in.NextToken = page.NextToken
	}
}

// Recorder implements archive.Recorder on a log stream of its own.
type Recorder struct {
	api           WriteAPI
	group, stream string
}

var _ archive.Recorder = (*Recorder)(nil)

// NewRecorder returns a recorder into stream of the log group, which it
// creates when it is missing.
func NewRecorder(api WriteAPI, group, stream string) *Recorder {
	return &Recorder{api: api, group: group, stream: stream}
}

// Record writes d's line, its event time d's ID's.
func (r *Recorder) Record(ctx context.Context, d archive.Delivery) error {
	at, ok := archive.IDTime(d.ID)
	if !ok {
		return fmt.Errorf("logarchive: %q is not an archive ID", d.ID)
	}
	msg, err := archiveline.Encode(d)
	if err != nil {
		return fmt.Errorf("logarchive: encode %s: %w", d.ID, err)
	}
	in := &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String(r.group), LogStreamName: aws.String(r.stream),
		LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(at.UnixMilli()), Message: aws.String(string(msg))}},
	}
	out, err := r.api.PutLogEvents(ctx, in)
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		if err := r.createStream(ctx); err != nil {
			return err
		}
		out, err = r.api.PutLogEvents(ctx, in)
	}
	if err != nil {
		return fmt.Errorf("logarchive: put %s: %w", d.ID, err)
	}
	if rej := out.RejectedLogEventsInfo; rej != nil {
		return fmt.Errorf("logarchive: %s was refused by log group %s: its time %s is outside what the group accepts", d.ID, r.group, at.Format(time.RFC3339))
	}
	return nil
}

func (r *Recorder) createStream(ctx context.Context) error {
	_, err := r.api.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(r.group), LogStreamName: aws.String(r.stream)})
	var exists *types.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("logarchive: create log stream %s in %s: %w", r.stream, r.group, err)
	}
	return nil
}
