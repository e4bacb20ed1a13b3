package webhook_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

// maxLoggedEcho is the longest a caller-supplied value may be in a log line:
// cashbill.Clip's 40 characters and its ellipsis.
const maxLoggedEcho = 41

func TestLogLineClipsEchoedValues(t *testing.T) {
	longMID := strings.Repeat("M", 8000)
	cases := []struct {
		name    string
		file    string
		fields  map[string]any
		headers map[string]string
		status  int
	}{
		{"the MID of an unauthenticated request", "07-missing-credentials.json", nil, map[string]string{"pb-webhook-mid": longMID}, 401},
		{"the MID of a request with a wrong Pb-Webhook-Type", "11-wrong-webhook-type.json", nil, map[string]string{"pb-webhook-mid": longMID}, 400},
		{"the MID of an accepted event", "01-issue-300.json", nil, map[string]string{"pb-webhook-mid": longMID}, 200},
		{"the eventType of an accepted event", "01-issue-300.json",
			map[string]any{"eventType": strings.Repeat("E", 8000)}, map[string]string{"pb-webhook-eventtype": ""}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLocal(t, nil)
			resp, err := l.h.Handle(context.Background(), sample(t, tc.file, tc.fields, tc.headers))
			if err != nil || resp.StatusCode != tc.status {
				t.Fatalf("Handle = %d, %v; want %d", resp.StatusCode, err, tc.status)
			}
			line := l.lastLog(t)
			for _, field := range []string{"mid", "eventType"} {
				v, _ := line[field].(string)
				if n := utf8.RuneCountInString(v); n > maxLoggedEcho {
					t.Errorf("logged %s has %d characters, want at most %d", field, n, maxLoggedEcho)
				}
			}
		})
	}
}
