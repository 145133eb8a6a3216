package payloadsvc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Admission control for the codec routes. Each request reserves what it will hold
// (its body, then the payloads it encodes or decodes) from one budget shared by all
// requests, before it allocates it: a request that does not fit now is told to come
// back (503 with Retry-After), one that could never fit is refused (413), and the
// process never runs out of memory because many large requests arrived at once.

// errBusy: the request would fit the budget, but not now.
var errBusy = errors.New("the service is busy with other codec requests")

// tooLargeError: the request could never fit.
type tooLargeError struct {
	what      string
	n, limit  int64
	limitName string
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%s: %d, over the limit of %d (%s)", e.what, e.n, e.limit, e.limitName)
}

// budget is a counting semaphore of bytes that never waits.
type budget struct {
	mu        sync.Mutex
	max, used int64
}

func newBudget(max int64) *budget { return &budget{max: max} }

// reservation is what one request holds of the budget; release returns all of it.
type reservation struct {
	b *budget
	n int64
}

// add reserves n more bytes for the request.
func (r *reservation) add(what string, n int64) error {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.n+n > b.max || n < 0 {
		return &tooLargeError{what: what + " (bytes in flight)", n: r.n + n, limit: b.max, limitName: "--max-inflight-bytes"}
	}
	if b.used+n > b.max {
		return errBusy
	}
	b.used += n
	r.n += n
	return nil
}

func (r *reservation) release() {
	r.b.mu.Lock()
	r.b.used -= r.n
	r.b.mu.Unlock()
	r.n = 0
}

// inUse reports the bytes reserved now, for tests and metrics.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// reservingReader reserves what it reads ahead of handing it out, in steps, so a body
// without Content-Length is bounded as it arrives.
type reservingReader struct {
	r        io.Reader
	res      *reservation
	read     int64
	reserved int64
}

const reserveStep = 64 << 10

func (rr *reservingReader) Read(p []byte) (int, error) {
	if rr.read+int64(len(p)) > rr.reserved {
		step := max(int64(len(p)), reserveStep)
		if err := rr.res.add("request body", step); err != nil {
			return 0, err
		}
		rr.reserved += step
	}
	n, err := rr.r.Read(p)
	rr.read += int64(n)
	return n, err
}

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
	var s bodyShape
	depth := 0
	inStr, esc := false, false
	keyStart, keyEnd := -1, -1 // last string closed at depth 1
	inPayloads, sawElem := false, false
	for i := 0; i < len(data) && s.payloads <= maxPayloads && s.values <= maxValues; i++ {
		c := data[i]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
				if depth == 1 {
					keyEnd = i
				}
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n', ':':
			continue
		case '"':
			inStr = true
			if depth == 1 {
				keyStart = i + 1
			}
		case '{', '[':
			if depth == 1 && c == '[' && keyStart >= 0 && isPayloadsKey(data[keyStart:max(keyEnd, keyStart)]) {
				inPayloads, sawElem = true, false
				depth++
				continue
			}
			depth++
			if inPayloads {
				s.values++
			}
		case '}', ']':
			depth--
			if inPayloads && depth == 1 {
				if sawElem {
					s.payloads++
				}
				inPayloads = false
			}
			continue
		case ',':
			if inPayloads {
				s.values++
				if depth == 2 {
					s.payloads++
				}
			}
			continue
		}
		if inPayloads && depth >= 2 {
			sawElem = true
		}
	}
	if inPayloads && sawElem {
		s.payloads++
	}
	return s
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
