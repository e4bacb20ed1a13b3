package cashbill_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// eventBodies are the webhook bodies of the API Gateway samples in events/,
// base64 decoded as the handler does, by file name.
func eventBodies(tb testing.TB) map[string][]byte {
	tb.Helper()
	files, err := filepath.Glob("../../events/*.json")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no sample events found (%v)", err)
	}
	bodies := map[string][]byte{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		var req struct {
			Body            *string `json:"body"`
			IsBase64Encoded bool    `json:"isBase64Encoded"`
			RouteKey        string  `json:"routeKey"`
		}
		if err := json.Unmarshal(b, &req); err != nil || req.Body == nil || req.RouteKey == "" {
			continue // not an API Gateway request (expected.json, env.json, SNS events)
		}
		body := []byte(*req.Body)
		if req.IsBase64Encoded {
			if body, err = base64.StdEncoding.DecodeString(*req.Body); err != nil {
				tb.Fatalf("%s: %v", file, err)
			}
		}
		bodies[filepath.Base(file)] = body
	}
	if len(bodies) < 5 {
		tb.Fatalf("only %d API Gateway bodies in events/", len(bodies))
	}
	return bodies
}

// assertAgrees checks that Parse and the encoding/json oracle read body the
// same way: both accept it with the same Event, or both refuse it with the
// same *FieldError (field and message).
func assertAgrees(t *testing.T, body []byte) {
	t.Helper()
	want, wantErr := oracleParse(body)
	got, err := cashbill.Parse(body)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("Parse(%q) = %+v, %v\noracle  = %+v, %v", body, got, err, want, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(%q) =\n%+v\noracle =\n%+v", body, got, want)
	}
	if err == nil {
		return
	}
	var fe, wantFE *cashbill.FieldError
	if !errors.As(err, &fe) || !errors.As(wantErr, &wantFE) {
		t.Fatalf("Parse(%q): errors %T and %T, want *cashbill.FieldError", body, err, wantErr)
	}
	if *fe != *wantFE {
		t.Errorf("Parse(%q) refuses with\n%q (field %q)\noracle says\n%q (field %q)", body, fe, fe.Field, wantFE, wantFE.Field)
	}
}

// agreementSeeds are bodies at the edges of what the parsers must agree on.
func agreementSeeds(tb testing.TB) [][]byte {
	seeds := [][]byte{
		[]byte(issueSample), []byte(ntsSample), []byte("\xef\xbb\xbf" + issueSample), []byte(issueSample + "\u00a0"),
		[]byte(`{}`), []byte(`[]`), []byte(`{"a":[{"b":[]},{}],"c":-0.5e+7}`), []byte(`{"a" : tru}`), []byte(`{"a":01}`),
		[]byte(`{"a":"\u`), []byte(`{"a":"\x"}`), []byte(`{"a":1,}`), []byte(`{"a":[1,]}`), []byte(`{"a":"` + "\t" + `"}`),
		[]byte(strings.Repeat("[", 10002)), []byte(`{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`),
		with("itemKey", `"\u0030\u0032\u0032122116193800001"`), with("mgtKey", `"\ud83d\ude00\ud800\u0041\udc00"`),
		with("state\\u0043ode", `305`), with("stateCode", `" 305"`), with("stateCode", `"\u0033\u0030\u0035"`),
		with("interOPYN", `"Y"`), with("interOPYN", `""`), with("interOPYN", `"\u0059"`), with("interOPYN", `[true]`),
		with("eventDT", `"00000229000000"`), with("eventDT", `"21000229000000"`), with("tradeDate", `"20230431"`),
		with("eventType", `"\u00a0"`), with("extra", `{"stateCode":1}`, "extra2", `null`), with("x", `1`, "x\u0000", `2`),
	}
	for _, body := range eventBodies(tb) {
		seeds = append(seeds, body)
	}
	return seeds
}

func TestParseAgreesWithEncodingJSONOnTheSeeds(t *testing.T) {
	for _, body := range agreementSeeds(t) {
		assertAgrees(t, body)
	}
}

// FuzzParseAgrees is the differential test of Parse against the encoding/json
// oracle that it replaced: for any body, the same verdict, Event and message.
func FuzzParseAgrees(f *testing.F) {
	for _, seed := range agreementSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		assertAgrees(t, body)
	})
}
