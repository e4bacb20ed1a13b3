package cashbill

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file reads the body in one pass over its bytes, without reflection and
// without an allocation per field: encoding/json took about 100 allocations to
// decode a body into a map, and 200 more to find duplicate keys. It accepts
// exactly the JSON that encoding/json accepts and reports a syntax error at
// the same byte, which FuzzParseAgrees checks against the old parser.

// field is one of the event's own keys.
type field int

const (
	corpNum field = iota
	franchiseCorpNum
	itemKey
	tradeDate
	confirmNum
	ntssendDT
	ntsresultDT
	ntsresultCode
	stateCode
	stateDT
	issueDT
	mgtKey
	eventDT
	eventType
	interOPYN
	fieldCount
)

var fieldNames = [fieldCount]string{
	"corpNum", "franchiseCorpNum", "itemKey", "tradeDate", "confirmNum", "ntssendDT", "ntsresultDT",
	"ntsresultCode", "stateCode", "stateDT", "issueDT", "mgtKey", "eventDT", "eventType", "interOPYN",
}

func (f field) name() string { return fieldNames[f] }

// fieldNamed finds the field whose key is name, matched exactly as a Go map
// key would be; false for an unknown field.
func fieldNamed(name []byte) (field, bool) {
	for f, n := range fieldNames {
		if string(name) == n {
			return field(f), true
		}
	}
	return 0, false
}

// named is fieldNamed, trying the field after the last one found first.
func (fs *fields) named(name []byte) (field, bool) {
	if fs.next < fieldCount && string(name) == fieldNames[fs.next] {
		fs.next++
		return fs.next - 1, true
	}
	f, ok := fieldNamed(name)
	if ok {
		fs.next = f + 1
	}
	return f, ok
}

// fields holds the raw JSON value of each of the event's keys in the body (nil
// when absent), and the first key the body names twice.
type fields struct {
	value      [fieldCount][]byte
	unknown    map[string]bool // the other keys, made on the first one
	duplicated bool
	duplicate  string
	// next is the field after the last one found: POPBiLL sends the keys in
	// fieldNames' order, so the next key is usually it (one comparison).
	next field
}

func (fs *fields) add(key []byte, escaped bool, value []byte) {
	if fs.duplicated {
		return
	}
	if escaped {
		var b strings.Builder
		unquote(&b, key)
		key = []byte(b.String())
	}
	if f, ok := fs.named(key); ok {
		if fs.value[f] == nil {
			fs.value[f] = value
			return
		}
	} else if !fs.unknown[string(key)] {
		if fs.unknown == nil {
			fs.unknown = map[string]bool{}
		}
		fs.unknown[string(key)] = true
		return
	}
	fs.duplicated, fs.duplicate = true, string(key)
}

// decodeStrings decodes every string value of the event's fields into one
// allocation.
func (fs *fields) decodeStrings() [fieldCount]string {
	size := 0
	for _, v := range fs.value {
		if len(v) > 0 && v[0] == '"' {
			size += len(v) // a decoded string is never longer than its JSON
		}
	}
	var b strings.Builder
	b.Grow(size)
	var ends [fieldCount]int
	for f, v := range fs.value {
		if len(v) > 0 && v[0] == '"' {
			unquote(&b, v[1:len(v)-1])
		}
		ends[f] = b.Len()
	}
	all, start := b.String(), 0
	var text [fieldCount]string
	for f, end := range ends {
		text[f], start = all[start:end], end
	}
	return text
}

// unquote writes the text of the inside of a JSON string that the scanner
// accepted, the way encoding/json decodes it: a \u escape of a lone or
// mismatched UTF-16 surrogate becomes U+FFFD.
func unquote(b *strings.Builder, s []byte) {
	for i := 0; i < len(s); {
		plain := bytes.IndexByte(s[i:], '\\')
		if plain < 0 {
			b.Write(s[i:])
			return
		}
		b.Write(s[i : i+plain])
		i += plain
		switch s[i+1] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if pair := utf16.DecodeRune(r, hex4(s[i+2:])); pair != utf8.RuneError {
						r = pair
						i += 6
					}
				}
				if utf16.IsSurrogate(r) {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
			continue
		default: // " \ /
			b.WriteByte(s[i+1])
		}
		i += 2
	}
}

// hex4 reads the four hex digits the scanner checked.
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// maxDepth is encoding/json's limit on nested objects and arrays.
const maxDepth = 10000

// scanner checks the strict JSON grammar over data, byte by byte, and stops at
// the first byte that cannot stand where it is.
type scanner struct {
	data  []byte
	pos   int
	depth int
	top   fields // the outermost object's keys and values
}

// problem says where the JSON went wrong, once a scan failed, in the words
// the encoding/json parser used: the offset counts the bad byte.
func (s *scanner) problem() string {
	if s.pos >= len(s.data) {
		return "it ends before the object is closed"
	}
	return "syntax error at byte " + strconv.Itoa(s.pos+1)
}

func (s *scanner) at(c byte) bool { return s.pos < len(s.data) && s.data[s.pos] == c }

func (s *scanner) atDigit() bool {
	return s.pos < len(s.data) && '0' <= s.data[s.pos] && s.data[s.pos] <= '9'
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// value scans one value after optional white space.
func (s *scanner) value() bool {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return false
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		_, ok := s.string()
		return ok
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

func (s *scanner) enter() bool {
	s.depth++
	if s.depth > maxDepth {
		return false
	}
	s.pos++
	s.skipSpace()
	return true
}

// object scans an object at s.pos; the outermost one hands its keys and
// values to s.top.
func (s *scanner) object() bool {
	top := s.depth == 0
	if !s.enter() {
		return false
	}
	if s.at('}') {
		s.pos++
		s.depth--
		return true
	}
	for {
		if !s.at('"') {
			return false
		}
		keyStart := s.pos + 1
		escaped, ok := s.string()
		if !ok {
			return false
		}
		key := s.data[keyStart : s.pos-1]
		s.skipSpace()
		if !s.at(':') {
			return false
		}
		s.pos++
		s.skipSpace()
		valueStart := s.pos
		if !s.value() {
			return false
		}
		if top {
			s.top.add(key, escaped, s.data[valueStart:s.pos])
		}
		s.skipSpace()
		switch {
		case s.at(','):
			s.pos++
			s.skipSpace()
		case s.at('}'):
			s.pos++
			s.depth--
			return true
		default:
			return false
		}
	}
}

func (s *scanner) array() bool {
	if !s.enter() {
		return false
	}
	if s.at(']') {
		s.pos++
		s.depth--
		return true
	}
	for {
		if !s.value() {
			return false
		}
		s.skipSpace()
		switch {
		case s.at(','):
			s.pos++
		case s.at(']'):
			s.pos++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// string scans a string at s.pos and reports whether it holds an escape.
func (s *scanner) string() (escaped, ok bool) {
	s.pos++
	for {
		for s.pos < len(s.data) && s.data[s.pos] >= 0x20 && s.data[s.pos] != '"' && s.data[s.pos] != '\\' {
			s.pos++
		}
		switch {
		case s.at('"'):
			s.pos++
			return escaped, true
		case !s.at('\\'): // the end of the body, or a control character
			return false, false
		}
		escaped = true
		s.pos++
		switch {
		case s.pos < len(s.data) && strings.IndexByte(`"\\/bfnrt`, s.data[s.pos]) >= 0:
			s.pos++
		case s.at('u'):
			s.pos++
			for range 4 {
				if s.pos >= len(s.data) || !isHex(s.data[s.pos]) {
					return false, false
				}
				s.pos++
			}
		default:
			return false, false
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at s.pos.
func (s *scanner) number() bool {
	if s.at('-') {
		s.pos++
	}
	switch {
	case s.at('0'):
		s.pos++
	case s.atDigit():
		s.digits()
	default:
		return false
	}
	if s.at('.') {
		s.pos++
		if !s.atDigit() {
			return false
		}
		s.digits()
	}
	if s.at('e') || s.at('E') {
		s.pos++
		if s.at('+') || s.at('-') {
			s.pos++
		}
		if !s.atDigit() {
			return false
		}
		s.digits()
	}
	return true
}

func (s *scanner) digits() {
	for s.atDigit() {
		s.pos++
	}
}

func (s *scanner) literal(word string) bool {
	for i := range len(word) {
		if !s.at(word[i]) {
			return false
		}
		s.pos++
	}
	return true
}
