package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archiveline"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// ArchiveClip is how much of a body the archive keeps when it keeps only
// the start: for a caller that did not authenticate (so a flood of forged
// requests cannot fill the table) and for a body over MaxBody. A cashbill
// event is shorter, so a refused one is still kept whole and replayable.
const ArchiveClip = 1 << 10

// archived header values are cut to this many bytes; at most maxHeaders are kept.
const (
	maxHeaderValue = 256
	maxHeaders     = 8
)

// Option configures a Handler beyond its required dependencies.
type Option func(*Handler)

// WithArchive records every delivery in rec, kept for retention (0: no expiry).
func WithArchive(rec archive.Recorder, retention time.Duration) Option {
	return func(h *Handler) { h.archive, h.retention = rec, retention }
}

// WithRequestLineArchive makes every request line its delivery's archive
// record (package logarchive): the line carries the archive's fields, and
// the request itself when the delivery was refused. No call is made: the
// line's log group is the archive.
func WithRequestLineArchive() Option {
	return func(h *Handler) { h.lineArchive = true }
}

// record archives the delivery once its answer is decided: on the request
// line, and in the recorder. A recorder's failure is never the caller's: it
// is counted on the request line (archive=failed, archiveCause) and the
// answer stands.
func (h *Handler) record(ctx context.Context, req events.APIGatewayV2HTTPRequest, r *invocation, received time.Time, status int, body string) {
	if h.archive == nil && !h.lineArchive {
		return
	}
	d := h.delivery(ctx, req, r, received, status, body)
	r.deliveryID = d.ID
	if h.lineArchive {
		r.archived = archiveline.Attrs(d)
		// The cashbill a refused body names, for lookups by cashbill.
		if r.itemKey == "" {
			r.itemKey = d.ItemKey
		}
	}
	if h.archive == nil {
		return
	}
	write, cancel := followUp(ctx, r.followUpBy)
	defer cancel()
	if err := h.archive.Record(write, d); err != nil {
		r.archive, r.archiveCause = archive.RecordFailed, cause(err)
		return
	}
	r.archive = archive.Recorded
}

func (h *Handler) delivery(ctx context.Context, req events.APIGatewayV2HTTPRequest, r *invocation, received time.Time, status int, body string) archive.Delivery {
	// The ID carries the receive time to the microsecond, so a record need
	// not keep it apart (logarchive keeps none).
	received = received.Truncate(time.Microsecond)
	d := archive.Delivery{
		ID: archive.NewID(received), ReceivedAt: received, Status: status, Outcome: r.outcome,
		SourceIP: clipText(req.RequestContext.HTTP.SourceIP), APIRequestID: r.id, Method: clipText(req.RequestContext.HTTP.Method),
		MID: clipText(r.mid), Headers: archivedHeaders(req.Headers), Body: []byte(req.Body), Base64: req.IsBase64Encoded,
		BodySize: len(req.Body),
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		d.RequestID = lc.AwsRequestID
	}
	if status != http.StatusOK {
		d.Reason = body
	}
	if h.retention > 0 {
		d.ExpiresAt = received.Add(h.retention)
	}
	d.Authenticated, d.Credential = authenticated(req, r)
	if r.business != "" {
		d.CorpNum = r.business // the address's business, also when it refused the event
	}
	if !d.Authenticated || status == http.StatusRequestEntityTooLarge {
		if len(d.Body) > ArchiveClip {
			d.Body, d.Truncated = d.Body[:ArchiveClip], true
		}
		return d
	}
	d.ItemKey, d.StateCode, d.EventType = r.itemKey, r.stateCode, clipText(r.eventType)
	about := aboutOf(req, r)
	if d.ItemKey == "" {
		d.ItemKey = about.ItemKey
	}
	d.CorpNum, d.MgtKey = about.corpNum(), about.MgtKey
	return d
}

// authenticated says whether the caller passed the source and credential
// checks, as handle found: verify runs only after the method and source
// checks passed, and records its result. It names the credential that
// matched when a rotation configures two, or the address's token.
func authenticated(req events.APIGatewayV2HTTPRequest, r *invocation) (bool, string) {
	if _, ok := tokenOf(req); ok {
		return tokenCredential(r)
	}
	return r.authenticated, r.credential
}

// about is what the archive indexes a delivery by, read leniently from a body
// the parser may have refused: each field only when it has its proper form.
type about struct {
	ItemKey, CorpNum, FranchiseCorpNum, MgtKey string
}

// aboutOf is r's when the event parsed, else what a lenient read of the
// body finds; either way each field only in its proper form.
func aboutOf(req events.APIGatewayV2HTTPRequest, r *invocation) about {
	if r.parsed {
		return r.about.inForm()
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return about{}
		}
		body = b
	}
	var a about
	// A field of another type only leaves that field empty.
	_ = json.Unmarshal(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")), &a)
	return a.inForm()
}

// inForm is a with an itemKey that is not 18 digits, or a mgtKey that is not
// 1 to 24 of A-Z, a-z, 0-9, _ and -, left empty.
func (a about) inForm() about {
	if len(a.ItemKey) != 18 || !only(a.ItemKey, func(c byte) bool { return '0' <= c && c <= '9' }) {
		a.ItemKey = ""
	}
	if len(a.MgtKey) > 24 || !only(a.MgtKey, func(c byte) bool {
		return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-'
	}) {
		a.MgtKey = ""
	}
	return a
}

// only reports whether s is not empty and every byte of it passes ok.
func only(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return s != ""
}

func (a about) corpNum() string {
	for _, n := range []string{a.FranchiseCorpNum, a.CorpNum} {
		if cashbill.IsBusinessNumber(n) {
			return n
		}
	}
	return ""
}

// archivedHeaders are POPBiLL's headers and Content-Type, lower-cased and
// clipped: never a credential, and never more than a few.
func archivedHeaders(in map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range in {
		k = strings.ToLower(k)
		if !strings.HasPrefix(k, "pb-webhook-") && k != "content-type" {
			continue
		}
		if len(out) == maxHeaders {
			break
		}
		out[clipText(k)] = clipText(v)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// clipText is s as valid UTF-8, cut to maxHeaderValue bytes on a rune boundary.
func clipText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxHeaderValue {
		return s
	}
	s = s[:maxHeaderValue]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
