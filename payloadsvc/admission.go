package payloadsvc

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// Admission control for the codec routes. Each request reserves what it will hold
// (its body, then the payloads it encodes or decodes) from one budget shared by all
// requests, before it allocates it: a request that does not fit now is told to come
// back (503 with Retry-After), one that could never fit is refused (413), and the
// process never runs out of memory because many large requests arrived at once. The
// payloads are counted before any is built.

// unmarshalPayloads reads a codec request body, protojson temporal.api.common.v1.Payloads.
// DiscardUnknown: newer clients may send fields this build does not know.
var unmarshalPayloads = protojson.UnmarshalOptions{DiscardUnknown: true}

// valuesPerPayload bounds the JSON values (metadata entries and the like) a codec
// request may hold per payload it is allowed, so one payload's metadata map cannot
// balloon either.
const valuesPerPayload = 64

// admission reads a codec request's body within the caps, counts, parses and locates
// its payloads, reserving each step from the budget, and hands them down (admittedFrom)
// for as long as the request runs; it answers refusals itself.
type admission struct {
	next        http.Handler
	budget      *budget
	maxBody     int64         // Options.MaxCodecBodyBytes
	maxPayloads int           // Options.MaxPayloadsPerRequest
	maxBlob     int64         // Options.MaxBlobBytes
	readTimeout time.Duration // Options.BodyReadTimeout, named in its 408
	previews    previewPolicy // a decode with previews on holds no base64 of big payloads
}

func (a *admission) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res := &reservation{b: a.budget}
	defer res.release()
	data, ok := a.readBody(w, r, res)
	if !ok {
		return
	}
	in, ok := a.parse(w, r, data, res)
	if !ok {
		return
	}
	adm := &admitted{payloads: in}
	if !a.admit(w, r, adm, res) {
		return
	}
	a.next.ServeHTTP(w, withAdmitted(r, adm))
}

// readBody reads the body within MaxCodecBodyBytes. The buffer grows with the bytes that
// arrive (Content-Length is only a claim), and each step is reserved from the budget
// before it is read into.
func (a *admission) readBody(w http.ResponseWriter, r *http.Request, res *reservation) ([]byte, bool) {
	limit := a.maxBody
	if r.ContentLength > limit {
		writeError(w, r, http.StatusRequestEntityTooLarge, "request body of %d bytes is over the %d-byte limit", r.ContentLength, limit)
		return nil, false
	}
	data, err := io.ReadAll(&reservingReader{r: http.MaxBytesReader(w, r.Body, limit), res: res})
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, r, http.StatusRequestEntityTooLarge, "request body is over the %d-byte limit", limit)
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			writeError(w, r, http.StatusRequestTimeout, "the request body did not arrive within %s", a.readTimeout)
		} else if !refuse(w, r, err) {
			writeError(w, r, http.StatusBadRequest, "reading the request body failed")
		}
		return nil, false
	}
	return data, true
}

// parse counts the body's payloads and JSON values within the caps, reserves what the
// parser will allocate for them, then parses them.
func (a *admission) parse(w http.ResponseWriter, r *http.Request, data []byte, res *reservation) ([]*commonpb.Payload, bool) {
	maxPayloads, maxValues := a.maxPayloads, a.maxPayloads*valuesPerPayload
	shape := scanPayloads(data, maxPayloads, maxValues)
	switch {
	case shape.payloads > maxPayloads:
		writeError(w, r, http.StatusRequestEntityTooLarge,
			"request has over %d payloads, the limit per request (--max-payloads-per-request)", maxPayloads)
		return nil, false
	case shape.values > maxValues:
		writeError(w, r, http.StatusRequestEntityTooLarge,
			"request has over %d JSON values, the limit per request (%d per payload allowed)", maxValues, valuesPerPayload)
		return nil, false
	}
	if refuse(w, r, res.add("parsing the request", int64(shape.values+shape.payloads)*parseCostPerValue)) {
		return nil, false
	}
	ps, err := parsePayloads(data)
	if err != nil {
		// The parser quotes the body, which may be payload data: keep it out of the log.
		writeErrorLogged(w, r, http.StatusBadRequest, err.Error(), "malformed request body (details in the response only)")
		return nil, false
	}
	for i, p := range ps {
		if err := codec.CheckMetadata(p.GetMetadata()); err != nil { // the caps stored blobs have too
			writeError(w, r, http.StatusRequestEntityTooLarge, "payload %d: %v", i, err)
			return nil, false
		}
	}
	return ps, true
}

// admit reserves the bytes the codec will hold for the payloads: for encode, their
// serialized size (each must fit MaxBlobBytes, since it may become a blob); for decode,
// what each reference of any kind may hold once bounded (Locator.Bound: stored and
// decompressed bytes), and its answer. A claim is only ever a reason to refuse, never a
// size to allocate. A decode's Locate results are kept for the decode.
func (a *admission) admit(w http.ResponseWriter, r *http.Request, adm *admitted, res *reservation) bool {
	op := requestInfoFrom(r.Context()).rt.name
	var need int64
	if op == routeEncode {
		for i, p := range adm.payloads {
			n := int64(proto.Size(p))
			if n > a.maxBlob && !codec.IsReference(p) {
				writeError(w, r, http.StatusRequestEntityTooLarge,
					"payload %d is %d bytes serialized, over the %d-byte blob limit (--max-blob-bytes)", i, n, a.maxBlob)
				return false
			}
			need = satAdd(need, n)
		}
		return !refuse(w, r, res.add(op+" payloads", need))
	}
	c := codecFrom(r.Context())
	_, previews := a.previews.limit(r)
	adm.located = make([]located, len(adm.payloads))
	for i, p := range adm.payloads {
		l := &adm.located[i]
		l.loc, l.ok, l.err = c.Locate(p)
		// A reference the codec refuses (ErrInvalidReference) is refused before any read.
		if l.ok && l.err == nil {
			need = satAdd(need, decodeCost(l.loc, previews))
		}
	}
	return !refuse(w, r, res.add(op+" payloads", need))
}

// decodeCost is what decoding one reference may hold: its bounded stored and
// decompressed bytes and, unless previews are on, the answer's base64 of its data.
func decodeCost(loc codec.Locator, previews bool) int64 {
	n := loc.Bound()
	if !previews {
		n = satAdd(n, loc.RawSize/3*4+4)
	}
	return n
}

// parsePayloads reads a codec request body: protojson Payloads, unknown fields ignored.
func parsePayloads(data []byte) ([]*commonpb.Payload, error) {
	var ps commonpb.Payloads
	if err := unmarshalPayloads.Unmarshal(data, &ps); err != nil {
		return nil, fmt.Errorf("malformed request body: want protojson temporal.api.common.v1.Payloads: %v", err)
	}
	for i, p := range ps.Payloads {
		if p == nil {
			return nil, fmt.Errorf("malformed request body: payload %d is null", i)
		}
	}
	return ps.Payloads, nil
}
