// Package ssmparam reads one SSM parameter: GetParameter over SSM's JSON 1.1
// protocol, signed with the SDK's own SigV4 signer.
//
// It exists for cold start. The SDK's SSM client is used for one call per
// cold start, yet importing it costs about 44 ms of package initialisation
// (its schemas package) and 570 KB of binary; this client costs neither and
// keeps what matters from the SDK: its credential chain and region (from an
// aws.Config), AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL, and a few retries
// on throttling and server errors.
package ssmparam

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// GetParameterInput, GetParameterOutput and Parameter keep the SDK's shape
// (pointer fields), so that a port written against the SDK's client reads
// the same against this one.
type GetParameterInput struct {
	Name           *string
	WithDecryption *bool
}

// GetParameterOutput is GetParameter's answer.
type GetParameterOutput struct {
	Parameter *Parameter
}

// Parameter is the part of SSM's Parameter this client decodes.
type Parameter struct {
	Name    *string
	Type    *string
	Value   *string
	Version int64
	ARN     *string
}

// Error is an SSM error answer. It carries the parameter's name and the error
// code, never the service's message (which nothing here needs) nor a value.
// It is a smithy.APIError, as the SDK's errors are.
type Error struct {
	Name   string // the parameter asked for
	Code   string // e.g. ParameterNotFound, AccessDeniedException, ThrottlingException
	Status int    // the HTTP status; 0 when no answer came
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("SSM GetParameter %q: %s", e.Name, e.Code)
	}
	return fmt.Sprintf("SSM GetParameter %q: %s (HTTP %d)", e.Name, e.Code, e.Status)
}

// ErrorCode is the SSM error code.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage is the code again: the service's message is not kept.
func (e *Error) ErrorMessage() string { return e.Code }

// ErrorFault is FaultClient for 4xx answers, FaultServer otherwise.
func (e *Error) ErrorFault() smithy.ErrorFault {
	if e.Status >= 400 && e.Status < 500 {
		return smithy.FaultClient
	}
	return smithy.FaultServer
}

var _ smithy.APIError = (*Error)(nil)

// HTTPClient is what the client sends requests with; aws.Config.HTTPClient
// satisfies it.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Client reads SSM parameters.
type Client struct {
	creds    aws.CredentialsProvider
	region   string
	endpoint string
	http     HTTPClient
	signer   *v4.Signer
	attempts int
	backoff  time.Duration
	now      func() time.Time
}

// New builds a client from the SDK configuration (credentials, region, HTTP
// client, BaseEndpoint, which LoadDefaultConfig sets from AWS_ENDPOINT_URL)
// and getenv, read for AWS_ENDPOINT_URL_SSM, which takes precedence, as in
// the SDK, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
func New(cfg aws.Config, getenv func(string) string) *Client {
	c := &Client{
		creds:    cfg.Credentials,
		region:   cfg.Region,
		http:     cfg.HTTPClient,
		signer:   v4.NewSigner(),
		attempts: 3,
		backoff:  100 * time.Millisecond,
		now:      time.Now,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 10 * time.Second}
	}
	ignore := strings.EqualFold(strings.TrimSpace(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")), "true")
	switch {
	case !ignore && getenv("AWS_ENDPOINT_URL_SSM") != "":
		c.endpoint = getenv("AWS_ENDPOINT_URL_SSM")
	case cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "":
		c.endpoint = *cfg.BaseEndpoint
	default:
		c.endpoint = defaultEndpoint(cfg.Region)
	}
	return c
}

// WithRetry sets how many attempts a retryable failure gets and the first
// backoff (doubled each time, with jitter); for tests.
func (c *Client) WithRetry(attempts int, backoff time.Duration) *Client {
	c.attempts, c.backoff = max(attempts, 1), backoff
	return c
}

func defaultEndpoint(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "https://ssm." + region + ".amazonaws.com.cn"
	}
	return "https://ssm." + region + ".amazonaws.com"
}

// Endpoint is the URL requests go to.
func (c *Client) Endpoint() string { return c.endpoint }

type request struct {
	Name           string `json:"Name"`
	WithDecryption bool   `json:"WithDecryption"`
}

type response struct {
	Parameter *struct {
		Name    *string `json:"Name"`
		Type    *string `json:"Type"`
		Value   *string `json:"Value"`
		Version int64   `json:"Version"`
		ARN     *string `json:"ARN"`
	} `json:"Parameter"`
}

// GetParameter reads one parameter. Its errors name the parameter and an
// error code (*Error), never a value.
func (c *Client) GetParameter(ctx context.Context, in *GetParameterInput) (*GetParameterOutput, error) {
	name := aws.ToString(in.Name)
	body, err := json.Marshal(request{Name: name, WithDecryption: aws.ToBool(in.WithDecryption)})
	if err != nil {
		return nil, &Error{Name: name, Code: "RequestEncoding"}
	}
	wait := c.backoff
	for attempt := 1; ; attempt++ {
		out, err, retry := c.once(ctx, name, body)
		if err == nil || !retry || attempt >= c.attempts {
			return out, err
		}
		d := wait/2 + rand.N(wait/2+1)
		wait *= 2
		select {
		case <-ctx.Done():
			return nil, &Error{Name: name, Code: "Canceled"}
		case <-time.After(d):
		}
	}
}

// once makes one attempt and says whether a failure is worth another.
func (c *Client) once(ctx context.Context, name string, body []byte) (*GetParameterOutput, error, bool) {
	fail := func(code string, status int, retry bool) (*GetParameterOutput, error, bool) {
		return nil, &Error{Name: name, Code: code, Status: status}, retry
	}
	if c.creds == nil {
		return fail("NoCredentials", 0, false)
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		// The provider's text may hold a path or a profile name, not a
		// secret, but nothing here needs it.
		return fail("CredentialsUnavailable", 0, false)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return fail("InvalidEndpoint", 0, false)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", c.region, c.now()); err != nil {
		return fail("SigningFailed", 0, false)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fail("Canceled", 0, false)
		}
		return fail("RequestFailed", 0, true)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fail("ResponseUnreadable", resp.StatusCode, true)
	}
	if resp.StatusCode != http.StatusOK {
		code := errorCode(resp.Header.Get("X-Amzn-Errortype"), data)
		return fail(code, resp.StatusCode, resp.StatusCode >= 500 || throttled(code))
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return fail("ResponseUnreadable", resp.StatusCode, false)
	}
	out := &GetParameterOutput{}
	if p := r.Parameter; p != nil {
		out.Parameter = &Parameter{Name: p.Name, Type: p.Type, Value: p.Value, Version: p.Version, ARN: p.ARN}
	}
	return out, nil, false
}

// errorCode is the error's code from the X-Amzn-ErrorType header or the body's
// __type (code, namespace#code, or either followed by ":..."); the body's
// message is not read.
func errorCode(header string, body []byte) string {
	code := header
	if code == "" {
		var e struct {
			Type string `json:"__type"`
			Code string `json:"code"`
		}
		_ = json.Unmarshal(body, &e)
		code = e.Type
		if code == "" {
			code = e.Code
		}
	}
	code = strings.TrimSpace(code)
	if len(code) > 200 || strings.ContainsAny(code, " \t\r\n\"") {
		return "UnknownError" // not a code: do not quote it
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" || strings.IndexFunc(code, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) >= 0 {
		return "UnknownError"
	}
	return code
}

func throttled(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
		"RequestThrottled", "RequestThrottledException", "ProvisionedThroughputExceededException":
		return true
	}
	return false
}
