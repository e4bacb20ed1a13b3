// Package xray records each AWS SDK call of a traced Lambda invocation as an
// X-Ray subsegment, sent to the X-Ray daemon the Lambda runtime runs (UDP),
// and passes the trace on in the call's X-Amzn-Trace-Id header, so that a
// delivery's UpdateItem, Publish and PutItem show under its function segment
// and SNS links the Slack notifier's invocation to it.
//
// It is a few dozen lines rather than aws-xray-sdk-go, whose awsv2
// instrumentation also links the AWS SDK v1, gRPC and fasthttp: 13.5 MB more
// in an 8 MB bootstrap (docs/observability.md). Instrument is called only
// when the template's Tracing parameter is Active; the calls of an invocation
// that Lambda did not sample send nothing.
package xray

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// DefaultDaemon is where the X-Ray daemon listens when
// AWS_XRAY_DAEMON_ADDRESS does not say (Lambda sets it).
const DefaultDaemon = "127.0.0.1:2000"

// Instrument adds the subsegment and header middleware to every client built
// from cfg afterwards. daemon is AWS_XRAY_DAEMON_ADDRESS ("" for the default;
// Lambda's form "host:port" or "tcp:host:port udp:host:port").
func Instrument(cfg *aws.Config, daemon string) {
	s := &sender{addr: udpAddress(daemon)}
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		if err := stack.Initialize.Add(subsegmentMiddleware{s}, middleware.After); err != nil {
			return err
		}
		return stack.Build.Add(headerMiddleware{}, middleware.After)
	})
}

func udpAddress(daemon string) string {
	for _, f := range strings.Fields(daemon) {
		if a, ok := strings.CutPrefix(f, "udp:"); ok {
			return a
		}
		if !strings.Contains(f, ":") || strings.HasPrefix(f, "tcp:") {
			continue
		}
		return f
	}
	return DefaultDaemon
}

// traceHeader is the invocation's Root, Parent and Sampled, as Lambda passes
// them (context key "x-amzn-trace-id" of aws-lambda-go, or the
// _X_AMZN_TRACE_ID variable).
type traceHeader struct{ root, parent string }

func traceOf(ctx context.Context) (traceHeader, bool) {
	h, _ := ctx.Value("x-amzn-trace-id").(string)
	if h == "" {
		h = os.Getenv("_X_AMZN_TRACE_ID")
	}
	var t traceHeader
	sampled := false
	for _, part := range strings.Split(h, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			t.root = v
		case "Parent":
			t.parent = v
		case "Sampled":
			sampled = v == "1"
		}
	}
	return t, sampled && t.root != "" && t.parent != ""
}

// segmentKey carries the subsegment id from Initialize to Build.
type segmentKey struct{}

type subsegmentMiddleware struct{ s *sender }

func (subsegmentMiddleware) ID() string { return "XRaySubsegment" }

func (m subsegmentMiddleware) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	trace, ok := traceOf(ctx)
	if !ok {
		return next.HandleInitialize(ctx, in)
	}
	seg := subsegment{
		ID: newID(), TraceID: trace.root, ParentID: trace.parent, Type: "subsegment", Namespace: "aws",
		Name: awsmiddleware.GetServiceID(ctx), Start: seconds(time.Now()),
		AWS: awsInfo{Operation: awsmiddleware.GetOperationName(ctx), Region: awsmiddleware.GetRegion(ctx)},
	}
	ctx = middleware.WithStackValue(ctx, segmentKey{}, seg.TraceID+"|"+seg.ID)
	out, md, err := next.HandleInitialize(ctx, in)
	seg.End = seconds(time.Now())
	seg.AWS.RequestID, _ = awsmiddleware.GetRequestIDMetadata(md)
	status := 0
	if resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		status = resp.StatusCode
	}
	var re *smithyhttp.ResponseError
	if status == 0 && errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	if status != 0 {
		seg.HTTP = &httpInfo{Response: httpResponse{Status: status}}
	}
	switch {
	case status == 429:
		seg.Error, seg.Throttle = true, true
	case status >= 500 || (err != nil && status == 0):
		seg.Fault = true
	case status >= 400 || err != nil:
		seg.Error = true
	}
	m.s.send(seg)
	return out, md, err
}

type headerMiddleware struct{}

func (headerMiddleware) ID() string { return "XRayTraceHeader" }

func (headerMiddleware) HandleBuild(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
	ids, _ := middleware.GetStackValue(ctx, segmentKey{}).(string)
	if root, id, ok := strings.Cut(ids, "|"); ok {
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			req.Header.Set("X-Amzn-Trace-Id", "Root="+root+";Parent="+id+";Sampled=1")
		}
	}
	return next.HandleBuild(ctx, in)
}

// subsegment is an X-Ray segment document of the fields this package sets.
type subsegment struct {
	ID        string    `json:"id"`
	TraceID   string    `json:"trace_id"`
	ParentID  string    `json:"parent_id"`
	Type      string    `json:"type"`
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Start     float64   `json:"start_time"`
	End       float64   `json:"end_time"`
	AWS       awsInfo   `json:"aws"`
	HTTP      *httpInfo `json:"http,omitempty"`
	Error     bool      `json:"error,omitempty"`
	Fault     bool      `json:"fault,omitempty"`
	Throttle  bool      `json:"throttle,omitempty"`
}

type awsInfo struct {
	Operation string `json:"operation"`
	Region    string `json:"region,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

type httpInfo struct {
	Response httpResponse `json:"response"`
}

type httpResponse struct {
	Status int `json:"status"`
}

func seconds(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Header is the first line of every datagram the daemon takes.
const Header = `{"format": "json", "version": 1}` + "\n"

// sender writes datagrams to the daemon; a failure is dropped, never the
// call's: tracing must not fail a delivery.
type sender struct {
	addr string
	once sync.Once
	conn net.Conn
}

func (s *sender) send(seg subsegment) {
	s.once.Do(func() { s.conn, _ = net.Dial("udp", s.addr) })
	if s.conn == nil {
		return
	}
	doc, err := json.Marshal(seg)
	if err != nil {
		return
	}
	_, _ = s.conn.Write(append([]byte(Header), doc...))
}

// LoadAWSConfig is the SDK's default configuration (credentials, region,
// AWS_ENDPOINT_URL), instrumented when tracing is on: what a function's
// main builds its clients from, once per cold start.
func LoadAWSConfig(ctx context.Context, tracing bool, daemon string) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return cfg, err
	}
	if tracing {
		Instrument(&cfg, daemon)
	}
	return cfg, nil
}
