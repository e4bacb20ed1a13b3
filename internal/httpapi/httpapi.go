// Package httpapi serves a Lambda handler for API Gateway HTTP API (payload
// format 2.0) over plain net/http, shaping requests as API Gateway does
// (lower-case headers, base64 for bodies that are not UTF-8 text), so that the
// local server runs exactly the code the Lambda runs.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Func is a Lambda handler for HTTP API events.
type Func func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Handler serves fn. Bodies are read up to maxBody+1 bytes so that fn sees,
// and refuses, anything over its limit without the server reading it all.
func Handler(fn Func, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			http.Error(w, "the request body could not be read", http.StatusBadRequest)
			return
		}
		resp, err := fn(r.Context(), request(r, body))
		if err != nil {
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(resp.StatusCode)
		out := []byte(resp.Body)
		if resp.IsBase64Encoded {
			out, _ = base64.StdEncoding.DecodeString(resp.Body)
		}
		_, _ = w.Write(out)
	})
}

func request(r *http.Request, body []byte) events.APIGatewayV2HTTPRequest {
	headers := make(map[string]string, len(r.Header))
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	req := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       r.Method + " " + r.URL.Path,
		RawPath:        r.URL.Path,
		RawQueryString: r.URL.RawQuery,
		Headers:        headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: newRequestID(),
			TimeEpoch: time.Now().UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto,
				SourceIP: ip, UserAgent: r.UserAgent(),
			},
		},
		Body: string(body),
	}
	req.PathParameters = pathParameters(r)
	if !utf8.Valid(body) {
		req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return req
}

// newRequestID stands in for API Gateway's request id.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "local-" + hex.EncodeToString(b[:])
}

// pathParameters are the values of the route pattern's wildcards, as API
// Gateway gives a route's {name} parameters; nil when it has none.
func pathParameters(r *http.Request) map[string]string {
	var out map[string]string
	for _, seg := range strings.Split(r.Pattern, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			name = strings.TrimSuffix(strings.TrimSuffix(name, "}"), "...")
			if name == "$" {
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			out[name] = r.PathValue(name)
		}
	}
	return out
}
