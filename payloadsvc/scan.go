package payloadsvc

import (
	"bytes"
	"encoding/json"
)

// parseCostPerValue is about what protojson allocates for one JSON value of a
// Payloads body (a payload, a metadata entry), beyond the bytes it copies.
const parseCostPerValue = 128

// bodyShape is what scanPayloads learns of a codec request body without parsing it.
type bodyShape struct {
	payloads int // elements of the top-level "payloads" array(s)
	values   int // JSON values inside them, roughly: brackets and commas
}

// scanPayloads counts the payloads of a protojson Payloads body in one pass without
// allocating, stopping once over maxPayloads or maxValues. For valid JSON the payload
// count is exact; for anything else it is what the parser would have built before
// failing, or more.
func scanPayloads(data []byte, maxPayloads, maxValues int) bodyShape {
	s := payloadScanner{data: data, keyStart: -1, keyEnd: -1}
	for i := 0; i < len(data) && s.payloads <= maxPayloads && s.values <= maxValues; i++ {
		i = s.step(i)
	}
	if s.inPayloads && s.sawElem {
		s.payloads++
	}
	return s.bodyShape
}

// payloadScanner is scanPayloads' state between bytes.
type payloadScanner struct {
	bodyShape
	data                []byte
	depth               int
	keyStart, keyEnd    int // the last string closed at depth 1
	inPayloads, sawElem bool
}

// step reads the JSON token at data[i] and returns the index of its last byte.
func (s *payloadScanner) step(i int) int {
	c := s.data[i]
	switch c {
	case ' ', '\t', '\r', '\n', ':':
		return i
	case '"':
		if s.depth == 1 {
			s.keyStart = i + 1
		}
		i = s.skipString(i + 1)
	case '{', '[':
		if s.depth == 1 && c == '[' && s.keyStart >= 0 && isPayloadsKey(s.data[s.keyStart:max(s.keyEnd, s.keyStart)]) {
			s.inPayloads, s.sawElem = true, false
			s.depth++
			return i
		}
		s.depth++
		if s.inPayloads {
			s.values++
		}
	case '}', ']':
		s.depth--
		if s.inPayloads && s.depth == 1 {
			if s.sawElem {
				s.payloads++
			}
			s.inPayloads = false
		}
		return i
	case ',':
		if s.inPayloads {
			s.values++
			if s.depth == 2 {
				s.payloads++
			}
		}
		return i
	}
	if s.inPayloads && s.depth >= 2 {
		s.sawElem = true
	}
	return i
}

// skipString returns the index of the quote that closes the string starting at
// data[i] (len(data) if none does), noting where a key at depth 1 ends.
func (s *payloadScanner) skipString(i int) int {
	for ; i < len(s.data); i++ {
		switch s.data[i] {
		case '\\':
			i++ // the escaped byte
		case '"':
			if s.depth == 1 {
				s.keyEnd = i
			}
			return i
		}
	}
	return i
}

// isPayloadsKey reports whether a raw JSON string is "payloads", escapes decoded.
func isPayloadsKey(raw []byte) bool {
	if bytes.Equal(raw, []byte("payloads")) {
		return true
	}
	if bytes.IndexByte(raw, '\\') < 0 || len(raw) > 64 {
		return false
	}
	var k string
	return json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &k) == nil && k == "payloads"
}
