package ssmparam_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/popbill-cashbill-webhook/receiver/internal/ssmparam"
)

const (
	param  = "/popbill-webhook/prod/credential"
	secret = "popbill:hunter2-secret"
	region = "ap-northeast-2"
)

func awsConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "not-a-real-secret-key", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

func noEnv(string) string { return "" }

func get(t *testing.T, c *ssmparam.Client) (*ssmparam.GetParameterOutput, error) {
	t.Helper()
	return c.GetParameter(t.Context(), &ssmparam.GetParameterInput{Name: aws.String(param), WithDecryption: aws.Bool(true)})
}

// TestGetParameterSendsASignedJSON11Request checks the request SSM expects:
// the target, content type, JSON body, and a SigV4 signature for ssm in the
// configured region.
func TestGetParameterSendsASignedJSON11Request(t *testing.T) {
	var got struct {
		method, path, target, ctype, auth, date string
		body                                    map[string]any
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path = r.Method, r.URL.Path
		got.target, got.ctype = r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type")
		got.auth, got.date = r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date")
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got.body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = io.WriteString(w, `{"Parameter":{"Name":"`+param+`","Type":"SecureString","Value":"`+secret+`","Version":3,"ARN":"arn:aws:ssm:ap-northeast-2:123456789012:parameter`+param+`"}}`)
	}))
	defer srv.Close()

	out, err := get(t, ssmparam.New(awsConfig(srv.URL), noEnv))
	if err != nil {
		t.Fatal(err)
	}
	if out.Parameter == nil || aws.ToString(out.Parameter.Value) != secret || aws.ToString(out.Parameter.Name) != param || out.Parameter.Version != 3 {
		t.Errorf("Parameter = %+v, want %s holding the secret, version 3", out.Parameter, param)
	}
	checks := []struct{ what, got, want string }{
		{"method", got.method, http.MethodPost},
		{"path", got.path, "/"},
		{"X-Amz-Target", got.target, "AmazonSSM.GetParameter"},
		{"Content-Type", got.ctype, "application/x-amz-json-1.1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if got.body["Name"] != param || got.body["WithDecryption"] != true {
		t.Errorf("body = %v, want Name %s and WithDecryption true", got.body, param)
	}
	if !strings.HasPrefix(got.auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(got.auth, "/"+region+"/ssm/aws4_request") ||
		!strings.Contains(got.auth, "x-amz-target") || got.date == "" {
		t.Errorf("Authorization = %q (X-Amz-Date %q), want a SigV4 signature for ssm in %s covering x-amz-target", got.auth, got.date, region)
	}
}

// TestGetParameterErrorsNameTheParameterAndCodeOnly maps SSM's error answers
// to *Error: the code and the parameter's name, retried only when a retry can
// help, and never the service's message (which could echo anything).
func TestGetParameterErrorsNameTheParameterAndCodeOnly(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		header   string // X-Amzn-ErrorType
		body     string
		wantCode string
		attempts int32
		fault    smithy.ErrorFault
	}{
		{"a missing parameter", 400, "", `{"__type":"ParameterNotFound","message":"` + secret + `"}`, "ParameterNotFound", 1, smithy.FaultClient},
		{"access denied", 400, "", `{"__type":"com.amazon.coral.service#AccessDeniedException","Message":"User: arn:... is not authorized"}`, "AccessDeniedException", 1, smithy.FaultClient},
		{"a code in the header wins", 400, "ParameterNotFound:http://internal.amazon.com/", `{}`, "ParameterNotFound", 1, smithy.FaultClient},
		{"throttling is retried, then reported", 400, "", `{"__type":"ThrottlingException","message":"Rate exceeded"}`, "ThrottlingException", 3, smithy.FaultClient},
		{"a server error is retried, then reported", 500, "", `{"__type":"InternalServerError"}`, "InternalServerError", 3, smithy.FaultServer},
		{"a body that is not JSON", 502, "", `<html>` + secret + `</html>`, "UnknownError", 3, smithy.FaultServer},
		{"a code that is not a code", 400, "", `{"__type":"` + secret + ` with spaces"}`, "UnknownError", 1, smithy.FaultClient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if tc.header != "" {
					w.Header().Set("X-Amzn-ErrorType", tc.header)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()

			out, err := get(t, ssmparam.New(awsConfig(srv.URL), noEnv).WithRetry(3, 0))

			var e *ssmparam.Error
			if out != nil || !errors.As(err, &e) {
				t.Fatalf("GetParameter = %v, %v; want no output and an *ssmparam.Error", out, err)
			}
			if e.Code != tc.wantCode || e.Name != param || e.Status != tc.status {
				t.Errorf("error = %+v, want code %s, name %s, status %d", e, tc.wantCode, param, tc.status)
			}
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tc.wantCode || api.ErrorFault() != tc.fault {
				t.Errorf("as smithy.APIError: %v, want code %s, fault %v", api, tc.wantCode, tc.fault)
			}
			if msg := err.Error(); !strings.Contains(msg, param) || !strings.Contains(msg, tc.wantCode) || strings.Contains(msg, "hunter2") {
				t.Errorf("error text %q: want the parameter and the code, never the value", msg)
			}
			if calls.Load() != tc.attempts {
				t.Errorf("%d attempts, want %d", calls.Load(), tc.attempts)
			}
		})
	}
}

func TestGetParameterRetriesThrottlingUntilItSucceeds(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"__type":"ThrottlingException"}`)
			return
		}
		_, _ = io.WriteString(w, `{"Parameter":{"Value":"`+secret+`"}}`)
	}))
	defer srv.Close()
	out, err := get(t, ssmparam.New(awsConfig(srv.URL), noEnv).WithRetry(3, 0))
	if err != nil || aws.ToString(out.Parameter.Value) != secret || calls.Load() != 2 {
		t.Errorf("GetParameter = %v after %d calls, want the value on the second", err, calls.Load())
	}
}

func TestGetParameterWithoutAnAnswerSaysSo(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	cases := []struct {
		name string
		cfg  aws.Config
		want string
	}{
		{"no server", awsConfig(url), "RequestFailed"},
		{"no credentials", aws.Config{Region: region, BaseEndpoint: aws.String(url)}, "NoCredentials"},
		{"credentials that cannot be had", aws.Config{Region: region, BaseEndpoint: aws.String(url),
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{}, errors.New("profile " + secret + " not found")
			})}, "CredentialsUnavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := get(t, ssmparam.New(tc.cfg, noEnv).WithRetry(2, 0))
			var e *ssmparam.Error
			if !errors.As(err, &e) || e.Code != tc.want || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("GetParameter error = %v, want code %s without the secret", err, tc.want)
			}
		})
	}
}

// TestEndpoint follows the SDK's order: AWS_ENDPOINT_URL_SSM, then the
// configuration's BaseEndpoint (AWS_ENDPOINT_URL), then the regional endpoint.
func TestEndpoint(t *testing.T) {
	cases := []struct {
		name string
		base string
		env  map[string]string
		want string
	}{
		{"regional by default", "", nil, "https://ssm.ap-northeast-2.amazonaws.com"},
		{"AWS_ENDPOINT_URL through BaseEndpoint", "http://127.0.0.1:5055", nil, "http://127.0.0.1:5055"},
		{"AWS_ENDPOINT_URL_SSM first", "http://127.0.0.1:5055", map[string]string{"AWS_ENDPOINT_URL_SSM": "http://ssm.local:1"}, "http://ssm.local:1"},
		{"unless configured endpoints are ignored", "", map[string]string{"AWS_ENDPOINT_URL_SSM": "http://ssm.local:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "https://ssm.ap-northeast-2.amazonaws.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := aws.Config{Region: region}
			if tc.base != "" {
				cfg.BaseEndpoint = aws.String(tc.base)
			}
			if got := ssmparam.New(cfg, func(k string) string { return tc.env[k] }).Endpoint(); got != tc.want {
				t.Errorf("Endpoint() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestGetParameterSendsTheSessionToken: Lambda's credentials are temporary;
// without X-Amz-Security-Token SSM refuses the signature.
func TestGetParameterSendsTheSessionToken(t *testing.T) {
	cases := []struct {
		name, token string
	}{
		{"temporary credentials", "session-token-value"},
		{"long-term credentials", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			var signed bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Get("X-Amz-Security-Token")
				signed = strings.Contains(r.Header.Get("Authorization"), "x-amz-security-token")
				_, _ = io.WriteString(w, `{"Parameter":{"Value":"v"}}`)
			}))
			defer srv.Close()
			cfg := awsConfig(srv.URL)
			cfg.Credentials = credentials.NewStaticCredentialsProvider("ASIAEXAMPLE", "not-a-real-secret-key", tc.token)
			if _, err := get(t, ssmparam.New(cfg, noEnv)); err != nil {
				t.Fatal(err)
			}
			if got != tc.token || signed != (tc.token != "") {
				t.Errorf("X-Amz-Security-Token %q (signed: %v), want %q, signed when present", got, signed, tc.token)
			}
		})
	}
}
