package cashbill

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
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
	p := parser{raw: raw, text: raw.decodeStrings()}
	ev := Event{
		CorpNum:          p.optionalDigits(corpNum, 10),
		FranchiseCorpNum: p.optionalDigits(franchiseCorpNum, 10),
		ItemKey:          p.itemKey(),
		TradeDate:        p.optionalDate(tradeDate, dateLayout),
		ConfirmNum:       p.optionalString(confirmNum),
		NTSSendDT:        p.optionalDate(ntssendDT, dateTimeLayout),
		NTSResultDT:      p.optionalDate(ntsresultDT, dateTimeLayout),
		NTSResultCode:    p.optionalString(ntsresultCode),
		StateCode:        p.stateCode(),
		StateDT:          p.optionalDate(stateDT, dateTimeLayout),
		IssueDT:          p.optionalDate(issueDT, dateTimeLayout),
		MgtKey:           p.optionalString(mgtKey),
		EventDT:          p.requiredDate(eventDT),
		EventType:        p.requiredString(eventType),
		InterOPYN:        p.optionalBool(interOPYN),
	}
	if p.err == nil && ev.BusinessNumber() == "" {
		p.err = fieldErr("franchiseCorpNum", "is missing: the seller's 10-digit business registration number is required (franchiseCorpNum, or corpNum)")
	}
	if p.err != nil {
		return Event{}, p.err
	}
	return ev, nil
}

// POPBiLL's date and date-time forms, in KST, as the messages name them.
const (
	dateLayout     = "yyyyMMdd"
	dateTimeLayout = "yyyyMMddHHmmss"
)

// decodeObject checks that body is one JSON object with each of its keys once,
// and returns the raw values of the event's fields.
func decodeObject(body []byte) (fields, error) {
	// A byte-order mark is not JSON, but a sender's editor may add one: drop it.
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 {
		return fields{}, &FieldError{Problem: "the request body is empty: expected one JSON object describing a cashbill event"}
	}
	if !utf8.Valid(trimmed) {
		return fields{}, &FieldError{Problem: "the request body is not valid UTF-8 text: expected one JSON object"}
	}
	if trimmed[0] != '{' {
		return fields{}, &FieldError{Problem: "the request body must be one JSON object (starting with '{'), not an array, string or number"}
	}
	s := scanner{data: trimmed}
	if !s.object() {
		return fields{}, &FieldError{Problem: "the request body is not valid JSON (it may be truncated): " + s.problem()}
	}
	if s.pos != len(trimmed) {
		return fields{}, &FieldError{Problem: "the request body has data after the JSON object: send exactly one object"}
	}
	if s.top.duplicated {
		return fields{}, fieldErr(Clip(s.top.duplicate), "appears more than once in the body: send each field once")
	}
	return s.top, nil
}

// parser validates fields one by one and keeps the first problem, so that the
// customer sees one clear sentence rather than a list.
type parser struct {
	raw  fields
	text [fieldCount]string // the decoded string values
	err  error
}

func (p *parser) fail(e *FieldError) {
	if p.err == nil {
		p.err = e
	}
}

// str reads a field that must be a JSON string; null or absent yields ok=false.
func (p *parser) str(f field) (string, bool) {
	v := p.raw.value[f]
	if v == nil || string(v) == "null" {
		return "", false
	}
	if v[0] != '"' {
		p.fail(fieldErr(f.name(), "must be a text value in quotes, got %s", preview(v)))
		return "", false
	}
	return p.text[f], true
}

func (p *parser) optionalString(f field) string {
	s, _ := p.str(f)
	return s
}

func (p *parser) requiredString(f field) string {
	s, ok := p.str(f)
	if p.err == nil && (!ok || strings.TrimSpace(s) == "") {
		p.fail(fieldErr(f.name(), "is missing or empty"))
	}
	return s
}

func (p *parser) itemKey() string {
	s, ok := p.str(itemKey)
	switch {
	case p.err != nil:
	case !ok || s == "":
		p.fail(fieldErr("itemKey", "is missing: POPBiLL's 18-digit cashbill id is required"))
	case len(s) != 18 || !allDigits(s):
		p.fail(fieldErr("itemKey", "must be exactly 18 digits, got %s", quote(s)))
	}
	return s
}

func (p *parser) optionalDigits(f field, n int) string {
	s, ok := p.str(f)
	if ok && s != "" && (len(s) != n || !allDigits(s)) {
		p.fail(fieldErr(f.name(), "must be exactly %d digits with no dashes, got %s", n, quote(s)))
	}
	return s
}

func (p *parser) optionalDate(f field, layout string) string {
	s, ok := p.str(f)
	if ok && s != "" {
		p.checkDate(f, layout, s)
	}
	return s
}

func (p *parser) requiredDate(f field) string {
	s, ok := p.str(f)
	if p.err == nil && (!ok || s == "") {
		p.fail(fieldErr(f.name(), "is missing: the time of the event (yyyyMMddHHmmss) is required"))
		return s
	}
	p.checkDate(f, dateTimeLayout, s)
	return s
}

func (p *parser) checkDate(f field, layout, s string) {
	if len(s) != len(layout) || !allDigits(s) {
		p.fail(fieldErr(f.name(), "must be %d digits in the form %s, got %s", len(layout), layout, quote(s)))
		return
	}
	if !realDateTime(s) {
		p.fail(fieldErr(f.name(), "is not a real date and time (%s), got %s", layout, quote(s)))
	}
}

// realDateTime reports whether s, 8 or 14 digits, is a day of the proleptic
// Gregorian calendar (years 0000 to 9999), followed by a time from 000000 to
// 235959 when there are 14: what time.Parse accepts for the layout
// 20060102150405, without its cost.
func realDateTime(s string) bool {
	num := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	year, month, day := num(0)*100+num(2), num(4), num(6)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return false
	}
	return len(s) == 8 || num(8) < 24 && num(10) < 60 && num(12) < 60
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// stateCode accepts 305 and "305" alike: another POPBiLL service sends it as a string.
func (p *parser) stateCode() int {
	v := p.raw.value[stateCode]
	if v == nil || string(v) == "null" {
		p.fail(fieldErr("stateCode", "is missing: the cashbill's 3-digit state code is required"))
		return 0
	}
	text := v
	if v[0] == '"' {
		text = []byte(strings.TrimSpace(p.text[stateCode]))
	}
	if len(text) != 3 || !allDigits(string(text)) || text[0] == '0' {
		p.fail(fieldErr("stateCode", "must be a 3-digit number such as 300, 304 or 305, got %s", preview(v)))
		return 0
	}
	return int(text[0]-'0')*100 + int(text[1]-'0')*10 + int(text[2]-'0')
}

func (p *parser) optionalBool(f field) *bool {
	v := p.raw.value[f]
	if v == nil || string(v) == "null" || string(v) == `""` {
		return nil
	}
	// interOPYN is informational: a string "true" is read, anything else refused.
	var b bool
	switch strings.Trim(string(v), `"`) {
	case "true", "Y":
		b = true
	case "false", "N":
		b = false
	default:
		p.fail(fieldErr(f.name(), "must be true or false, got %s", preview(v)))
		return nil
	}
	return &b
}

// Clip cuts a caller-supplied value to 40 characters before an error message
// echoes it, so that a large or hostile value is not sent back whole, and
// shows each invalid byte, control or invisible format character in it as
// '?', so that the echo is one line of valid text.
func Clip(s string) string {
	const max = 40
	if len(s) <= max && printableASCII(s) {
		return s // the usual value: nothing to show as '?', nothing to cut
	}
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

// printableASCII reports whether s is only ASCII letters, digits, punctuation
// and spaces: no byte Clip would change.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// preview shows a raw JSON value in an error message, clipped.
func preview(v []byte) string { return Clip(string(v)) }

func quote(s string) string {
	b, _ := json.Marshal(s)
	return preview(b)
}
