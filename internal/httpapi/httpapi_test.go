package httpapi_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/httpapi"
)

func TestRequestsAreShapedAsAPIGatewaySendsThem(t *testing.T) {
	cases := []struct {
		name     string
		body     string
		wantBody string
		base64   bool
	}{
		{"JSON text is passed as it is", `{"a":"한글"}`, `{"a":"한글"}`, false},
		{"bytes that are not UTF-8 are base64-encoded", "\xff\xfe{", base64.StdEncoding.EncodeToString([]byte("\xff\xfe{")), true},
		{"a body over the limit is cut one byte past it", strings.Repeat("x", 100), strings.Repeat("x", 65), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got events.APIGatewayV2HTTPRequest
			srv := httptest.NewServer(httpapi.Handler(func(_ context.Context, r events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				got = r
				return events.APIGatewayV2HTTPResponse{StatusCode: 201, Body: "done", Headers: map[string]string{"X-Out": "1"}}, nil
			}, 64))
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/pbconnect?x=1", strings.NewReader(tc.body))
			req.Header.Set("Pb-Webhook-MID", "m-1")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 201 || string(out) != "done" || resp.Header.Get("X-Out") != "1" {
				t.Errorf("response %d %q %v, want the handler's 201 done with its header", resp.StatusCode, out, resp.Header)
			}
			if got.Body != tc.wantBody || got.IsBase64Encoded != tc.base64 {
				t.Errorf("body %q base64=%v, want %q base64=%v", got.Body, got.IsBase64Encoded, tc.wantBody, tc.base64)
			}
			if got.Headers["pb-webhook-mid"] != "m-1" || got.RequestContext.HTTP.Method != "POST" ||
				got.RawPath != "/pbconnect" || got.RawQueryString != "x=1" || got.RequestContext.RequestID == "" ||
				got.RequestContext.HTTP.SourceIP != "127.0.0.1" {
				t.Errorf("request not shaped like API Gateway's: %+v", got)
			}
		})
	}
}

func TestRouteWildcardsArePathParametersAsAPIGatewayGivesThem(t *testing.T) {
	var got []events.APIGatewayV2HTTPRequest
	fn := func(_ context.Context, r events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		got = append(got, r)
		return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
	}
	mux := http.NewServeMux()
	mux.Handle("POST /pbconnect", httpapi.Handler(fn, 64))
	mux.Handle("POST /pbconnect/{token}", httpapi.Handler(fn, 64))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, path := range []string{"/pbconnect", "/pbconnect/abc_-1"} {
		resp, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if len(got) != 2 || got[0].PathParameters != nil || got[1].PathParameters["token"] != "abc_-1" {
		t.Fatalf("path parameters %v, want none for /pbconnect and token=abc_-1 for /pbconnect/{token}", got)
	}
}
