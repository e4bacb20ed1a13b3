package cashbill_test

// This file keeps the parser as it was before the hand-written scanner:
// encoding/json decoding into a map, a second Decoder pass for duplicate keys,
// time.Parse for dates. It is the oracle of FuzzParseAgrees and the "before"
// of BenchmarkParse: Parse must accept what it accepts, with the same Event,
// and refuse what it refuses, with the same message.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

func oracleFieldErr(field, format string, args ...any) *cashbill.FieldError {
	return &cashbill.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

func oracleAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// oracleParse reads and validates one webhook body. It accepts unknown fields and
// unknown eventType and stateCode values (they are recorded, not refused), and
// refuses only what cannot be stored safely: a body that is not one JSON
// object, or a key field that is missing or malformed.
func oracleParse(body []byte) (cashbill.Event, error) {
	raw, err := oracleDecodeObject(body)
	if err != nil {
		return cashbill.Event{}, err
	}
	p := oracleParser{raw: raw}
	ev := cashbill.Event{
		CorpNum:          p.optionalDigits("corpNum", 10),
		FranchiseCorpNum: p.optionalDigits("franchiseCorpNum", 10),
		ItemKey:          p.itemKey(),
		TradeDate:        p.optionalDate("tradeDate", "20060102"),
		ConfirmNum:       p.optionalString("confirmNum"),
		NTSSendDT:        p.optionalDate("ntssendDT", oracleDateTimeLayout),
		NTSResultDT:      p.optionalDate("ntsresultDT", oracleDateTimeLayout),
		NTSResultCode:    p.optionalString("ntsresultCode"),
		StateCode:        p.stateCode(),
		StateDT:          p.optionalDate("stateDT", oracleDateTimeLayout),
		IssueDT:          p.optionalDate("issueDT", oracleDateTimeLayout),
		MgtKey:           p.optionalString("mgtKey"),
		EventDT:          p.requiredDate("eventDT", oracleDateTimeLayout),
		EventType:        p.requiredString("eventType"),
		InterOPYN:        p.optionalBool("interOPYN"),
	}
	if p.err == nil && ev.BusinessNumber() == "" {
		p.err = oracleFieldErr("franchiseCorpNum", "is missing: the seller's 10-digit business registration number is required (franchiseCorpNum, or corpNum)")
	}
	if p.err != nil {
		return cashbill.Event{}, p.err
	}
	return ev, nil
}

// oracleDateTimeLayout is POPBiLL's yyyyMMddHHmmss, in KST.
const oracleDateTimeLayout = "20060102150405"

func oracleDecodeObject(body []byte) (map[string]json.RawMessage, error) {
	// A byte-order mark is not JSON, but a sender's editor may add one: drop it.
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 {
		return nil, &cashbill.FieldError{Problem: "the request body is empty: expected one JSON object describing a cashbill event"}
	}
	if !utf8.Valid(trimmed) {
		return nil, &cashbill.FieldError{Problem: "the request body is not valid UTF-8 text: expected one JSON object"}
	}
	if trimmed[0] != '{' {
		return nil, &cashbill.FieldError{Problem: "the request body must be one JSON object (starting with '{'), not an array, string or number"}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, &cashbill.FieldError{Problem: "the request body is not valid JSON (it may be truncated): " + oracleJSONProblem(err)}
	}
	// More() misses a stray '}' or ']': only the end of input will do.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &cashbill.FieldError{Problem: "the request body has data after the JSON object: send exactly one object"}
	}
	if key, dup := oracleDuplicateKey(trimmed); dup {
		return nil, oracleFieldErr(cashbill.Clip(key), "appears more than once in the body: send each field once")
	}
	return raw, nil
}

// oracleDuplicateKey finds a key that the object in body, already decoded, names
// twice. The decoder keeps the last value and other readers the first, so a
// duplicate could make one body mean two events. Nested objects are unknown
// fields, kept as they came: only the event's own keys are checked.
func oracleDuplicateKey(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return "", false
		}
		if seen[key] {
			return key, true
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
}

// oracleJSONProblem describes a decoding error without echoing the body.
func oracleJSONProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends before the object is closed"
	}
	return "it could not be read as an object"
}

// oracleParser validates fields one by one and keeps the first problem, so that the
// customer sees one clear sentence rather than a list.
type oracleParser struct {
	raw map[string]json.RawMessage
	err error
}

func (p *oracleParser) fail(e *cashbill.FieldError) {
	if p.err == nil {
		p.err = e
	}
}

// str reads a field that must be a JSON string; null or absent yields ok=false.
func (p *oracleParser) str(field string) (string, bool) {
	v, present := p.raw[field]
	if !present || string(v) == "null" {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		p.fail(oracleFieldErr(field, "must be a text value in quotes, got %s", oraclePreview(v)))
		return "", false
	}
	return s, true
}

func (p *oracleParser) optionalString(field string) string {
	s, _ := p.str(field)
	return s
}

func (p *oracleParser) requiredString(field string) string {
	s, ok := p.str(field)
	if p.err == nil && (!ok || strings.TrimSpace(s) == "") {
		p.fail(oracleFieldErr(field, "is missing or empty"))
	}
	return s
}

func (p *oracleParser) itemKey() string {
	s, ok := p.str("itemKey")
	switch {
	case p.err != nil:
	case !ok || s == "":
		p.fail(oracleFieldErr("itemKey", "is missing: POPBiLL's 18-digit cashbill id is required"))
	case len(s) != 18 || !oracleAllDigits(s):
		p.fail(oracleFieldErr("itemKey", "must be exactly 18 digits, got %s", oracleQuote(s)))
	}
	return s
}

func (p *oracleParser) optionalDigits(field string, n int) string {
	s, ok := p.str(field)
	if ok && s != "" && (len(s) != n || !oracleAllDigits(s)) {
		p.fail(oracleFieldErr(field, "must be exactly %d digits with no dashes, got %s", n, oracleQuote(s)))
	}
	return s
}

func (p *oracleParser) optionalDate(field, layout string) string {
	s, ok := p.str(field)
	if ok && s != "" {
		p.checkDate(field, layout, s)
	}
	return s
}

func (p *oracleParser) requiredDate(field, layout string) string {
	s, ok := p.str(field)
	if p.err == nil && (!ok || s == "") {
		p.fail(oracleFieldErr(field, "is missing: the time of the event (yyyyMMddHHmmss) is required"))
		return s
	}
	p.checkDate(field, layout, s)
	return s
}

func (p *oracleParser) checkDate(field, layout, s string) {
	if len(s) != len(layout) || !oracleAllDigits(s) {
		p.fail(oracleFieldErr(field, "must be %d digits in the form %s, got %s", len(layout), oracleHumanLayout(layout), oracleQuote(s)))
		return
	}
	if _, err := time.Parse(layout, s); err != nil {
		p.fail(oracleFieldErr(field, "is not a real date and time (%s), got %s", oracleHumanLayout(layout), oracleQuote(s)))
	}
}

func oracleHumanLayout(layout string) string {
	if layout == oracleDateTimeLayout {
		return "yyyyMMddHHmmss"
	}
	return "yyyyMMdd"
}

// stateCode accepts 305 and "305" alike: another POPBiLL service sends it as a string.
func (p *oracleParser) stateCode() int {
	v, present := p.raw["stateCode"]
	if !present || string(v) == "null" {
		p.fail(oracleFieldErr("stateCode", "is missing: the cashbill's 3-digit state code is required"))
		return 0
	}
	text := string(v)
	if len(v) > 0 && v[0] == '"' {
		if err := json.Unmarshal(v, &text); err != nil {
			p.fail(oracleFieldErr("stateCode", "must be a 3-digit number, got %s", oraclePreview(v)))
			return 0
		}
		text = strings.TrimSpace(text)
	}
	n, err := strconv.Atoi(text)
	if err != nil || len(text) != 3 || n < 100 {
		p.fail(oracleFieldErr("stateCode", "must be a 3-digit number such as 300, 304 or 305, got %s", oraclePreview(v)))
		return 0
	}
	return n
}

func (p *oracleParser) optionalBool(field string) *bool {
	v, present := p.raw[field]
	if !present || string(v) == "null" || string(v) == `""` {
		return nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		// interOPYN is informational: a string "true" is read, anything else refused.
		switch strings.Trim(string(v), `"`) {
		case "true", "Y":
			b = true
		case "false", "N":
			b = false
		default:
			p.fail(oracleFieldErr(field, "must be true or false, got %s", oraclePreview(v)))
			return nil
		}
	}
	return &b
}

// preview shows a raw JSON value in an error message, clipped.
func oraclePreview(v json.RawMessage) string { return cashbill.Clip(string(v)) }

func oracleQuote(s string) string {
	b, _ := json.Marshal(s)
	return oraclePreview(b)
}
