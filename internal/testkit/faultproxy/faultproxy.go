// Package faultproxy is a test-support HTTP proxy that stands between the AWS
// SDK (its BaseEndpoint) and moto_server, and injects the faults a real
// deployment meets: a 500, a throttling error in the service's own protocol,
// an answer lost after the upstream committed the request, an answer held
// past the caller's deadline. Rules select requests by service and operation
// (X-Amz-Target for DynamoDB, the Action form field for SNS and other query
// services) and fire a set number of times, or with a probability drawn from
// a seeded generator so that a failing run can be replayed.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Action is what the proxy does with a request a rule selects.
type Action int

// The actions.
const (
	// Pass forwards the request and returns the upstream's answer.
	Pass Action = iota
	// ServerError answers 500 in the service's protocol without forwarding.
	ServerError
	// Throttle answers the service's throttling error without forwarding:
	// DynamoDB ThrottlingException (or Rule.Code, e.g.
	// ProvisionedThroughputExceededException) as JSON 1.0 with HTTP 400; SNS
	// Throttling as query-protocol XML with HTTP 400.
	Throttle
	// DropAfterCommit forwards the request, waits for the upstream's whole
	// answer (the change is committed), then closes the connection without
	// answering: the caller cannot tell whether it happened.
	DropAfterCommit
	// Hold forwards the request and holds the upstream's answer for
	// Rule.Hold, or until the caller gives up, before sending it.
	Hold
)

func (a Action) String() string {
	switch a {
	case Pass:
		return "pass"
	case ServerError:
		return "server-error"
	case Throttle:
		return "throttle"
	case DropAfterCommit:
		return "drop-after-commit"
	case Hold:
		return "hold"
	}
	return fmt.Sprintf("action-%d", int(a))
}

// Rule selects requests and says what to do with them. The first rule that
// selects a request and fires decides; a request no rule fires for passes.
type Rule struct {
	// Service is "dynamodb", "sns", ... as in the request's signing scope;
	// empty selects every service.
	Service string
	// Operation is the API operation ("UpdateItem", "Publish"); empty: any.
	Operation string
	// Match, when set, must also accept the request body (e.g. to tell the
	// alert claim's UpdateItem from the state write's).
	Match  func(body []byte) bool
	Action Action
	// Count is how many selected requests the rule fires for; 0: no limit.
	Count int
	// Probability, when above 0, is the chance that the rule fires for a
	// selected request, drawn from the proxy's seeded generator.
	Probability float64
	// Hold is how long a Hold action keeps the answer back.
	Hold time.Duration
	// Code overrides the error code of ServerError and Throttle.
	Code string
}

// Injection records one fault the proxy injected.
type Injection struct {
	Service, Operation string
	Action             Action
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	upstream *url.URL
	client   *http.Client
	srv      *httptest.Server

	mu        sync.Mutex
	rules     []Rule
	fired     []int
	rng       *rand.Rand
	injected  []Injection
	forwarded int
}

// New starts a proxy to upstream (e.g. the moto_server URL) with rules; seed
// drives the rules' probabilities.
func New(upstream string, seed uint64, rules ...Rule) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: upstream %q is not an http URL", upstream)
	}
	p := &Proxy{
		upstream: u,
		client:   &http.Client{Transport: &http.Transport{Proxy: nil}},
		rules:    rules,
		fired:    make([]int, len(rules)),
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	return p, nil
}

// URL is the address to give the SDK as its BaseEndpoint.
func (p *Proxy) URL() string { return p.srv.URL }

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

// Injected returns the faults injected so far, in order.
func (p *Proxy) Injected() []Injection {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Injection(nil), p.injected...)
}

// Forwarded is how many requests reached the upstream.
func (p *Proxy) Forwarded() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.forwarded
}

// Identify names the service and operation of an AWS request: the signing
// scope of its Authorization header gives the service, X-Amz-Target (JSON
// protocols) or the Action form field (query protocols) the operation.
func Identify(r *http.Request, body []byte) (service, operation string) {
	auth := r.Header.Get("Authorization")
	if i := strings.Index(auth, "Credential="); i >= 0 {
		scope := strings.Split(strings.SplitN(auth[i+len("Credential="):], ",", 2)[0], "/")
		if len(scope) == 5 {
			service = scope[3]
		}
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		prefix, op, _ := strings.Cut(t, ".")
		if service == "" && strings.HasPrefix(prefix, "DynamoDB") {
			service = "dynamodb"
		}
		return service, op
	}
	if form, err := url.ParseQuery(string(body)); err == nil {
		operation = form.Get("Action")
	}
	return service, operation
}

// decide picks the action for a request.
func (p *Proxy) decide(service, operation string, body []byte) (Rule, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, rule := range p.rules {
		if (rule.Service != "" && rule.Service != service) || (rule.Operation != "" && rule.Operation != operation) {
			continue
		}
		if rule.Match != nil && !rule.Match(body) {
			continue
		}
		if rule.Count > 0 && p.fired[i] >= rule.Count {
			continue
		}
		if rule.Probability > 0 && p.rng.Float64() >= rule.Probability {
			continue
		}
		p.fired[i]++
		if rule.Action != Pass {
			p.injected = append(p.injected, Injection{service, operation, rule.Action})
		}
		return rule, true
	}
	return Rule{}, false
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "faultproxy: read request: "+err.Error(), http.StatusBadGateway)
		return
	}
	service, operation := Identify(r, body)
	rule, _ := p.decide(service, operation, body)
	switch rule.Action {
	case ServerError, Throttle:
		writeError(w, service, rule)
		return
	}
	resp, respBody, err := p.forward(r, body)
	if err != nil {
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	switch rule.Action {
	case DropAfterCommit:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("faultproxy: the server cannot drop a connection")
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
		return
	case Hold:
		select {
		case <-time.After(rule.Hold):
		case <-r.Context().Done():
			return
		}
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}

// forward sends the request to the upstream and reads its whole answer.
func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, []byte, error) {
	u := *p.upstream
	u.Path, u.RawPath, u.RawQuery = r.URL.Path, r.URL.RawPath, r.URL.RawQuery
	// Not r.Context(): a request the caller abandons still reaches the
	// upstream whole, as it would reach AWS.
	out, err := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	out.Header = r.Header.Clone()
	out.Host = r.Host
	resp, err := p.client.Do(out)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	p.forwarded++
	p.mu.Unlock()
	return resp, b, nil
}

// writeError answers with the service's error in its own protocol.
func writeError(w http.ResponseWriter, service string, rule Rule) {
	status, code := http.StatusInternalServerError, rule.Code
	if rule.Action == Throttle {
		status = http.StatusBadRequest
	}
	if service == "dynamodb" {
		if code == "" {
			code = map[Action]string{ServerError: "InternalServerError", Throttle: "ThrottlingException"}[rule.Action]
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-Requestid", "faultproxy")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"injected by faultproxy"}`, code)
		return
	}
	if service == "events" { // EventBridge: JSON 1.1
		if code == "" {
			code = map[Action]string{ServerError: "InternalException", Throttle: "ThrottlingException"}[rule.Action]
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", "faultproxy")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"%s","message":"injected by faultproxy"}`, code)
		return
	}
	// SNS, SQS (query) and other XML services.
	kind := "Receiver"
	if code == "" {
		code = "InternalError"
		if rule.Action == Throttle {
			code, kind = "Throttling", "Sender"
		}
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", "faultproxy")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>%s</Type><Code>%s</Code><Message>injected by faultproxy</Message></Error><RequestId>faultproxy</RequestId></ErrorResponse>`, kind, code)
}
