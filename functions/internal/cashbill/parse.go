package cashbill

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// FieldError says, in words a POPBiLL customer can act on, what is wrong with
// one field of the body (Field is empty when the body as a whole is wrong).
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Problem
	}
	return fmt.Sprintf("field %q %s", e.Field, e.Problem)
}

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Parse reads and validates one webhook body. It accepts unknown fields and
// unknown eventType and stateCode values (they are recorded, not refused), and
// refuses only what cannot be stored safely: a body that is not one JSON
// object, or a key field that is missing or malformed.
func Parse(body []byte) (Event, error) {
	raw, err := decodeObject(body)
	if err != nil {
		return Event{}, err
	}
	p := parser{raw: raw}
	ev := Event{
		CorpNum:          p.optionalDigits("corpNum", 10),
		FranchiseCorpNum: p.optionalDigits("franchiseCorpNum", 10),
		ItemKey:          p.itemKey(),
		TradeDate:        p.optionalDate("tradeDate", "20060102"),
		ConfirmNum:       p.optionalString("confirmNum"),
		NTSSendDT:        p.optionalDate("ntssendDT", dateTimeLayout),
		NTSResultDT:      p.optionalDate("ntsresultDT", dateTimeLayout),
		NTSResultCode:    p.optionalString("ntsresultCode"),
		StateCode:        p.stateCode(),
		StateDT:          p.optionalDate("stateDT", dateTimeLayout),
		IssueDT:          p.optionalDate("issueDT", dateTimeLayout),
		MgtKey:           p.optionalString("mgtKey"),
		EventDT:          p.requiredDate("eventDT", dateTimeLayout),
		EventType:        p.requiredString("eventType"),
		InterOPYN:        p.optionalBool("interOPYN"),
	}
	if p.err == nil && ev.BusinessNumber() == "" {
		p.err = fieldErr("franchiseCorpNum", "is missing: the seller's 10-digit business registration number is required (franchiseCorpNum, or corpNum)")
	}
	if p.err != nil {
		return Event{}, p.err
	}
	return ev, nil
}

// dateTimeLayout is POPBiLL's yyyyMMddHHmmss, in KST.
const dateTimeLayout = "20060102150405"

func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	// A byte-order mark is not JSON, but a sender's editor may add one: drop it.
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 {
		return nil, &FieldError{Problem: "the request body is empty: expected one JSON object describing a cashbill event"}
	}
	if !utf8.Valid(trimmed) {
		return nil, &FieldError{Problem: "the request body is not valid UTF-8 text: expected one JSON object"}
	}
	if trimmed[0] != '{' {
		return nil, &FieldError{Problem: "the request body must be one JSON object (starting with '{'), not an array, string or number"}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, &FieldError{Problem: "the request body is not valid JSON (it may be truncated): " + jsonProblem(err)}
	}
	// More() misses a stray '}' or ']': only the end of input will do.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &FieldError{Problem: "the request body has data after the JSON object: send exactly one object"}
	}
	if key, dup := duplicateKey(trimmed); dup {
		return nil, fieldErr(Clip(key), "appears more than once in the body: send each field once")
	}
	return raw, nil
}

// duplicateKey finds a key that the object in body, already decoded, names
// twice. The decoder keeps the last value and other readers the first, so a
// duplicate could make one body mean two events. Nested objects are unknown
// fields, kept as they came: only the event's own keys are checked.
func duplicateKey(body []byte) (string, bool) {
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

// jsonProblem describes a decoding error without echoing the body.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends before the object is closed"
	}
	return "it could not be read as an object"
}

// parser validates fields one by one and keeps the first problem, so that the
// customer sees one clear sentence rather than a list.
type parser struct {
	raw map[string]json.RawMessage
	err error
}

func (p *parser) fail(e *FieldError) {
	if p.err == nil {
		p.err = e
	}
}

// str reads a field that must be a JSON string; null or absent yields ok=false.
func (p *parser) str(field string) (string, bool) {
	v, present := p.raw[field]
	if !present || string(v) == "null" {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		p.fail(fieldErr(field, "must be a text value in quotes, got %s", preview(v)))
		return "", false
	}
	return s, true
}

func (p *parser) optionalString(field string) string {
	s, _ := p.str(field)
	return s
}

func (p *parser) requiredString(field string) string {
	s, ok := p.str(field)
	if p.err == nil && (!ok || strings.TrimSpace(s) == "") {
		p.fail(fieldErr(field, "is missing or empty"))
	}
	return s
}

func (p *parser) itemKey() string {
	s, ok := p.str("itemKey")
	switch {
	case p.err != nil:
	case !ok || s == "":
		p.fail(fieldErr("itemKey", "is missing: POPBiLL's 18-digit cashbill id is required"))
	case len(s) != 18 || !allDigits(s):
		p.fail(fieldErr("itemKey", "must be exactly 18 digits, got %s", quote(s)))
	}
	return s
}

func (p *parser) optionalDigits(field string, n int) string {
	s, ok := p.str(field)
	if ok && s != "" && (len(s) != n || !allDigits(s)) {
		p.fail(fieldErr(field, "must be exactly %d digits with no dashes, got %s", n, quote(s)))
	}
	return s
}

func (p *parser) optionalDate(field, layout string) string {
	s, ok := p.str(field)
	if ok && s != "" {
		p.checkDate(field, layout, s)
	}
	return s
}

func (p *parser) requiredDate(field, layout string) string {
	s, ok := p.str(field)
	if p.err == nil && (!ok || s == "") {
		p.fail(fieldErr(field, "is missing: the time of the event (yyyyMMddHHmmss) is required"))
		return s
	}
	p.checkDate(field, layout, s)
	return s
}

func (p *parser) checkDate(field, layout, s string) {
	if len(s) != len(layout) || !allDigits(s) {
		p.fail(fieldErr(field, "must be %d digits in the form %s, got %s", len(layout), humanLayout(layout), quote(s)))
		return
	}
	if _, err := time.Parse(layout, s); err != nil {
		p.fail(fieldErr(field, "is not a real date and time (%s), got %s", humanLayout(layout), quote(s)))
	}
}

func humanLayout(layout string) string {
	if layout == dateTimeLayout {
		return "yyyyMMddHHmmss"
	}
	return "yyyyMMdd"
}

// stateCode accepts 305 and "305" alike: another POPBiLL service sends it as a string.
func (p *parser) stateCode() int {
	v, present := p.raw["stateCode"]
	if !present || string(v) == "null" {
		p.fail(fieldErr("stateCode", "is missing: the cashbill's 3-digit state code is required"))
		return 0
	}
	text := string(v)
	if len(v) > 0 && v[0] == '"' {
		if err := json.Unmarshal(v, &text); err != nil {
			p.fail(fieldErr("stateCode", "must be a 3-digit number, got %s", preview(v)))
			return 0
		}
		text = strings.TrimSpace(text)
	}
	n, err := strconv.Atoi(text)
	if err != nil || len(text) != 3 || n < 100 {
		p.fail(fieldErr("stateCode", "must be a 3-digit number such as 300, 304 or 305, got %s", preview(v)))
		return 0
	}
	return n
}

func (p *parser) optionalBool(field string) *bool {
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
			p.fail(fieldErr(field, "must be true or false, got %s", preview(v)))
			return nil
		}
	}
	return &b
}

// Clip cuts a caller-supplied value to 40 characters before an error message
// echoes it, so that a large or hostile value is not sent back whole, and
// shows each invalid byte, control or invisible format character in it as
// '?', so that the echo is one line of valid text.
func Clip(s string) string {
	const max = 40
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}

// preview shows a raw JSON value in an error message, clipped.
func preview(v json.RawMessage) string { return Clip(string(v)) }

func quote(s string) string {
	b, _ := json.Marshal(s)
	return preview(b)
}
