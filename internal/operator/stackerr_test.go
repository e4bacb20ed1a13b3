package operator_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/operator"
)

// isolatedAWS points the SDK at nothing on this machine: no credentials
// files, no profile, no credentials in the environment, and an instance
// metadata service (IMDS) that answers 403 to its token request, which is
// what makes the SDK log "falling back to IMDSv1" on a workstation.
func isolatedAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	t.Cleanup(imds.Close)
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "",
		"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.URL, "AWS_ENDPOINT_URL": "",
		"AWS_ENDPOINT_URL_CLOUDFORMATION": "", "AWS_REGION": "ap-northeast-2", "AWS_DEFAULT_REGION": "",
		"AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}
}

// cloudFormation is an endpoint that answers every call with an AWS query
// protocol error.
func cloudFormation(t *testing.T, status int, code, message string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		io.WriteString(w, `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>`+
			code+`</Code><Message>`+message+`</Message></Error><RequestId>8c1f0e2a-request</RequestId></ErrorResponse>`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// captureStderr runs f with os.Stderr redirected, where the SDK's default
// logger writes, and returns what was written there.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	f()
	os.Stderr = saved
	w.Close()
	return <-done
}

// --stack names why it cannot read the stack, in one line, and the SDK's
// own warnings never reach the terminal. The SDK is the real one; the
// endpoints are local.
func TestStackErrorsNameTheirCause(t *testing.T) {
	for _, c := range []struct {
		name     string
		env      func(t *testing.T) map[string]string
		wantCode int
		want     string
	}{
		{"no credentials anywhere", func(t *testing.T) map[string]string { return nil },
			operator.ExitFailed, "no usable AWS credentials: set AWS_PROFILE"},
		{"no region", func(t *testing.T) map[string]string { return map[string]string{"AWS_REGION": ""} },
			operator.ExitFailed, "no AWS region: set AWS_REGION"},
		{"no network or endpoint", func(t *testing.T) map[string]string {
			return map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x", "AWS_ENDPOINT_URL": closedPort(t)}
		}, operator.ExitFailed, "could not reach CloudFormation DescribeStacks: no network, or a wrong AWS_REGION or AWS_ENDPOINT_URL"},
		{"access denied", func(t *testing.T) map[string]string {
			return map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
				"AWS_ENDPOINT_URL": cloudFormation(t, 403, "AccessDenied", "User: arn:aws:iam::123456789012:user/kim is not authorized")}
		}, operator.ExitFailed, "access denied to CloudFormation DescribeStacks (AccessDenied)"},
		{"credentials refused", func(t *testing.T) map[string]string {
			return map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
				"AWS_ENDPOINT_URL": cloudFormation(t, 403, "ExpiredToken", "The security token included in the request is expired")}
		}, operator.ExitFailed, "AWS refused the credentials (ExpiredToken)"},
		{"no such stack", func(t *testing.T) map[string]string {
			return map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
				"AWS_ENDPOINT_URL": cloudFormation(t, 400, "ValidationError", "Stack with id popbill-webhook-dev does not exist")}
		}, operator.ExitNotFound, "no stack popbill-webhook-dev in this account and region"},
	} {
		t.Run(c.name, func(t *testing.T) {
			isolatedAWS(t)
			for k, v := range c.env(t) {
				t.Setenv(k, v)
			}
			var code int
			var errOut string
			sdk := captureStderr(t, func() {
				code, _, errOut = run(t, "status", "--stack", "popbill-webhook-dev", "022122116191200001")
			})
			if code != c.wantCode || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, errOut, c.wantCode, c.want)
			}
			if strings.Count(errOut, "\n") != 1 || strings.Contains(errOut, "123456789012") || strings.Contains(errOut, "request") && strings.Contains(errOut, "8c1f") {
				t.Errorf("stderr %q, want one line without the SDK's text", errOut)
			}
			if sdk != "" {
				t.Errorf("the SDK wrote to the terminal: %q", sdk)
			}
		})
	}
}
