package cashbill

import (
	"bytes"
	"encoding/json"
)

// Extra returns the top-level fields of body, a body Parse accepted, that
// Event does not name (stateMemo, ntsresultMessage, fields POPBiLL adds
// later), as one compact JSON object with its keys in order; nil when there
// are none, or when body is not one JSON object. Event and Extra together
// hold everything the body said: the state store keeps the two instead of
// the body itself.
func Extra(body []byte) json.RawMessage {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	s := scanner{data: trimmed}
	if len(trimmed) == 0 || trimmed[0] != '{' || !s.object() || s.top.unknown == nil {
		return nil // the usual body: one pass, no allocation
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(trimmed, &all) != nil {
		return nil
	}
	for _, n := range fieldNames {
		delete(all, n)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the values as sent, not re-escaped
	if enc.Encode(all) != nil {
		return nil
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
