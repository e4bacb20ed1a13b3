package config

import (
	"fmt"
	"strings"
)

// The observability settings, read by the webhook and the sweeper.
const (
	MetricsNamespace = "METRICS_NAMESPACE"
	Tracing          = "TRACING"
)

// ObservabilityVariables are documented in both functions' tables.
var ObservabilityVariables = []Variable{
	{Name: MetricsNamespace, Doc: "CloudWatch namespace of the metrics written into the log lines (Embedded Metric Format). Empty writes none (make run). The template sets its `MetricsNamespace` parameter, default `PopbillWebhook`."},
	{Name: Tracing, Doc: "`Active` instruments the AWS SDK clients for X-Ray (the template's `Tracing` parameter); anything else, or empty, leaves them uninstrumented."},
}

// Observability is what the functions emit besides their answers.
type Observability struct {
	// Namespace of the EMF metrics; "" emits none.
	Namespace string
	// Tracing: the SDK clients are instrumented for X-Ray.
	Tracing bool
	// Daemon is AWS_XRAY_DAEMON_ADDRESS, which Lambda sets when tracing is
	// Active (like AWS_REGION, never the template); "" for the default.
	Daemon string
}

// XRayDaemonAddress is set by the Lambda runtime, not by the template.
const XRayDaemonAddress = "AWS_XRAY_DAEMON_ADDRESS"

// isNamespace reports whether ns has CloudWatch's namespace form: 1 to 255
// of letters, digits and . - _ / # : space. (A regexp with {1,255} compiles
// into 255 copies of its class: 0.6 ms of every cold start.)
func isNamespace(ns string) bool {
	if len(ns) < 1 || len(ns) > 255 {
		return false
	}
	for _, c := range []byte(ns) {
		ok := c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || strings.IndexByte(".-_/#: ", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// ReadObservability reads METRICS_NAMESPACE and TRACING.
func ReadObservability(getenv func(string) string) (Observability, error) {
	var o Observability
	ns := strings.TrimSpace(getenv(MetricsNamespace))
	if ns != "" && (!isNamespace(ns) || strings.HasPrefix(ns, "AWS/")) {
		return o, fmt.Errorf("%s must be a CloudWatch namespace (letters, digits and . - _ / # : space, at most 255, not starting with AWS/), got %q", MetricsNamespace, ns)
	}
	o.Namespace = ns
	o.Tracing = strings.EqualFold(strings.TrimSpace(getenv(Tracing)), "Active")
	o.Daemon = strings.TrimSpace(getenv(XRayDaemonAddress))
	return o, nil
}
