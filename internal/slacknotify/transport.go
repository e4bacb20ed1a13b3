package slacknotify

import (
	"bytes"
	"io"
	"net/http"
	"strings"
)

// response is what recordingTransport saw of the response to one attempt.
type response struct {
	status int
	text   string // the start of an error body, whitespace collapsed
}

type responseKey struct{}

// maxErrorText is how much of an error body is kept: Slack's webhook errors
// are one word (invalid_payload, no_service), its 5xx pages are HTML.
const maxErrorText = 200

// recordingTransport notes the status and the start of the body of each
// response to a request whose context carries a *response. slack-go reports
// the status but reads and drops the body, and the body is where Slack says
// what was wrong.
type recordingTransport struct{ base http.RoundTripper }

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	seen, ok := req.Context().Value(responseKey{}).(*response)
	if err != nil || !ok {
		return resp, err
	}
	seen.status = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorText))
		seen.text = strings.Join(strings.Fields(strings.ToValidUTF8(string(head), "?")), " ")
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	}
	return resp, nil
}
